// Crash safety: the operator (a child process) is killed with SIGKILL after its appliance write and
// before its status write — inside the activation window of a Batched pfSense device, where the write
// is on the appliance (candidate) and the outcome not yet recorded — then restarted. The restarted
// operator must adopt what it finds by ownership marker: exactly one appliance object per rule, the
// rule Ready with the right vendorRef, the activation done; the same for an update and a delete.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kubeconfigPath, waitUntil } from "../support/kube.ts";
import {
  conditionOf,
  FIREWALL,
  type KubeObj,
  markerOf,
  NAT,
  type OperatorEnv,
  objectsContaining,
  ruleManifest,
  ruleMarkerText,
  startOperatorEnv,
  statusOf,
} from "../support/operator-env.ts";
import { type OperatorChild, spawnOperator } from "../support/operator-process.ts";

let env: OperatorEnv;
const device = "pfsense-dev";

const firewallSpec = {
  interface: "wan",
  action: "allow",
  protocol: "tcp",
  destination: { cidr: "10.0.10.10", port: "443" },
  description: "survives a crash",
};
const natSpec = {
  type: "dnat",
  interface: "wan",
  protocol: "tcp",
  destination: { address: "203.0.113.10", port: "443" },
  translated: { address: "10.0.10.10" },
  description: "forward survives a crash",
};

beforeAll(async () => {
  env = await startOperatorEnv({
    vendor: "pfsense",
    prefix: "op-crash",
    // A long window: the writes sit on the appliance, unactivated and unrecorded, for 3 s.
    device: { activation: { mode: "Batched", batchWindow: "3s" } },
    startOperator: false,
  });
});

afterAll(async () => {
  await env?.stop();
});

function child(): Promise<OperatorChild> {
  return spawnOperator({ kubeconfig: kubeconfigPath(), namespaces: [env.namespace] });
}

async function restartInProcess(): Promise<void> {
  await env.sim.control.clearRequests();
  await env.startOperator();
}

async function stopInProcess(): Promise<void> {
  await env.operator.stop();
}

/** The rule is Ready with nothing pending for its current generation. */
function settled(obj: KubeObj): boolean {
  const ready = conditionOf(obj, "Ready");
  return (
    ready?.status === "True" &&
    Number(ready.observedGeneration) === obj.metadata.generation &&
    statusOf(obj).pendingOperation === undefined
  );
}

describe("restart between the appliance write and the status write", () => {
  let fwUid = "";
  let natUid = "";

  it("create: killed in the activation window, the restarted operator adopts by marker (no duplicate)", async () => {
    const first = await child();
    await env.waitReady("vnfdevices", device);
    await env.apply(ruleManifest(FIREWALL, "crash-fw", device, firewallSpec));
    await env.apply(ruleManifest(NAT, "crash-nat", device, natSpec));
    fwUid = (await env.get(FIREWALL.plural, "crash-fw")).metadata.uid;
    natUid = (await env.get(NAT.plural, "crash-nat")).metadata.uid;

    // Both creates are on the appliance, not activated, and not recorded: kill now.
    await waitUntil("both creates on the appliance (candidate)", async () =>
      (await objectsContaining(env.sim, "firewallRule", ruleMarkerText(fwUid))).length === 1 &&
      (await objectsContaining(env.sim, "natRule", ruleMarkerText(natUid))).length === 1
        ? true
        : undefined,
    );
    await first.kill();
    for (const [plural, name] of [
      [FIREWALL.plural, "crash-fw"],
      [NAT.plural, "crash-nat"],
    ] as const) {
      const status = statusOf(await env.get(plural, name));
      expect(status.pendingOperation).toMatchObject({ operation: "create" });
      expect(status.vendorRef).toBeUndefined();
    }
    expect(await objectsContaining(env.sim, "firewallRule", ruleMarkerText(fwUid), "running")).toHaveLength(
      0,
    );
    expect((await env.sim.control.stats()).applyCount).toBe(0);

    await restartInProcess();
    const fw = await env.waitCondition(FIREWALL.plural, "crash-fw", settled, "Ready");
    const nat = await env.waitCondition(NAT.plural, "crash-nat", settled, "Ready");

    const fwObjects = await objectsContaining(env.sim, "firewallRule", ruleMarkerText(fwUid), "running");
    const natObjects = await objectsContaining(env.sim, "natRule", ruleMarkerText(natUid), "running");
    expect(fwObjects).toHaveLength(1);
    expect(natObjects).toHaveLength(1);
    expect(await objectsContaining(env.sim, "firewallRule", ruleMarkerText(fwUid))).toHaveLength(1);
    expect(statusOf(fw).vendorRef).toBe(String(fwObjects[0]?.tracker));
    // A port forward's vendorRef is its marker (this installation, this device, this rule).
    const deviceUid = (await env.get("vnfdevices", device)).metadata.uid;
    expect(statusOf(nat).vendorRef).toBe(markerOf(deviceUid, natUid));
    expect(String(conditionOf(fw, "Ready")?.message)).toContain("adopted");
    expect(String(conditionOf(nat, "Ready")?.message)).toContain("adopted");
    const creates = (await env.sim.control.requests()).filter(
      (r) => r.method === "POST" && r.path !== "/api/v2/auth/jwt" && r.path !== "/api/v2/firewall/apply",
    );
    expect(creates).toEqual([]);
    await stopInProcess();
  });

  it("update: killed in the activation window, the restarted operator verifies and activates", async () => {
    const first = await child();
    await env.apply(ruleManifest(FIREWALL, "crash-fw", device, { ...firewallSpec, action: "deny" }));
    await waitUntil("the update on the appliance (candidate)", async () => {
      const [o] = await objectsContaining(env.sim, "firewallRule", ruleMarkerText(fwUid));
      return o?.type === "block" ? true : undefined;
    });
    await first.kill();
    const pending = statusOf(await env.get(FIREWALL.plural, "crash-fw"));
    expect(pending.pendingOperation).toMatchObject({ operation: "update" });
    const [running] = await objectsContaining(env.sim, "firewallRule", ruleMarkerText(fwUid), "running");
    expect(running?.type).toBe("pass"); // not activated yet

    await restartInProcess();
    const fw = await env.waitCondition(FIREWALL.plural, "crash-fw", settled, "Ready");
    expect(statusOf(fw).vendorRef).toBe(pending.vendorRef);
    await waitUntil("the update activated", async () => {
      const [o] = await objectsContaining(env.sim, "firewallRule", ruleMarkerText(fwUid), "running");
      return o?.type === "block" ? true : undefined;
    });
    expect(await objectsContaining(env.sim, "firewallRule", ruleMarkerText(fwUid))).toHaveLength(1);
    // Verified against the appliance, not sent again.
    expect((await env.sim.control.requests()).filter((r) => r.method === "PATCH")).toEqual([]);
    await stopInProcess();
  });

  it("delete: killed in the activation window, the restarted operator completes the deletion", async () => {
    const first = await child();
    const deleting = env.kubectl(["delete", `${FIREWALL.short}/crash-fw`, "--wait=false"]);
    expect((await deleting).code).toBe(0);
    await waitUntil("the delete on the appliance (candidate)", async () =>
      (await objectsContaining(env.sim, "firewallRule", ruleMarkerText(fwUid))).length === 0
        ? true
        : undefined,
    );
    await first.kill();
    const obj = await env.find(FIREWALL.plural, "crash-fw");
    expect(obj?.metadata).toMatchObject({ finalizers: ["vnf-operator.io/cleanup"] });

    await restartInProcess();
    await env.waitGone(FIREWALL.plural, "crash-fw");
    await waitUntil("the delete activated", async () =>
      (await objectsContaining(env.sim, "firewallRule", ruleMarkerText(fwUid), "running")).length === 0
        ? true
        : undefined,
    );
  });
});
