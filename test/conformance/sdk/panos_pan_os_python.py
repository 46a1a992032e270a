"""pan-os-python 1.13.1 driving the PAN-OS simulator as its documentation shows: a Firewall with a
username and password (keygen on first use), refresh_system_info, a SecurityRule created under a
Rulebase (`set` on the parent `.../rules` xpath with `<entry name=...>`), refreshall, commit(sync=True),
delete and a second commit. pan-os-python does not verify TLS (its XapiWrapper passes no ssl_context)."""

from conformance import CREDENTIALS, HOST, PORT, check, checkpoint, step

from panos.firewall import Firewall
from panos.policies import Rulebase, SecurityRule

fw = Firewall(HOST, CREDENTIALS["username"], CREDENTIALS["password"], port=PORT)

step("keygen (api_key)", lambda: fw.api_key)


def system_info():
    info = fw.refresh_system_info()
    return {
        "version": info.version,
        "platform": info.platform,
        "serial": info.serial,
        "content_version": fw.content_version,
        "multi_vsys": fw.multi_vsys,
    }


step("refresh_system_info", system_info)

rulebase = fw.add(Rulebase())
rule = rulebase.add(
    SecurityRule(
        name="sdk-conformance-web",
        fromzone=["trust"],
        tozone=["untrust"],
        source=["10.10.0.0/24"],
        destination=["any"],
        application=["web-browsing"],
        service=["application-default"],
        action="allow",
        description="created by pan-os-python",
        log_end=True,
    )
)
step("create", lambda: rule.create())
checkpoint("created")


def refresh_all():
    found = SecurityRule.refreshall(rulebase, add=False)
    by_name = {r.name: r for r in found}
    check("sdk-conformance-web" in by_name, "rule not read back: %r" % list(by_name))
    got = by_name["sdk-conformance-web"]
    return {
        "names": sorted(by_name),
        "fromzone": got.fromzone,
        "tozone": got.tozone,
        "source": got.source,
        "application": got.application,
        "action": got.action,
        "description": got.description,
        "uuid": got.uuid,
    }


step("refreshall", refresh_all)
step("commit(sync=True)", lambda: fw.commit(sync=True, exception=True))
checkpoint("committed")
step("delete", lambda: rule.delete())
step("commit after delete", lambda: fw.commit(sync=True, exception=True))
checkpoint("deleted")
