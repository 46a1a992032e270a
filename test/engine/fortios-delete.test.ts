// Deletes at the bound on FortiOS: with the rule at hand, a policy that names no object of ours (no
// network: cidr any or an alias; no port: a predefined service) is removed with its one DELETE (no
// lookup); a cidr or port rule still looks its policy up first so that the address and service
// objects it created go once no policy uses them; without the rule (an orphan a drift check removes)
// the dictionary always looks. Absent is success in every case.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ApplianceSession } from "../../src/appliance/session.ts";
import type { CompiledDictionary } from "../../src/dictionary/compiled.ts";
import { loadDictionaryFile } from "../../src/dictionary/loader.ts";
import { type SimulatorHandle, startSimulator } from "../simulators/index.ts";

describe("FortiOS delete: the calls it takes", () => {
  let sim: SimulatorHandle;
  let dictionary: CompiledDictionary;
  let session: ApplianceSession;

  const aliasRule = {
    interface: "port1",
    action: "allow",
    protocol: "tcp",
    source: { cidr: "any" },
    destination: { alias: "web-servers" },
    description: "by alias",
  };
  const cidrRule = { ...aliasRule, destination: { cidr: "10.9.0.0/24" }, description: "by cidr" };
  const portRule = {
    ...aliasRule,
    destination: { alias: "web-servers", port: "8443" },
    description: "by port",
  };

  const calls = async () =>
    (await sim.control.requests()).map((r) => `${r.method} ${r.path.replace(/\?.*$/, "")}`);

  beforeAll(async () => {
    dictionary = await loadDictionaryFile("dictionaries/fortios-7.yaml");
    sim = await startSimulator("fortios");
  });

  beforeEach(async () => {
    await session?.close();
    await sim.control.reset();
    await sim.control.putObject("address", { name: "web-servers", subnet: "10.8.0.0/24" });
    session = new ApplianceSession({
      dictionary,
      endpoint: sim.url,
      credentials: sim.credentials,
      tls: { caPem: sim.caPem },
    });
  });

  afterAll(async () => {
    await session?.close();
    await sim.stop();
  });

  it("a rule without objects of ours (alias, no port): one DELETE, and not found is success", async () => {
    const { vendorRef } = await session.create("firewallRule", { rule: aliasRule, marker: "alias-1" });
    await sim.control.clearRequests();
    await session.delete("firewallRule", vendorRef, undefined, { rule: aliasRule, marker: "alias-1" });
    expect(await calls()).toEqual([`DELETE /api/v2/cmdb/firewall/policy/${vendorRef}`]);
    expect((await sim.control.objects("firewallRule")).candidate).toEqual([]);
    // Already gone (a retried delete): the same single call, answered 404, counts as deleted.
    await sim.control.clearRequests();
    await session.delete("firewallRule", vendorRef, undefined, { rule: aliasRule, marker: "alias-1" });
    expect(await calls()).toEqual([`DELETE /api/v2/cmdb/firewall/policy/${vendorRef}`]);
    // The address object the rule named is an administrator's: left alone.
    expect((await sim.control.objects("address")).candidate.map((a) => a.name)).toContain("web-servers");
  });

  it("a cidr rule: looks the policy up, deletes it, then its address object once unused", async () => {
    const { vendorRef } = await session.create("firewallRule", { rule: cidrRule, marker: "cidr-1" });
    await sim.control.clearRequests();
    await session.delete("firewallRule", vendorRef, undefined, { rule: cidrRule, marker: "cidr-1" });
    expect(await calls()).toEqual([
      `GET /api/v2/cmdb/firewall/policy/${vendorRef}`,
      `DELETE /api/v2/cmdb/firewall/policy/${vendorRef}`,
      `DELETE /api/v2/cmdb/firewall/address/vnf-net-10.9.0.0%2F24`,
    ]);
    const addresses = (await sim.control.objects("address")).candidate.map((a) => a.name);
    expect(addresses).not.toContain("vnf-net-10.9.0.0/24");
  });

  it("a rule with a port: looks the policy up, deletes it, then its custom service once unused", async () => {
    const { vendorRef } = await session.create("firewallRule", { rule: portRule, marker: "port-1" });
    await sim.control.clearRequests();
    await session.delete("firewallRule", vendorRef, undefined, { rule: portRule, marker: "port-1" });
    expect(await calls()).toEqual([
      `GET /api/v2/cmdb/firewall/policy/${vendorRef}`,
      `DELETE /api/v2/cmdb/firewall/policy/${vendorRef}`,
      "DELETE /api/v2/cmdb/firewall.service/custom/vnf-svc-tcp-8443",
    ]);
  });

  it("without the rule (an orphan): always looks first, so our address objects still go", async () => {
    const { vendorRef } = await session.create("firewallRule", { rule: cidrRule, marker: "orphan-1" });
    await sim.control.clearRequests();
    await session.delete("firewallRule", vendorRef);
    expect(await calls()).toEqual([
      `GET /api/v2/cmdb/firewall/policy/${vendorRef}`,
      `DELETE /api/v2/cmdb/firewall/policy/${vendorRef}`,
      `DELETE /api/v2/cmdb/firewall/address/vnf-net-10.9.0.0%2F24`,
    ]);
  });

  it("a spec the dictionary cannot read is deleted as an orphan would be (looked up first)", async () => {
    const { vendorRef } = await session.create("firewallRule", { rule: aliasRule, marker: "odd-1" });
    await sim.control.clearRequests();
    await session.delete("firewallRule", vendorRef, undefined, { rule: { interface: 42 }, marker: "odd-1" });
    expect(await calls()).toEqual([
      `GET /api/v2/cmdb/firewall/policy/${vendorRef}`,
      `DELETE /api/v2/cmdb/firewall/policy/${vendorRef}`,
    ]);
  });
});
