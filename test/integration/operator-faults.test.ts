// The operator under appliance faults, one operator for two devices (pfSense and FortiOS simulators):
// credentials rotated through the Secret, the appliance unreachable and back (with a delete waiting
// for it), 429 with Retry-After honoured, and a non-retryable refusal that stalls without a retry loop
// until the spec changes.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CREDENTIALS_LABEL } from "../../src/api/group.ts";
import type { RequestLogEntry } from "../simulators/index.ts";
import { waitUntil } from "../support/kube.ts";
import {
  conditionOf,
  FIREWALL,
  type KubeObj,
  type OperatorEnv,
  objectsContaining,
  ruleManifest,
  ruleMarkerText,
  sleep,
  startOperatorEnv,
  statusOf,
  type TestDevice,
} from "../support/operator-env.ts";

let env: OperatorEnv;
let forti: TestDevice;
const pf = "pfsense-dev";

const pfRule = (description: string, port: string) => ({
  interface: "wan",
  action: "allow",
  protocol: "tcp",
  destination: { cidr: "10.0.10.10", port },
  description,
});
const fortiRule = (description: string, action = "allow") => ({
  interface: "port1",
  action,
  protocol: "tcp",
  source: { cidr: "any" },
  destination: { cidr: "10.20.0.0/24", port: "443" },
  description,
});

beforeAll(async () => {
  env = await startOperatorEnv({
    vendor: "pfsense",
    prefix: "op-faults",
    startOperator: false,
    operator: { healthIntervalMs: 1_000 },
  });
  forti = await env.addDevice({ vendor: "fortios" });
  await env.startOperator();
  await env.waitReady("vnfdevices", pf);
  await env.waitReady("vnfdevices", forti.name);
});

afterAll(async () => {
  await env?.stop();
});

const condition = (type: string, status: string, reason?: string) => (obj: KubeObj) => {
  const c = conditionOf(obj, type);
  return c?.status === status && (reason === undefined || c.reason === reason);
};

describe("operator under appliance faults", () => {
  it("credentials rotated: device Stalled on VNF_AUTH, its rules Stalled DeviceStalled, all recover once the Secret is updated", async () => {
    await env.apply(ruleManifest(FIREWALL, "rotate", forti.name, fortiRule("before rotation")));
    const rule = await env.waitReady(FIREWALL.plural, "rotate");

    const rotated = { token: "n3wT0kenR0tat3dBy5ecOps0000001" };
    await forti.sim.control.setCredentials(rotated);
    const device = await env.waitCondition(
      "vnfdevices",
      forti.name,
      condition("Stalled", "True", "VNF_AUTH"),
      "Stalled on VNF_AUTH",
    );
    expect(conditionOf(device, "Ready")).toMatchObject({ status: "False", reason: "VNF_AUTH" });
    expect(statusOf(device).errorCode).toBe("VNF_AUTH");
    expect(JSON.stringify(device.status)).not.toContain(rotated.token);
    // A person must act on the device: its rules say so too (kstatus Failed, not a wait that hangs).
    const held = await env.waitCondition(
      FIREWALL.plural,
      "rotate",
      condition("Stalled", "True", "DeviceStalled"),
      "Stalled because of its device",
    );
    expect(String(conditionOf(held, "Stalled")?.message)).toContain(`${forti.name}-credentials`);

    await env.core.replaceNamespacedSecret({
      name: `${forti.name}-credentials`,
      namespace: env.namespace,
      // A replaced Secret keeps the label the operator selects credential Secrets by.
      body: {
        metadata: { name: `${forti.name}-credentials`, labels: { [CREDENTIALS_LABEL]: "true" } },
        stringData: rotated,
      },
    });
    const back = await env.waitReady("vnfdevices", forti.name);
    expect(conditionOf(back, "Stalled")).toBeUndefined();
    await env.waitReady(FIREWALL.plural, "rotate");

    // Rules keep working with the new credentials.
    await env.apply(ruleManifest(FIREWALL, "rotate", forti.name, fortiRule("after rotation", "deny")));
    await env.waitReady(FIREWALL.plural, "rotate");
    const [object] = await objectsContaining(forti.sim, "firewallRule", ruleMarkerText(rule.metadata.uid));
    expect(object).toMatchObject({ action: "deny" });
    expect(String(object?.comments)).toContain("after rotation");
  });

  it("appliance down: device and rules wait; after up() all recover and a delete made meanwhile completes", async () => {
    await env.apply(ruleManifest(FIREWALL, "down-keep", pf, pfRule("kept through the outage", "443")));
    await env.apply(ruleManifest(FIREWALL, "down-delete", pf, pfRule("deleted during the outage", "444")));
    await env.waitReady(FIREWALL.plural, "down-keep");
    const doomed = await env.waitReady(FIREWALL.plural, "down-delete");

    await env.sim.control.down();
    try {
      await env.waitCondition(
        "vnfdevices",
        pf,
        condition("Ready", "False", "VNF_UNREACHABLE"),
        "device unreachable",
      );
      await env.waitCondition(
        FIREWALL.plural,
        "down-keep",
        condition("Ready", "False", "DeviceNotReady"),
        "rule waiting",
      );
      const deleted = await env.kubectl(["delete", `${FIREWALL.short}/down-delete`, "--wait=false"]);
      expect(deleted.code, deleted.stderr).toBe(0);
      const waiting = await env.waitCondition(
        FIREWALL.plural,
        "down-delete",
        condition("Ready", "False", "DeviceNotReady"),
        "deletion waiting",
      );
      expect(String(conditionOf(waiting, "Ready")?.message)).toContain("deletion completes when it recovers");
      await sleep(1_500);
      expect(await env.find(FIREWALL.plural, "down-delete")).toBeDefined();
    } finally {
      await env.sim.control.up();
    }

    await env.waitReady("vnfdevices", pf);
    await env.waitReady(FIREWALL.plural, "down-keep");
    await env.waitGone(FIREWALL.plural, "down-delete");
    await waitUntil("the deleted rule is gone from the appliance", async () =>
      (await objectsContaining(env.sim, "firewallRule", ruleMarkerText(doomed.metadata.uid), "running"))
        .length === 0
        ? true
        : undefined,
    );
  });

  it("429 with Retry-After: no request to the appliance's rule API comes sooner than Retry-After", async () => {
    await forti.sim.control.clearRequests();
    await forti.sim.control.injectFault({
      kind: "rateLimit",
      retryAfterSeconds: 1,
      method: "POST",
      pathPrefix: "/api/v2/cmdb/firewall/policy",
      // More than the session's 4 attempts: the last one goes back to the controller's requeue.
      times: 5,
    });
    await env.apply(ruleManifest(FIREWALL, "throttled", forti.name, fortiRule("throttled")));
    await env.waitReady(FIREWALL.plural, "throttled", 60_000);

    const log = (await forti.sim.control.requests()).filter((r) => r.path.startsWith("/api/v2/cmdb/"));
    const throttled = log.filter((r) => r.status === 429);
    expect(throttled).toHaveLength(5);
    const gaps = throttled.map((r) => {
      const answeredAt = Date.parse(r.time) + r.durationMs;
      const next = log.find((n: RequestLogEntry) => n.seq > r.seq);
      expect(next, `a request after 429 #${r.seq}`).toBeDefined();
      return Date.parse(next?.time ?? "") - answeredAt;
    });
    console.log(`gaps after each 429 (Retry-After: 1 s): ${gaps.join(", ")} ms`);
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(990);
    const created = log.filter((r) => r.method === "POST" && r.path === "/api/v2/cmdb/firewall/policy");
    expect(created.filter((r) => r.status === 200)).toHaveLength(1);
  });

  it("non-retryable refusal: Stalled with its errorCode, no retry loop; a spec change retries", async () => {
    await env.sim.control.clearRequests();
    await env.sim.control.injectFault({
      kind: "status",
      status: 400,
      method: "POST",
      pathPrefix: "/api/v2/firewall/rule",
      times: 1,
    });
    await env.apply(ruleManifest(FIREWALL, "refused", pf, pfRule("refused once", "25")));
    const stalled = await env.waitCondition(
      FIREWALL.plural,
      "refused",
      condition("Stalled", "True", "VNF_INVALID"),
      "Stalled",
    );
    expect(statusOf(stalled).errorCode).toBe("VNF_INVALID");
    expect(conditionOf(stalled, "Ready")).toMatchObject({ status: "False", reason: "VNF_INVALID" });
    expect(conditionOf(stalled, "Reconciling")).toBeUndefined();
    const version = stalled.metadata.resourceVersion;

    // Health checks go on every second; the rule is not retried.
    await sleep(3_000);
    const creates = (await env.sim.control.requests()).filter(
      (r) => r.method === "POST" && r.path === "/api/v2/firewall/rule",
    );
    expect(creates).toHaveLength(1);
    expect((await env.get(FIREWALL.plural, "refused")).metadata.resourceVersion).toBe(version);

    await env.apply(ruleManifest(FIREWALL, "refused", pf, pfRule("accepted after a fix", "25")));
    const ready = await env.waitReady(FIREWALL.plural, "refused");
    expect(conditionOf(ready, "Stalled")).toBeUndefined();
    expect(statusOf(ready).errorCode).toBeUndefined();
    expect(await objectsContaining(env.sim, "firewallRule", ruleMarkerText(ready.metadata.uid))).toHaveLength(
      1,
    );
  });
});
