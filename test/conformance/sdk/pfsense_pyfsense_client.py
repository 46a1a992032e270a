"""pyfsense-client 0.5.0 (its v2 client) driving the pfSense simulator with an API key (X-API-Key):
aliases through its alias methods (create, list, get, update, delete by query), a filter rule that
names them through the client's generic request method (the SDK has no rule helpers), the apply status
and apply. Its authenticate_jwt() sends the credentials as a JSON body while the package's
/api/v2/auth/jwt accepts Basic authentication only: that refusal is checked too.
TLS: verify_ssl is a boolean; with True, requests verifies against REQUESTS_CA_BUNDLE."""

import os

from conformance import CA, CREDENTIALS, URL, check, checkpoint, step

os.environ["REQUESTS_CA_BUNDLE"] = CA
from pyfsense_client.v2 import ClientConfig, PfSenseV2Client  # noqa: E402
from pyfsense_client.v2.exceptions import AuthenticationError  # noqa: E402
from pyfsense_client.v2.models import AliasType, FirewallAliasCreate, FirewallAliasUpdate  # noqa: E402


def jwt_refused():
    client = PfSenseV2Client(
        ClientConfig(host=URL, verify_ssl=True, username=CREDENTIALS["username"], password=CREDENTIALS["password"])
    )
    try:
        client.authenticate_jwt()
    except AuthenticationError as error:
        return str(error)
    raise AssertionError("authenticate_jwt() with a JSON body was accepted")


step("authenticate_jwt refused", jwt_refused)

client = PfSenseV2Client(ClientConfig(host=URL, verify_ssl=True, api_key=CREDENTIALS["api_key"]))

hosts = step(
    "create host alias",
    lambda: client.create_firewall_alias(
        FirewallAliasCreate(name="sdk_web", type=AliasType.HOST, descr="web servers", address=["10.0.0.5", "10.0.0.6"])
    ).model_dump(),
)
ports = step(
    "create port alias",
    lambda: client.create_firewall_alias(
        FirewallAliasCreate(name="sdk_ports", type=AliasType.PORT, address=["443", "8080:8081"], detail=["https"])
    ).model_dump(),
)
step("get_firewall_aliases", lambda: [a.name for a in client.get_firewall_aliases()])
step("get_firewall_alias", lambda: client.get_firewall_alias(hosts["id"]).model_dump())
step(
    "update_firewall_alias",
    lambda: client.update_firewall_alias(
        FirewallAliasUpdate(
            id=hosts["id"], name="sdk_web", type=AliasType.HOST, descr="web servers", address=["10.0.0.5", "10.0.0.6", "10.0.0.7"]
        )
    ).model_dump(),
)


def create_rule():
    response = client._request(
        "POST",
        "/api/v2/firewall/rule",
        json={
            "type": "pass",
            "interface": ["lan"],
            "ipprotocol": "inet",
            "protocol": "tcp",
            "source": "any",
            "destination": "sdk_web",
            "destination_port": "sdk_ports",
            "descr": "created by pyfsense-client",
        },
    )
    check(response.code == 200 and response.status == "ok", "response %r" % response)
    return response.data


rule = step("create rule naming the aliases", create_rule)
status = step("get_firewall_apply_status", lambda: client.get_firewall_apply_status().data)
checkpoint("created")
step("apply_firewall_changes", lambda: client.apply_firewall_changes().data)
step("apply status after apply", lambda: client.get_firewall_apply_status().data)
checkpoint("applied")


def delete_rule():
    found = client._request("GET", "/api/v2/firewall/rules", params={"tracker": rule["tracker"]}).data
    check(len(found) == 1, "rule by tracker: %r" % found)
    return client._request("DELETE", "/api/v2/firewall/rule", params={"id": found[0]["id"]}).data["tracker"]


step("delete rule (by tracker)", delete_rule)
step("delete aliases by query", lambda: [a["name"] for a in client.delete_all_firewall_alias(query={"name__startswith": "sdk_"}).data])
step("apply after delete", lambda: client.apply_firewall_changes().data)
checkpoint("deleted")
