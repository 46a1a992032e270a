"""fortiosapi 1.0.5 driving the FortiOS simulator, with tokenlogin and with login (POST /logincheck
with ajax=1, the ccsrftoken cookie's value echoed as X-CSRFTOKEN): create two policies (POST without
Content-Type), get by filter, move, delete, log out. TLS is verified against the simulator's CA."""

import os

from conformance import CA, CREDENTIALS, HOST, PORT, check, checkpoint, step
from fortiosapi import FortiOSAPI

mode = os.environ["SDK_MODE"]
fgt = FortiOSAPI()
target = "%s:%s" % (HOST, PORT)
if mode == "token":
    step("tokenlogin", lambda: fgt.tokenlogin(target, CREDENTIALS["token"], verify=CA, vdom="root"))
else:
    step("login", lambda: fgt.login(target, CREDENTIALS["username"], CREDENTIALS["password"], verify=CA, vdom="root"))
step("get_version", lambda: fgt.get_version())


def expect_success(answer):
    check(isinstance(answer, dict) and answer.get("status") == "success", "answer %r" % (answer,))
    return answer


step("vdoms", lambda: [v["name"] for v in expect_success(fgt.get("system", "vdom", vdom="root"))["results"]])

POLICY = {
    "srcintf": [{"name": "port3"}],
    "dstintf": [{"name": "port4"}],
    "srcaddr": [{"name": "all"}],
    "dstaddr": [{"name": "all"}],
    "action": "deny",
    "schedule": "always",
    "service": [{"name": "ALL"}],
}
first = step("post first", lambda: expect_success(fgt.post("firewall", "policy", {**POLICY, "name": "fosapi-%s-1" % mode}, vdom="root"))["mkey"])
second = step("post second", lambda: expect_success(fgt.post("firewall", "policy", {**POLICY, "name": "fosapi-%s-2" % mode}, vdom="root"))["mkey"])
checkpoint("created")


def get_by_filter():
    answer = expect_success(fgt.get("firewall", "policy", vdom="root", parameters={"filter": "name==fosapi-%s-2" % mode}))
    check(len(answer["results"]) == 1, "results %r" % answer["results"])
    return {"policyid": answer["results"][0]["policyid"], "name": answer["results"][0]["name"]}


step("get by filter", get_by_filter)
step("move", lambda: expect_success(fgt.move("firewall", "policy", vdom="root", mkey=second, where="before", reference_key=first, parameters={})))
checkpoint("moved")
step("delete first", lambda: expect_success(fgt.delete("firewall", "policy", vdom="root", mkey=first)))
step("delete second", lambda: expect_success(fgt.delete("firewall", "policy", vdom="root", mkey=second)))
checkpoint("deleted")
step("logout", lambda: fgt.logout())
