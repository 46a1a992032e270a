// The OPNsense dictionary against filter rules of the real, full shape (48 fields of 25.7.2's Filter.xml,
// option maps in `get`/`getRule`): read-back and drift normalisation see exactly the fields a rule spec
// manages, so what an administrator sets besides them (state policy, priorities, limits, tags, a
// gateway) is not drift, and what they change among them is. Interface rules are found again by marker
// although `searchRule` without `interface` lists floating rules only.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ApplianceSession } from "../../src/appliance/session.ts";
import { loadDictionaryFile } from "../../src/dictionary/loader.ts";
import { type SimulatorHandle, startSimulator } from "../simulators/index.ts";

const rule = {
  interface: "lan",
  direction: "in",
  action: "allow",
  protocol: "tcp",
  source: { cidr: "10.20.0.0/16" },
  destination: { cidr: "192.0.2.10/32", port: "443" },
  description: "web",
  enabled: true,
  log: true,
};

describe.each([
  ["25.7.2", "opnsense-25.7-api"],
  ["26.1.11", "opnsense-26.1-api"],
])("OPNsense %s, dictionary %s: against the full rule shape", (version, dictionary) => {
  let sim: SimulatorHandle;
  let session: ApplianceSession;

  beforeAll(async () => {
    sim = await startSimulator("opnsense", { version, schedules: ["office_hours"] });
    session = new ApplianceSession({
      dictionary: await loadDictionaryFile(`dictionaries/${dictionary}.yaml`),
      endpoint: sim.url,
      credentials: sim.credentials,
      tls: { caPem: sim.caPem },
      limits: { requestsPerSecond: 1000 },
    });
  });
  beforeEach(async () => {
    await sim.control.reset();
  });
  afterAll(async () => {
    await session.close();
    await sim.stop();
  });

  it("reads back what it wrote, by get and by list, with no difference", async () => {
    const { vendorRef } = await session.create("firewallRule", { rule, marker: "shape/1" });
    const stored = (await sim.control.objects("firewallRule")).candidate[0] ?? {};
    expect(Object.keys(stored).filter((k) => k !== "uuid").length).toBe(version === "25.7.2" ? 48 : 54);
    const got = await session.get("firewallRule", vendorRef);
    expect(session.differences("firewallRule", rule, got?.normalized ?? {})).toEqual([]);
    const listed = (await session.list("firewallRule")).find((o) => o.vendorRef === vendorRef);
    expect(listed?.marker).toBe("shape/1");
    expect(session.differences("firewallRule", rule, listed?.normalized ?? {})).toEqual([]);
  });

  it("fields the spec does not manage, changed on the appliance, are not drift; a managed one is", async () => {
    const { vendorRef } = await session.create("firewallRule", { rule, marker: "shape/2" });
    await sim.control.updateObject("firewallRule", vendorRef, {
      "state-policy": "if-bound",
      "set-prio": "5",
      statetimeout: "3600",
      tag: "web_tag",
      gateway: "WAN_DHCP",
      sched: "office_hours",
      quick: "0",
      allowopts: "1",
    });
    for (const object of [
      await session.get("firewallRule", vendorRef),
      (await session.list("firewallRule")).find((o) => o.vendorRef === vendorRef),
    ]) {
      expect(session.differences("firewallRule", rule, object?.normalized ?? {})).toEqual([]);
    }
    await sim.control.updateObject("firewallRule", vendorRef, { action: "block", destination_port: "8443" });
    const drifted = await session.get("firewallRule", vendorRef);
    expect(session.differences("firewallRule", rule, drifted?.normalized ?? {}).sort()).toEqual([
      "action",
      "destination.port",
    ]);
  });

  it("finds its interface rule again by marker (searchRule alone would list floating rules only)", async () => {
    const { vendorRef } = await session.create("firewallRule", { rule, marker: "shape/3" });
    await sim.control.putObject("firewallRule", { interface: "", description: "floating, not ours" });
    const found = await session.findByMarker("firewallRule", "shape/3");
    expect(found?.vendorRef).toBe(vendorRef);
    expect(session.differences("firewallRule", rule, found?.normalized ?? {})).toEqual([]);
  });

  it("an update keeps what the administrator set besides the spec", async () => {
    const { vendorRef } = await session.create("firewallRule", { rule, marker: "shape/4" });
    await sim.control.updateObject("firewallRule", vendorRef, { "set-prio": "5", tag: "web_tag" });
    await session.update("firewallRule", vendorRef, {
      rule: { ...rule, destination: { ...rule.destination, port: "8443" } },
      marker: "shape/4",
    });
    const stored = (await sim.control.objects("firewallRule")).candidate.find((r) => r.uuid === vendorRef);
    expect(stored).toMatchObject({ destination_port: "8443", "set-prio": "5", tag: "web_tag" });
  });
});
