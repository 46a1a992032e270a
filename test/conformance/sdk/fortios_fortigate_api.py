"""fortigate-api 2.0.8 driving the FortiOS simulator, once with a REST API token and once with an
administrator's session (POST /logincheck, then the ccsrftoken cookie echoed as X-CSRFTOKEN): list the
VDOMs, create two policies, get one by filter, move one before the other, delete them, log out.
TLS: the SDK's `verify` is a boolean; with True, requests verifies against REQUESTS_CA_BUNDLE."""

import os

from conformance import CA, CREDENTIALS, HOST, PORT, check, checkpoint, step

os.environ["REQUESTS_CA_BUNDLE"] = CA
from fortigate_api import FortiGateAPI  # noqa: E402

mode = os.environ["SDK_MODE"]
if mode == "token":
    api = FortiGateAPI(host=HOST, port=PORT, token=CREDENTIALS["token"], verify=True)
else:
    api = FortiGateAPI(
        host=HOST, port=PORT, username=CREDENTIALS["username"], password=CREDENTIALS["password"], verify=True
    )


def expect_ok(response):
    check(response.ok, "HTTP %s: %s" % (response.status_code, response.text[:500]))
    return response.json()


step("login", lambda: api.login())


def vdoms():
    names = [v["name"] for v in api.cmdb.system.vdom.get()]
    check(names, "no VDOM listed (the SDK turns an error into an empty list)")
    return names


step("vdoms", vdoms)

POLICY = {
    "srcintf": [{"name": "port1"}],
    "dstintf": [{"name": "port2"}],
    "srcaddr": [{"name": "all"}],
    "dstaddr": [{"name": "all"}],
    "action": "accept",
    "schedule": "always",
    "service": [{"name": "HTTPS"}],
    "logtraffic": "all",
}
first = step(
    "create first",
    lambda: expect_ok(api.cmdb.firewall.policy.create({**POLICY, "name": "sdk-%s-first" % mode}))["mkey"],
)
second = step(
    "create second",
    lambda: expect_ok(api.cmdb.firewall.policy.create({**POLICY, "name": "sdk-%s-second" % mode}))["mkey"],
)
checkpoint("created")


def get_by_filter():
    found = api.cmdb.firewall.policy.get(filter="name==sdk-%s-second" % mode)
    check(len(found) == 1, "found %r" % found)
    return {"policyid": found[0]["policyid"], "name": found[0]["name"], "action": found[0]["action"]}


step("get by filter", get_by_filter)
step("is_exist", lambda: check(api.cmdb.firewall.policy.is_exist(first), "policy %s not found" % first))
step("move second before first", lambda: expect_ok(api.cmdb.firewall.policy.move(second, "before", first)))
checkpoint("moved")
step("delete first", lambda: expect_ok(api.cmdb.firewall.policy.delete(first)))
step("delete second by filter", lambda: expect_ok(api.cmdb.firewall.policy.delete(filter="name==sdk-%s-second" % mode)))
step("get after delete", lambda: [p["name"] for p in api.cmdb.firewall.policy.get() if p["name"].startswith("sdk-")])
checkpoint("deleted")
step("logout", lambda: api.logout())
