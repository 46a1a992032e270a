// NAT types end to end on pfSense (real API server, operator, dictionary, HTTPS to the simulator): a
// rule the appliance cannot take as it is configured says why and what to do in its status, and
// goes through once the device is changed as the message says; snat and 1to1 land in pfSense's own
// tables and leave with their rules.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitUntil } from "../support/kube.ts";
import {
  conditionOf,
  type KubeObj,
  markerOf,
  NAT,
  type OperatorEnv,
  ruleManifest,
  startOperatorEnv,
  statusOf,
} from "../support/operator-env.ts";

let env: OperatorEnv;

beforeAll(async () => {
  // A pfSense as shipped: automatic outbound NAT, no device parameter.
  env = await startOperatorEnv({ vendor: "pfsense", prefix: "op-nat" });
});

afterAll(async () => {
  await env?.stop();
});

const snat = ruleManifest(NAT, "office-snat", "pfsense-dev", {
  type: "snat",
  interface: "wan",
  source: { cidr: "10.0.20.0/24" },
  translated: { address: "203.0.113.11" },
  description: "office",
});

const running = async (kind: string) => (await env.sim.control.objects(kind)).running;

describe("operator: NAT types on pfSense", () => {
  it("an snat rule on automatic outbound NAT is Stalled, saying why and how to fix it; nothing is written", async () => {
    await env.waitReady("vnfdevices", env.deviceName);
    await env.apply(snat);
    const stalled = await env.waitCondition(
      NAT.plural,
      "office-snat",
      (o) => conditionOf(o, "Stalled")?.status === "True",
      "Stalled",
    );
    const ready = conditionOf(stalled, "Ready");
    expect(ready?.status).toBe("False");
    expect(ready?.reason).toBe("BROKER_INVALID_REQUEST");
    expect(String(ready?.message)).toContain(
      "automatic outbound NAT mode, which ignores outbound NAT mappings",
    );
    expect(String(ready?.message)).toContain("set the VnfDevice parameter outboundNatMode: hybrid");
    expect(statusOf(stalled).errorCode).toBe("BROKER_INVALID_REQUEST");
    expect((await env.sim.control.objects("natOutbound")).candidate).toEqual([]);
    const writes = (await env.sim.control.requests()).filter(
      (r) => r.path.includes("/nat/outbound") && r.method !== "GET",
    );
    expect(writes).toEqual([]);
  });

  it("the device change the message names unsticks it: the operator switches to hybrid and the mapping lands", async () => {
    const device = await env.get<KubeObj>("vnfdevices", env.deviceName);
    await env.apply({
      apiVersion: "vnf-operator.io/v1alpha1",
      kind: "VnfDevice",
      metadata: { name: env.deviceName },
      spec: { ...(device.spec as Record<string, unknown>), parameters: { outboundNatMode: "hybrid" } },
    });
    const ready = await env.waitReady(NAT.plural, "office-snat");
    const marker = markerOf(device.metadata.uid, ready.metadata.uid);
    expect(statusOf(ready).vendorRef).toBe(`snat@${marker}`);
    expect(conditionOf(ready, "Stalled")).toBeUndefined();
    const mapping = await waitUntil("the mapping applied", async () =>
      (await running("natOutbound")).find((m) => String(m.descr).endsWith(`[vnf:${marker}]`)),
    );
    expect(mapping).toMatchObject({
      interface: "wan",
      source: "10.0.20.0/24",
      target: "203.0.113.11",
      target_subnet: 32,
    });
    const mode = await env.sim.control.requests({
      method: "PATCH",
      pathPrefix: "/api/v2/firewall/nat/outbound/mode",
    });
    expect(mode).toHaveLength(1);
  });

  it("a 1to1 rule becomes a 1:1 mapping; deleting the rules removes both from the appliance", async () => {
    await env.apply(
      ruleManifest(NAT, "mail-1to1", "pfsense-dev", {
        type: "1to1",
        interface: "wan",
        destination: { address: "203.0.113.12" },
        translated: { address: "10.0.10.25" },
      }),
    );
    const ready = await env.waitReady(NAT.plural, "mail-1to1");
    const device = await env.get<KubeObj>("vnfdevices", env.deviceName);
    expect(statusOf(ready).vendorRef).toBe(`1to1@${markerOf(device.metadata.uid, ready.metadata.uid)}`);
    expect(
      await waitUntil("the 1:1 mapping applied", async () => (await running("natOneToOne"))[0]),
    ).toMatchObject({ external: "203.0.113.12", source: "10.0.10.25", destination: "any" });
    await env.kubectl(["delete", "vnfnat", "mail-1to1", "office-snat", "--wait=true", "--timeout=30s"]);
    await waitUntil("both gone from the appliance", async () =>
      (await running("natOneToOne")).length === 0 && (await running("natOutbound")).length === 0
        ? true
        : undefined,
    );
  });
});
