"""pyvyos 0.4.1 driving the VyOS simulator: configure_set of several paths (one commit), retrieve
show config and return values, show version, a commit the configuration refuses (nothing of it is
applied), configure_delete, config_file_save. TLS: `verify` is a boolean; with True, requests verifies
against REQUESTS_CA_BUNDLE."""

import os

from conformance import CA, CREDENTIALS, HOST, PORT, check, checkpoint, step

os.environ["REQUESTS_CA_BUNDLE"] = CA
from pyvyos import VyDevice  # noqa: E402

device = VyDevice(hostname=HOST, apikey=CREDENTIALS["key"], port=PORT, protocol="https", verify=True)
RULE = ["firewall", "ipv4", "name", "SDK_IN", "rule", "10"]


def ok(response):
    check(not response.error and response.status == 200, "status %s error %r" % (response.status, response.error))
    return response.result


step("show version", lambda: ok(device.show(["version"])))
step(
    "configure_set (several paths, one commit)",
    lambda: ok(
        device.configure_set(
            [
                RULE + ["action", "accept"],
                RULE + ["protocol", "tcp"],
                RULE + ["destination", "port", "443"],
                RULE + ["source", "address", "192.0.2.0/24"],
                RULE + ["description", "created by pyvyos"],
            ]
        )
    ),
)
checkpoint("set")
step("retrieve_show_config", lambda: ok(device.retrieve_show_config(RULE)))
step("retrieve_return_values", lambda: ok(device.retrieve_return_values(RULE + ["destination", "port"])))


def refused_commit():
    response = device.configure_set(
        [
            ["firewall", "ipv4", "name", "SDK_IN", "rule", "20", "action", "drop"],
            ["firewall", "ipv4", "name", "SDK_IN", "rule", "20", "destination", "port", "22"],
        ]
    )
    check(response.error, "a rule with a port but no protocol was committed: %r" % (response,))
    return {"status": response.status, "error": response.error}


step("refused commit (port without protocol)", refused_commit)
checkpoint("refused")
step("config_file_save", lambda: ok(device.config_file_save()))
checkpoint("saved")
step("configure_delete", lambda: ok(device.configure_delete(["firewall", "ipv4", "name", "SDK_IN"])))
step("config_file_save after delete", lambda: ok(device.config_file_save()))
checkpoint("deleted")
