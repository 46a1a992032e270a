// The operator end to end on pfSense: real API server, real engine and dictionary, real HTTPS to the
// pfSense simulator. Device Ready, rule lifecycle (create → update → delete), steady state silent.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitUntil } from "../support/kube.ts";
import {
  conditionOf,
  markerTokenOf,
  type OperatorEnv,
  startOperatorEnv,
  statusOf,
} from "../support/operator-env.ts";

let env: OperatorEnv;

beforeAll(async () => {
  env = await startOperatorEnv({ vendor: "pfsense", prefix: "op-pfsense" });
});

afterAll(async () => {
  await env?.stop();
});

const rule = (name: string, spec: Record<string, unknown>) => ({
  apiVersion: "vnf-operator.io/v1alpha1",
  kind: "VnfFirewallRule",
  metadata: { name },
  spec: { deviceRef: { name: "pfsense-dev" }, interface: "wan", ...spec },
});

async function applianceRules(): Promise<Array<Record<string, unknown>>> {
  const view = await env.sim.control.objects("firewallRule");
  return view.running as Array<Record<string, unknown>>;
}

describe("operator on pfSense", () => {
  it("brings the device to Ready with the appliance's version and serial", async () => {
    const device = await env.waitReady("vnfdevices", env.deviceName);
    const status = statusOf(device);
    expect(String(status.vendorVersion)).toMatch(/\d/);
    expect(status.serial).toBeTruthy();
    expect(conditionOf(device, "Ready")?.reason).toBe("HealthCheckPassed");
  });

  it("creates a rule on the appliance, applies it, and records vendorRef and opHash", async () => {
    await env.apply(
      rule("allow-https", {
        action: "allow",
        protocol: "tcp",
        destination: { cidr: "10.0.10.10", port: "443" },
        description: "HTTPS to the web server",
        // A priority: its place on the appliance is recorded (status.position), as the next test waits for.
        priority: 10,
      }),
    );
    const wait = await env.kubectl(["wait", "--for=condition=Ready", "vnffw/allow-https", "--timeout=30s"]);
    expect(wait.code, wait.stderr).toBe(0);
    const obj = await env.get<Record<string, unknown>>("vnffirewallrules", "allow-https");
    const status = statusOf(obj);
    expect(status.vendorRef).toMatch(/^\d+$/);
    expect(status.opHash).toMatch(/^[0-9a-f]{64}$/);
    expect(status.pendingOperation).toBeUndefined();
    expect((obj.metadata as { finalizers?: string[] }).finalizers).toContain("vnf-operator.io/cleanup");
    const onAppliance = await waitUntil("rule applied on the appliance", async () =>
      (await applianceRules()).find((r) => String(r.tracker) === status.vendorRef),
    );
    expect(onAppliance.type).toBe("pass");
    expect(String(onAppliance.descr)).toContain("HTTPS to the web server");
    const device = await env.get("vnfdevices", env.deviceName);
    // The marker names this installation, this device and this rule, at the end of the description.
    expect(String(onAppliance.descr)).toBe(
      `HTTPS to the web server ${markerTokenOf(device.metadata.uid, (obj.metadata as { uid: string }).uid)}`,
    );
  });

  it("sends nothing to the appliance and writes nothing in steady state", async () => {
    // Converged: applied, and its place on the appliance recorded (the order step follows the write).
    const before = await waitUntil("status.position recorded", async () => {
      const obj = await env.get<Record<string, unknown>>("vnffirewallrules", "allow-https");
      return statusOf(obj).position === undefined ? undefined : obj;
    });
    await env.sim.control.clearRequests();
    // Re-trigger the reconcile without a spec change: an annotation bumps resourceVersion only.
    await env.kubectl(["annotate", "vnffw/allow-https", "touched=1", "--overwrite"]);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const writes = (await env.sim.control.requests()).filter((r) => r.method !== "GET");
    expect(writes).toEqual([]);
    const after = await env.get<Record<string, unknown>>("vnffirewallrules", "allow-https");
    expect(after.status).toEqual(before.status);
  });

  it("updates the appliance object in place when the spec changes", async () => {
    const before = statusOf(await env.get("vnffirewallrules", "allow-https"));
    await env.apply(
      rule("allow-https", {
        action: "deny",
        protocol: "tcp",
        destination: { cidr: "10.0.10.10", port: "443" },
        description: "HTTPS to the web server",
        // A priority: its place on the appliance is recorded (status.position), as the next test waits for.
        priority: 10,
      }),
    );
    const obj = await env.waitReady("vnffirewallrules", "allow-https");
    const status = statusOf(obj);
    expect(status.vendorRef).toBe(before.vendorRef);
    expect(status.opHash).not.toBe(before.opHash);
    const onAppliance = await waitUntil("update applied", async () => {
      const found = (await applianceRules()).find((r) => String(r.tracker) === status.vendorRef);
      return found?.type === "block" ? found : undefined;
    });
    expect(onAppliance.type).toBe("block");
    expect(
      (await applianceRules()).filter((r) => String(r.descr).includes("HTTPS to the web server")),
    ).toHaveLength(1);
  });

  it("deletes the appliance object, then lets the resource go", async () => {
    const vendorRef = statusOf(await env.get("vnffirewallrules", "allow-https")).vendorRef;
    const result = await env.kubectl(["delete", "vnffw/allow-https", "--wait=true", "--timeout=30s"]);
    expect(result.code, result.stderr).toBe(0);
    await waitUntil("rule gone from the appliance", async () =>
      (await applianceRules()).every((r) => String(r.tracker) !== vendorRef),
    );
  });
});
