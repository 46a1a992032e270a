// One transient 401 is not a verdict on the credentials. An appliance's own session can expire while
// the static keys stay valid: FortiOS (bearer token), VyOS (API key) and OPNsense (key/secret) each
// answer one rule write with 401 (the simulators' authExpire fault). Before, each rule stayed Stalled
// VNF_AUTH for good while its device stayed Ready; now the session sends the request once more with
// the same credentials, the rule becomes Ready, and neither the rule nor the device ever shows VNF_AUTH.
import { EventsV1Api } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RequestLogEntry, SimulatorHandle } from "../simulators/index.ts";
import {
  conditionOf,
  FIREWALL,
  type OperatorEnv,
  ruleManifest,
  startOperatorEnv,
  statusOf,
  type TestDevice,
} from "../support/operator-env.ts";

let env: OperatorEnv;
const devices: Record<string, TestDevice> = {};

const cases = [
  {
    vendor: "fortios",
    // The rule's first write (its address objects, then the policy) is a POST.
    fault: { method: "POST" },
    spec: {
      interface: "port1",
      action: "allow",
      protocol: "tcp",
      source: { cidr: "any" },
      destination: { cidr: "10.20.0.0/24", port: "443" },
      description: "HTTPS to the web tier",
    },
  },
  {
    vendor: "vyos",
    // Reads are POSTs to /retrieve too: only the write is refused.
    fault: { method: "POST", pathPrefix: "/configure" },
    spec: {
      interface: "eth0",
      action: "allow",
      protocol: "tcp",
      source: { cidr: "192.0.2.0/24" },
      destination: { cidr: "172.16.0.1", port: "22" },
      description: "SSH from the management network",
    },
  },
  {
    vendor: "opnsense",
    fault: { method: "POST" },
    spec: {
      interface: "wan",
      action: "allow",
      protocol: "udp",
      source: { cidr: "any" },
      destination: { cidr: "203.0.113.50", port: "51820" },
      description: "WireGuard",
    },
  },
] as const;

beforeAll(async () => {
  env = await startOperatorEnv({
    vendor: "fortios",
    prefix: "op-auth-expiry",
    startOperator: false,
    // No periodic health check during the test: the only requests are the rules'.
    operator: { healthIntervalMs: 3_600_000 },
  });
  devices.fortios = { name: env.deviceName, vendor: "fortios", sim: env.sim };
  devices.vyos = await env.addDevice({ vendor: "vyos" });
  devices.opnsense = await env.addDevice({ vendor: "opnsense" });
  await env.startOperator();
  for (const d of Object.values(devices)) await env.waitReady("vnfdevices", d.name);
});

afterAll(async () => {
  await env?.stop();
});

async function lastSeq(sim: SimulatorHandle): Promise<number> {
  const log = await sim.control.requests();
  return log.at(-1)?.seq ?? 0;
}

describe("one 401 from an appliance whose static keys are still valid", () => {
  it.each(cases)(
    "$vendor: the request is sent once more, the rule is Ready, nothing shows VNF_AUTH",
    async (c) => {
      const device = devices[c.vendor];
      if (!device) throw new Error(`no ${c.vendor} device`);
      const sim = device.sim;
      const before = await lastSeq(sim);
      await sim.control.injectFault({ kind: "authExpire", times: 1, ...c.fault });
      const name = `expiry-${c.vendor}`;
      await env.apply(ruleManifest(FIREWALL, name, device.name, c.spec));
      const rule = await env.waitReady(FIREWALL.plural, name);

      // The fault was really met by this rule's write (else this test proves nothing) ...
      const log: RequestLogEntry[] = (await sim.control.requests()).filter((r) => r.seq > before);
      const refused = log.filter((r) => r.fault === "authExpire");
      expect(refused).toHaveLength(1);
      expect(refused[0]?.status).toBe(401);
      // ... and the same request was sent again and accepted.
      const first = refused[0] as RequestLogEntry;
      const replay = log.find((r) => r.seq > first.seq && r.method === first.method && r.path === first.path);
      expect(replay?.status).toBeGreaterThanOrEqual(200);
      expect(replay?.status).toBeLessThan(300);

      expect(conditionOf(rule, "Stalled")).toBeUndefined();
      expect(statusOf(rule).errorCode).toBeUndefined();
      const dev = await env.get("vnfdevices", device.name);
      expect(conditionOf(dev, "Ready")?.status).toBe("True");
      // No Warning Event said VNF_AUTH about the rule or its device.
      const events = await env.kc
        .makeApiClient(EventsV1Api)
        .listNamespacedEvent({ namespace: env.namespace });
      const auth = events.items.filter(
        (e) => e.reason === "VNF_AUTH" && [name, device.name].includes(e.regarding?.name ?? ""),
      );
      expect(auth).toEqual([]);
    },
  );
});
