"""pyopnsense 0.4.0's FirewallClient driving the OPNsense simulator: searchRule, getRule, toggleRule
(disable, enable) and apply, on a rule an administrator made. TLS is verified against the simulator's
CA (`verify_cert` takes a path)."""

import os

from conformance import CA, CREDENTIALS, URL, check, checkpoint, step
from pyopnsense.firewall import FirewallClient

client = FirewallClient(CREDENTIALS["key"], CREDENTIALS["secret"], URL + "/api", verify_cert=CA, timeout=10)
uuid = os.environ["RULE_UUID"]

step("get_automation_rules", lambda: client.get_automation_rules())
step("get_rule_status", lambda: client.get_rule_status(uuid))
step("toggle_rule (off)", lambda: client.toggle_rule(uuid))
checkpoint("disabled")
step("toggle_rule (on)", lambda: client.toggle_rule(uuid))
step("apply_rules", lambda: client.apply_rules())
checkpoint("applied")
