"""pan-python's PanXapi (0.17.0, pinned by pan-os-python, or 0.26.0 with PYTHONPATH set by the test)
driving the PAN-OS simulator: keygen, `show system info`, a rule `set` on the parent xpath, `get`,
a synchronous commit, delete, commit. TLS is verified against the simulator's CA (ssl_context)."""

import ssl
import xml.etree.ElementTree as ET

import pan
import pan.xapi
from conformance import CA, CREDENTIALS, HOST, PORT, check, checkpoint, step

RULES = "/config/devices/entry[@name='localhost.localdomain']/vsys/entry[@name='vsys1']/rulebase/security/rules"
ELEMENT = (
    "<entry name='sdk-pan-python'><from><member>trust</member></from><to><member>untrust</member></to>"
    "<source><member>10.20.0.0/24</member></source><destination><member>any</member></destination>"
    "<service><member>application-default</member></service>"
    "<application><member>ssl</member></application><action>deny</action></entry>"
)

context = ssl.create_default_context(cafile=CA)
xapi = pan.xapi.PanXapi(
    api_username=CREDENTIALS["username"],
    api_password=CREDENTIALS["password"],
    hostname=HOST,
    port=PORT,
    ssl_context=context,
)


def ok(fn):
    def call():
        fn()
        check(xapi.status == "success", "status %r: %s" % (xapi.status, xapi.status_detail))
        return xapi.xml_result()

    return call


step("version", lambda: pan.__version__)


def keygen_and_use(rounds):
    """pan-python appends the key to the form body unencoded: each new key must work at once."""

    def run():
        keys = []
        for _ in range(rounds):
            keys.append(xapi.keygen())
            xapi.op(cmd="<show><system><info></info></system></show>")
            check(xapi.status == "success", "key %r refused: %s" % (keys[-1], xapi.status_detail))
        return keys

    return run


step("keygen x20, each key used", keygen_and_use(20))


def system_info():
    xapi.op(cmd="show system info", cmd_xml=True)
    system = ET.fromstring(xapi.xml_result())
    check(system.tag == "system", "no <system> in %r" % xapi.xml_result())
    return {child.tag: child.text for child in system}


step("show system info", system_info)
step("set rule on parent xpath", ok(lambda: xapi.set(xpath=RULES, element=ELEMENT)))
checkpoint("created")


def get_rule():
    xapi.get(xpath=RULES + "/entry[@name='sdk-pan-python']")
    check(xapi.status == "success", "status %r" % xapi.status)
    entry = ET.fromstring("<r>%s</r>" % xapi.xml_result()).find("entry")
    check(entry is not None and entry.get("name") == "sdk-pan-python", "got %r" % xapi.xml_result())
    return {"action": entry.findtext("action"), "uuid": entry.get("uuid")}


step("get", get_rule)


def commit():
    xapi.commit(cmd="<commit></commit>", sync=True, interval=0.05, timeout=30)
    check(xapi.status == "success", "status %r: %s" % (xapi.status, xapi.status_detail))
    job = ET.fromstring(xapi.xml_document).find("./result/job")
    check(job is not None, "no job in %r" % xapi.xml_document)
    return {"status": job.findtext("status"), "result": job.findtext("result")}


step("commit(sync=True)", commit)
checkpoint("committed")
step("delete", ok(lambda: xapi.delete(xpath=RULES + "/entry[@name='sdk-pan-python']")))
step("commit after delete", commit)
checkpoint("deleted")
