// Two VnfDevices of ONE installation on one pfSense (issue #12, coexistence): one operator, two devices
// pointing at the same pfSense simulator, both in drift Repair mode. Their markers differ only in the
// device part, so each device's drift checks, order step and deletions must take the other device's
// objects for what they are to it: unmanaged (counted, never modified, moved or deleted).
//
// Phase 1 churns both devices at once (creates, edits, priority changes, deletes, several drift cycles)
// and audits each: every live rule holds exactly one object with its marker and current description,
// no object with a device's marker lacks a rule. Phase 2 churns and then empties device 1 alone, and
// shows from the simulator's request log (`affected`: the objects each write changed, moved or removed)
// that no write touched an object of device 2, whose objects stay as they were, in the same order.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type MarkerOwner, ownershipOf, ruleMarker } from "../../src/controllers/markers.ts";
import { readMarker } from "../../src/dictionary/rule-input.ts";
import type { RequestLogEntry, VendorObject } from "../simulators/index.ts";
import { waitUntil } from "../support/kube.ts";
import {
  conditionOf,
  FIREWALL,
  type KubeObj,
  lastSeq,
  NAT,
  type OperatorEnv,
  type RuleKindInfo,
  ruleManifest,
  sleep,
  startOperatorEnv,
  statusOf,
  TEST_INSTALLATION_ID,
} from "../support/operator-env.ts";

type SimKind = "firewallRule" | "natRule";
const DEVICE_SPEC = { driftDetection: { interval: "10s", mode: "Repair", unmanaged: "Report" } };

interface Device {
  name: string;
  owner: MarkerOwner;
  /** Every rule made for this device: kind and name (deleted ones too). */
  rules: Array<{ kind: RuleKindInfo; simKind: SimKind; name: string }>;
}

let env: OperatorEnv;
let one: Device;
let two: Device;

const fw = (device: Device, i: number, priority: number, extra: Record<string, unknown> = {}) => ({
  interface: "wan",
  action: "allow",
  protocol: "tcp",
  destination: { cidr: `198.51.100.${device === one ? 10 + i : 40 + i}`, port: "443" },
  description: `${device.name} rule ${i}`,
  priority,
  ...extra,
});

const forward = (device: Device, i: number, extra: Record<string, unknown> = {}) => ({
  type: "dnat",
  interface: "wan",
  protocol: "tcp",
  destination: { address: "203.0.113.10", port: String((device === one ? 7000 : 8000) + i) },
  translated: { address: `10.0.${device === one ? 1 : 2}.${i + 1}` },
  description: `${device.name} forward ${i}`,
  ...extra,
});

async function apply(device: Device, kind: RuleKindInfo, name: string, spec: object): Promise<void> {
  await env.apply(ruleManifest(kind, name, device.name, spec as Record<string, unknown>));
  if (!device.rules.some((r) => r.name === name && r.kind === kind))
    device.rules.push({ kind, simKind: kind === FIREWALL ? "firewallRule" : "natRule", name });
}

async function remove(kind: RuleKindInfo, name: string): Promise<void> {
  await env.kubectl(["delete", `${kind.plural}/${name}`, "--wait=false"]);
}

async function objects(simKind: SimKind): Promise<VendorObject[]> {
  return (await env.sim.control.objects(simKind)).candidate;
}

function whose(object: VendorObject): "one" | "two" | "unmanaged" {
  const marker = readMarker(String(object.descr ?? ""));
  if (ownershipOf(one.owner, marker).owner === "ours") return "one";
  if (ownershipOf(two.owner, marker).owner === "ours") return "two";
  return "unmanaged";
}

function content(object: VendorObject): VendorObject {
  const { id: _id, ...rest } = object;
  return rest;
}

/** Until every rule of the device is Ready for its generation with nothing pending, deleted ones gone. */
async function settle(device: Device, timeoutMs = 45_000): Promise<void> {
  let waitingFor = "";
  try {
    await waitUntil(
      `${device.name}: every rule settled`,
      async () => {
        for (const { kind, name } of device.rules) {
          const obj = await env.find<KubeObj>(kind.plural, name);
          if (!obj) continue;
          waitingFor = `${name}: ${JSON.stringify(obj.status ?? {})}`;
          if ((obj.metadata as { deletionTimestamp?: string }).deletionTimestamp) return undefined;
          const ready = conditionOf(obj, "Ready");
          if (ready?.status !== "True" || Number(ready.observedGeneration) !== obj.metadata.generation)
            return undefined;
          if (statusOf(obj).pendingOperation !== undefined) return undefined;
        }
        return true;
      },
      timeoutMs,
      200,
    );
  } catch (error) {
    throw new Error(`${(error as Error).message}; still waiting for ${waitingFor}`);
  }
  await sleep(1_500); // the order step, a second after rule writes
}

/** Each live rule of the device holds exactly one object, with its current description; no stray one. */
async function audit(device: Device): Promise<string[]> {
  const label = device === one ? "one" : "two";
  const problems: string[] = [];
  for (const simKind of ["firewallRule", "natRule"] as const) {
    const mine = (await objects(simKind)).filter((o) => whose(o) === label);
    const expected = new Set<string>();
    for (const { kind, name } of device.rules.filter((r) => r.simKind === simKind)) {
      const obj = await env.find<KubeObj>(kind.plural, name);
      if (!obj) continue;
      const marker = ruleMarker(device.owner, obj.metadata.uid);
      expected.add(marker);
      const held = mine.filter((o) => readMarker(String(o.descr)) === marker);
      const description = String((obj.spec as { description?: string }).description ?? "");
      if (held.length !== 1) problems.push(`${name}: ${held.length} objects carry its marker`);
      else if (String(held[0]?.descr) !== `${description} [vnf:${marker}]`)
        problems.push(`${name}: holds ${String(held[0]?.descr)}`);
    }
    for (const o of mine) {
      if (!expected.has(readMarker(String(o.descr)) ?? ""))
        problems.push(`${simKind} ${String(o.descr)} has no rule`);
    }
  }
  return problems;
}

/** Device two's objects as the appliance holds them: content and order, per kind. */
async function snapshotOfTwo(): Promise<Record<SimKind, VendorObject[]>> {
  return {
    firewallRule: (await objects("firewallRule")).filter((o) => whose(o) === "two").map(content),
    natRule: (await objects("natRule")).filter((o) => whose(o) === "two").map(content),
  };
}

beforeAll(async () => {
  env = await startOperatorEnv({
    vendor: "pfsense",
    prefix: "twodevices",
    device: DEVICE_SPEC,
    simulator: { writeLatencyMs: 0 },
  });
  await env.addDevice({ vendor: "pfsense", name: "edge-two", device: DEVICE_SPEC, sharedSimulator: env.sim });
  await env.waitReady("vnfdevices", "edge-two");
  const uidOf = async (name: string) => (await env.get("vnfdevices", name)).metadata.uid;
  one = {
    name: env.deviceName,
    owner: { installationId: TEST_INSTALLATION_ID, deviceUid: await uidOf(env.deviceName) },
    rules: [],
  };
  two = {
    name: "edge-two",
    owner: { installationId: TEST_INSTALLATION_ID, deviceUid: await uidOf("edge-two") },
    rules: [],
  };
});

afterAll(async () => {
  await env?.stop();
});

describe("two VnfDevices of one installation on one pfSense, both in Repair mode", () => {
  it("churned in parallel over several drift cycles: each converges to exactly its own objects", {
    timeout: 120_000,
  }, async () => {
    await Promise.all(
      [one, two].map(async (device) => {
        for (let i = 0; i < 5; i++)
          await apply(device, FIREWALL, `${device.name}-fw-${i}`, fw(device, i, 100 + i));
        for (let i = 0; i < 2; i++) await apply(device, NAT, `${device.name}-nat-${i}`, forward(device, i));
      }),
    );
    await sleep(300);
    await Promise.all(
      [one, two].map(async (device) => {
        await apply(
          device,
          FIREWALL,
          `${device.name}-fw-0`,
          fw(device, 0, 100, { description: `${device.name} rule 0, edited` }),
        );
        // Last now: the order step moves it, within this device's rules.
        await apply(device, FIREWALL, `${device.name}-fw-1`, fw(device, 1, 900));
        await remove(FIREWALL, `${device.name}-fw-2`);
        await apply(
          device,
          NAT,
          `${device.name}-nat-0`,
          forward(device, 0, { translated: { address: "10.0.9.9" } }),
        );
        await remove(NAT, `${device.name}-nat-1`);
        await apply(device, FIREWALL, `${device.name}-fw-5`, fw(device, 5, 50));
      }),
    );
    for (let round = 0; round < 3; round++) {
      await Promise.all([one, two].map((device) => env.checkDrift(device.name)));
      await Promise.all([one, two].map((device) => settle(device)));
    }
    expect(await audit(one)).toEqual([]);
    expect(await audit(two)).toEqual([]);
    // Each device counts the other's objects among those it leaves alone (with pfSense's factory rules).
    const all = [...(await objects("firewallRule")), ...(await objects("natRule"))];
    for (const [device, label] of [
      [one, "one"],
      [two, "two"],
    ] as const) {
      const status = statusOf(await env.get("vnfdevices", device.name));
      expect(status.unmanagedObjects).toBe(all.filter((o) => whose(o) !== label).length);
    }
  });

  it("device one churned and emptied alone: no write touches device two's objects, which keep their content and order", {
    timeout: 120_000,
  }, async () => {
    const before = await snapshotOfTwo();
    expect(before.firewallRule.length).toBeGreaterThan(0);
    const since = await lastSeq(env.sim);

    // Priority changes (moves among device two's rules in the same interface), edits, then deletes.
    await apply(one, FIREWALL, `${one.name}-fw-3`, fw(one, 3, 1));
    await apply(one, FIREWALL, `${one.name}-fw-4`, fw(one, 4, 5000, { action: "deny" }));
    await settle(one);
    await env.checkDrift(one.name);
    await settle(one);
    for (const { kind, name } of one.rules) if (await env.find(kind.plural, name)) await remove(kind, name);
    for (const { kind, name } of one.rules) await env.waitGone(kind.plural, name);
    await env.checkDrift(one.name);
    await env.checkDrift(one.name);

    expect((await objects("firewallRule")).filter((o) => whose(o) === "one")).toEqual([]);
    expect((await objects("natRule")).filter((o) => whose(o) === "one")).toEqual([]);
    const log: RequestLogEntry[] = await env.sim.control.requests();
    const writes = log.filter((r) => r.seq > since && r.method !== "GET");
    expect(writes.length).toBeGreaterThan(0);
    const foreign = writes.flatMap((r) =>
      (r.affected ?? [])
        .filter((o) => whose(o) !== "one")
        .map((o) => `#${r.seq} ${r.method} ${r.path} ${JSON.stringify(r.query)} touched ${String(o.descr)}`),
    );
    expect(foreign).toEqual([]);
    expect(await snapshotOfTwo()).toEqual(before);
    // Device two, checked after all that, has nothing to repair: its drift check writes nothing.
    const beforeCheck = await lastSeq(env.sim);
    await env.checkDrift(two.name);
    await settle(two);
    const after = (await env.sim.control.requests()).filter((r) => r.seq > beforeCheck && r.method !== "GET");
    expect(after).toEqual([]);
    expect(await audit(two)).toEqual([]);
  });
});
