"""oxl-opnsense-client 26.1.11 (the Python client of the ansibleguy/O-X-L OPNsense modules) driving the
OPNsense simulator through its `rule` module: a rule is created (and applied), the same module run again
reports it unchanged, a changed description updates it, then `state: absent` removes it. The client
reads rules with `GET /api/firewall/filter/get` (the whole model, option maps) and writes with the
snake_case routes (`add_rule`, `set_rule`, `del_rule`, `apply`). TLS is verified with `ssl_ca_file`."""

from conformance import CA, CREDENTIALS, HOST, PORT, check, checkpoint, step
from oxl_opnsense_client import Client

client = Client(
    firewall=HOST,
    port=PORT,
    token=CREDENTIALS["key"],
    secret=CREDENTIALS["secret"],
    ssl_ca_file=CA,
    api_timeout=10.0,
    shell=False,
)

RULE = {
    "match_fields": ["description"],
    "description": "sdk-oxl web",
    "action": "pass",
    "interface": ["lan"],
    "protocol": "TCP",
    "source_net": "10.1.0.0/24",
    "destination_net": "any",
    "destination_port": "443",
    "log": True,
    "reload": True,
}


def run(params):
    def call():
        answer = client.run_module("rule", params=params)
        check(answer["error"] is None, "module failed: %s" % answer["error"])
        return {"changed": answer["result"]["changed"], "diff": answer["result"]["diff"]}

    return call


step("is_opnsense", lambda: check(client.is_opnsense(), "GET / does not look like OPNsense") or True)
step("create", run(RULE))
checkpoint("created")
step("second run", run(RULE))
step("update description", run({**RULE, "match_fields": ["source_net"], "description": "sdk-oxl web v2"}))
checkpoint("updated")
step("remove", run({**RULE, "description": "sdk-oxl web v2", "state": "absent"}))
checkpoint("removed")
