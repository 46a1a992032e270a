// Safe apply end to end on OPNsense (real API server, operator, dictionary, HTTPS to the simulator):
// the health check after the apply fails (a fault on the simulator's health path), so the operator
// rolls back to the savepoint it took before the batch's writes; the rules say so in their Ready
// condition and are not on the appliance. Once the appliance answers its health check again, the
// rules are written again (their intents) and become Ready, the apply confirmed this time.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitUntil } from "../support/kube.ts";
import {
  conditionOf,
  FIREWALL,
  type KubeObj,
  type OperatorEnv,
  ruleManifest,
  ruleMarkerText,
  startOperatorEnv,
} from "../support/operator-env.ts";

const HEALTH = "/api/core/firmware/status";
const NAMES = ["safe-a", "safe-b", "safe-c"];
let env: OperatorEnv;

beforeAll(async () => {
  env = await startOperatorEnv({
    vendor: "opnsense",
    prefix: "op-safe-apply",
    device: { activation: { mode: "Batched", batchWindow: "1s" } },
  });
  await env.waitReady("vnfdevices", env.deviceName);
});

afterAll(async () => {
  await env?.stop();
});

describe("safe apply on OPNsense", () => {
  it("a failing health check after the apply rolls the batch back; the rules report it, then recover", async () => {
    await env.sim.control.clearRequests();
    await env.sim.control.injectFault({ method: "GET", pathPrefix: HEALTH, kind: "status", status: 500 });
    for (const [i, name] of NAMES.entries()) {
      await env.apply(
        ruleManifest(FIREWALL, name, env.deviceName, {
          interface: "wan",
          action: "allow",
          protocol: "tcp",
          destination: { cidr: `10.7.0.${i + 1}`, port: "443" },
          description: `safe apply ${name}`,
        }),
      );
    }
    const reported = await waitUntil(
      "every rule reports the rollback",
      async () => {
        const rules = await Promise.all(NAMES.map((n) => env.get<KubeObj>(FIREWALL.plural, n)));
        return rules.every((r) => String(conditionOf(r, "Ready")?.message ?? "").includes("rolled back"))
          ? rules
          : undefined;
      },
      60_000,
    );
    for (const rule of reported) {
      expect(conditionOf(rule, "Ready")?.status).toBe("False");
      expect(String(conditionOf(rule, "Ready")?.message)).toContain(
        "rolled back to the savepoint taken before this batch's writes: the health check after applying failed",
      );
    }
    const calls = (await env.sim.control.requests()).map(
      (r) => `${r.method} ${r.path.replace(/\/[0-9.]+$/, "")}`,
    );
    const firstWrite = calls.indexOf("POST /api/firewall/filter/addRule");
    expect(calls.indexOf("POST /api/firewall/filter/savepoint")).toBeGreaterThanOrEqual(0);
    expect(calls.indexOf("POST /api/firewall/filter/savepoint")).toBeLessThan(firstWrite);
    expect(calls).toContain("POST /api/firewall/filter/revert");
    const running = (await env.sim.control.objects("firewallRule")).running;
    for (const rule of reported) {
      expect(
        running.filter((o) => String(o.description ?? "").includes(ruleMarkerText(rule.metadata.uid))),
      ).toEqual([]);
    }

    await env.sim.control.clearFaults();
    for (const name of NAMES) await env.waitReady(FIREWALL.plural, name, 90_000);
    const after = (await env.sim.control.objects("firewallRule")).running;
    for (const rule of reported) {
      expect(
        after.filter((o) => String(o.description ?? "").includes(ruleMarkerText(rule.metadata.uid))),
      ).toHaveLength(1);
    }
    expect(
      (await env.sim.control.requests()).some((r) =>
        r.path.startsWith("/api/firewall/filter/cancelRollback/"),
      ),
    ).toBe(true);
  });
});
