// Two installations of the operator on ONE pfSense (issue #12, coexistence): two operator processes
// with different installation ids, each watching its own namespace with its own VnfDevice, both
// devices pointing at the same pfSense simulator, both in drift Repair mode, plus objects an
// administrator made by hand. Each operator must converge its own rules and never modify, move or
// delete an object that is not its own.
//
// The evidence is the simulator's request log: every write records the objects it changed, moved or
// removed as they were just before it (`affected`), and the User-Agent names the operator that sent
// it. A write is ours only when every object it touched carries our marker for our device.
//
// pfSense addresses objects by their index in the configuration (`id`), which shifts when an earlier
// object is deleted or moved; an operator looks an object up, then writes it by index. The second
// `describe` replays, deterministically, another client's delete landing between the two: the write is
// held (a latency fault on that one request, matched by its User-Agent) and an object before ours is
// deleted meanwhile, so the index it carries now names the next object.
//
// The simulator's lost parallel writes (pfrest #238: overlapping writes each acknowledged, all but the
// last lost; writeLatencyMs) are off here: two installations writing one pfSense at the same instant
// can lose each other's writes on package versions without the config write lock, which no client can
// prevent; what this file checks is whose objects each operator writes.
import { randomUUID } from "node:crypto";
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ANNOTATION_DRIFT_CHECK_REQUESTED } from "../../src/api/annotations.ts";
import { type MarkerOwner, ownershipOf, ruleMarker } from "../../src/controllers/markers.ts";
import { readMarker } from "../../src/dictionary/rule-input.ts";
import type { RequestLogEntry, SimulatorHandle, VendorObject } from "../simulators/index.ts";
import { kubeconfigPath, waitUntil } from "../support/kube.ts";
import {
  conditionOf,
  FIREWALL,
  GROUP,
  type KubeObj,
  lastSeq,
  NAT,
  type OperatorEnv,
  type RuleKindInfo,
  sleep,
  startOperatorEnv,
  statusOf,
  VERSION,
} from "../support/operator-env.ts";
import { type OperatorChild, spawnOperator } from "../support/operator-process.ts";

type SimKind = "firewallRule" | "natRule";

const DEVICE_SPEC = { driftDetection: { interval: "10s", mode: "Repair", unmanaged: "Report" } };

interface Side {
  label: "a" | "b";
  installationId: string;
  identity: string;
  env: OperatorEnv;
  api: CustomObjectsApi;
  operator?: OperatorChild;
  owner: MarkerOwner;
  /** Every rule created on this side: kind and name. */
  rules: Array<{ kind: RuleKindInfo; simKind: SimKind; name: string }>;
}

let sim: SimulatorHandle;
let a: Side;
let b: Side;

function kindOf(simKind: SimKind): RuleKindInfo {
  return simKind === "firewallRule" ? FIREWALL : NAT;
}

const octet = (side: Side) => (side.label === "a" ? 10 : 20);

/** A firewall rule of a side: its own host and port, so that no two rules look alike. */
function fwSpec(side: Side, i: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    interface: "wan",
    action: "allow",
    protocol: "tcp",
    destination: { cidr: `198.51.100.${octet(side) + i}`, port: String(1000 + i) },
    description: `${side.label} rule ${i}`,
    ...extra,
  };
}

function natSpec(side: Side, i: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type: "dnat",
    interface: "wan",
    protocol: "tcp",
    destination: { address: "203.0.113.10", port: String(octet(side) * 100 + i) },
    translated: { address: `10.0.${octet(side)}.${i + 1}` },
    description: `${side.label} forward ${i}`,
    ...extra,
  };
}

async function create(side: Side, simKind: SimKind, name: string, spec: Record<string, unknown>) {
  const kind = kindOf(simKind);
  await side.api.createNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace: side.env.namespace,
    plural: kind.plural,
    body: {
      apiVersion: `${GROUP}/${VERSION}`,
      kind: kind.kind,
      metadata: { name },
      spec: { deviceRef: { name: side.env.deviceName }, ...spec },
    },
  });
  side.rules.push({ kind, simKind, name });
}

async function edit(side: Side, simKind: SimKind, name: string, spec: Record<string, unknown>) {
  await side.api.patchNamespacedCustomObject(
    {
      group: GROUP,
      version: VERSION,
      namespace: side.env.namespace,
      plural: kindOf(simKind).plural,
      name,
      body: { spec },
    },
    setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
  );
}

async function remove(side: Side, simKind: SimKind, name: string) {
  await side.api.deleteNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace: side.env.namespace,
    plural: kindOf(simKind).plural,
    name,
  });
}

/** Runs one drift check of the side's device now (the annotation) and waits until it is recorded. */
async function checkDrift(side: Side): Promise<void> {
  const before = Date.now();
  await side.api.patchNamespacedCustomObject(
    {
      group: GROUP,
      version: VERSION,
      namespace: side.env.namespace,
      plural: "vnfdevices",
      name: side.env.deviceName,
      body: { metadata: { annotations: { [ANNOTATION_DRIFT_CHECK_REQUESTED]: randomUUID() } } },
    },
    setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
  );
  await side.env.waitCondition(
    "vnfdevices",
    side.env.deviceName,
    (obj) => Date.parse(String(statusOf(obj).lastDriftCheckTime ?? 0)) >= Math.floor(before / 1000) * 1000,
    "a drift check recorded",
    30_000,
  );
}

/** Until every rule of the side is Ready for its generation with nothing pending, deleted ones gone. */
async function settle(side: Side, timeoutMs = 45_000): Promise<void> {
  let waitingFor = "";
  try {
    await waitUntil(
      `${side.label}: every rule settled`,
      async () => {
        for (const { kind, name } of side.rules) {
          const obj = await side.env.find<KubeObj>(kind.plural, name);
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
}

/** The candidate configuration's objects of a kind (what the API reads and writes). */
async function objects(simKind: SimKind): Promise<VendorObject[]> {
  return (await sim.control.objects(simKind)).candidate;
}

function whose(object: VendorObject): "a" | "b" | "unmanaged" {
  const marker = readMarker(String(object.descr ?? ""));
  if (ownershipOf(a.owner, marker).owner === "ours") return "a";
  if (ownershipOf(b.owner, marker).owner === "ours") return "b";
  return "unmanaged";
}

/** An object without its index (which any other write may shift). */
function content(object: VendorObject): VendorObject {
  const { id: _id, ...rest } = object;
  return rest;
}

/**
 * Every write an operator sent (after `afterSeq`) that touched an object that is not its own: which
 * operator, the request, and whose object it was. pfSense records `affected` on PATCH and DELETE.
 */
async function foreignWrites(afterSeq = 0): Promise<string[]> {
  const problems: string[] = [];
  const log: RequestLogEntry[] = await sim.control.requests();
  for (const entry of log) {
    if (entry.seq <= afterSeq || entry.method === "GET") continue;
    const agent = entry.headers["user-agent"] ?? "";
    const sender = agent.includes(a.identity) ? "a" : agent.includes(b.identity) ? "b" : undefined;
    if (sender === undefined) {
      problems.push(`#${entry.seq} ${entry.method} ${entry.path}: sent by ${agent || "nobody known"}`);
      continue;
    }
    for (const object of entry.affected ?? []) {
      const owner = whose(object);
      if (owner !== sender) {
        problems.push(
          `#${entry.seq} operator ${sender}: ${entry.method} ${entry.path} ${JSON.stringify(entry.query)} touched ${owner === "unmanaged" ? "an unmanaged" : `operator ${owner}'s`} object: ${String(object.descr)}`,
        );
      }
    }
  }
  return problems;
}

/** The side's live rules each hold exactly one object with their current description; no stray ones. */
async function audit(side: Side): Promise<string[]> {
  const problems: string[] = [];
  for (const simKind of ["firewallRule", "natRule"] as const) {
    const mine = (await objects(simKind)).filter((o) => whose(o) === side.label);
    const expected = new Set<string>();
    for (const { kind, name } of side.rules.filter((r) => r.simKind === simKind)) {
      const obj = await side.env.find<KubeObj>(kind.plural, name);
      if (!obj) continue;
      const marker = ruleMarker(side.owner, obj.metadata.uid);
      expected.add(marker);
      const held = mine.filter((o) => readMarker(String(o.descr)) === marker);
      const description = String((obj.spec as { description?: string }).description ?? "");
      if (held.length !== 1) problems.push(`${side.label} ${name}: ${held.length} objects carry its marker`);
      else if (String(held[0]?.descr) !== `${description} [vnf:${marker}]`)
        problems.push(`${side.label} ${name}: holds ${String(held[0]?.descr)}`);
    }
    for (const o of mine) {
      if (!expected.has(readMarker(String(o.descr)) ?? ""))
        problems.push(`${side.label}: ${simKind} ${String(o.descr)} has no rule`);
    }
  }
  return problems;
}

/** The administrator's objects, as made (put on the appliance by hand). */
const unmanaged = new Map<string, { simKind: SimKind; object: VendorObject }>();

async function putUnmanaged(
  simKind: SimKind,
  object: VendorObject,
  position?: number,
): Promise<VendorObject> {
  const id = await sim.control.putObject(simKind, object, position === undefined ? {} : { position });
  const all = await objects(simKind);
  const made =
    simKind === "firewallRule"
      ? all.find((o) => String(o.tracker) === id)
      : all.find((o) => o.descr === object.descr);
  if (!made) throw new Error(`the simulator lost ${String(object.descr)}`);
  unmanaged.set(String(object.descr), { simKind, object: content(made) });
  return made;
}

/** Each administrator object still there, unchanged (its index aside). */
async function unmanagedProblems(): Promise<string[]> {
  const problems: string[] = [];
  for (const [descr, { simKind, object }] of unmanaged) {
    const found = (await objects(simKind)).filter((o) => o.descr === descr);
    if (found.length !== 1) {
      problems.push(`${descr}: ${found.length} on the appliance`);
      continue;
    }
    const now = content(found[0] as VendorObject);
    const changed = Object.keys({ ...object, ...now }).filter(
      (field) => JSON.stringify(now[field]) !== JSON.stringify(object[field]),
    );
    if (changed.length > 0) problems.push(`${descr}: changed ${changed.join(", ")}`);
  }
  return problems;
}

const adminRule = (descr: string, extra: VendorObject = {}): VendorObject => ({
  type: "pass",
  interface: ["wan"],
  ipprotocol: "inet",
  protocol: "tcp",
  source: "192.0.2.0/24",
  destination: "any",
  destination_port: "22",
  descr,
  ...extra,
});

const adminForward = (descr: string, port: string): VendorObject => ({
  interface: "wan",
  protocol: "tcp",
  source: "any",
  destination: "wan:ip",
  destination_port: port,
  target: "10.99.0.1",
  local_port: port,
  descr,
});

async function startSide(label: "a" | "b", shared?: SimulatorHandle): Promise<Side> {
  const env = await startOperatorEnv({
    vendor: "pfsense",
    prefix: `coexist-${label}`,
    startOperator: false,
    device: DEVICE_SPEC,
    simulator: { writeLatencyMs: 0 },
    ...(shared ? { sharedSimulator: shared } : {}),
  });
  const device = await env.get("vnfdevices", env.deviceName);
  const installationId = `coexist-installation-${label}`;
  return {
    label,
    installationId,
    identity: `coexist-operator-${label}`,
    env,
    api: env.kc.makeApiClient(CustomObjectsApi),
    owner: { installationId, deviceUid: device.metadata.uid },
    rules: [],
  };
}

beforeAll(async () => {
  a = await startSide("a");
  sim = a.env.sim;
  b = await startSide("b", sim);
  // What an administrator made before either operator came: filter rules on both interfaces, one
  // carrying a third installation's marker, and a port forward (the factory LAN rules are there too).
  await putUnmanaged("firewallRule", adminRule("admin: ssh from the office"));
  await putUnmanaged(
    "firewallRule",
    adminRule("admin: block smb", { type: "block", destination_port: "445" }),
  );
  await putUnmanaged(
    "firewallRule",
    adminRule(
      `another cluster's rule [vnf:${ruleMarker({ installationId: "a-third-cluster", deviceUid: randomUUID() }, randomUUID())}]`,
      { interface: ["lan"], destination_port: "8080" },
    ),
  );
  await putUnmanaged("natRule", adminForward("admin: jump host", "2222"));
  for (const side of [a, b]) {
    side.operator = await spawnOperator({
      kubeconfig: kubeconfigPath(),
      namespaces: [side.env.namespace],
      installationId: side.installationId,
      identity: side.identity,
    });
  }
  for (const side of [a, b]) await side.env.waitReady("vnfdevices", side.env.deviceName);
});

afterAll(async () => {
  for (const side of [a, b]) await side?.operator?.stop();
  await b?.env.stop();
  await a?.env.stop();
});

describe("two installations on one pfSense", () => {
  it("create, edit and delete rules in parallel: each converges, neither touches the other's nor the administrator's objects", {
    timeout: 60_000,
  }, async () => {
    await Promise.all(
      [a, b].map(async (side) => {
        for (let i = 0; i < 6; i++) await create(side, "firewallRule", `fw-${i}`, fwSpec(side, i));
        for (let i = 0; i < 2; i++) await create(side, "natRule", `nat-${i}`, natSpec(side, i));
      }),
    );
    // The administrator keeps working meanwhile.
    await putUnmanaged(
      "firewallRule",
      adminRule("admin: added while the operators work", { destination_port: "3389" }),
    );
    await putUnmanaged("natRule", adminForward("admin: second forward", "2223"));
    await sleep(300);
    await Promise.all(
      [a, b].map(async (side) => {
        await edit(side, "firewallRule", "fw-0", {
          description: `${side.label} rule 0, edited`,
          destination: { cidr: `198.51.100.${octet(side)}`, port: "2000" },
        });
        await remove(side, "firewallRule", "fw-2");
        await edit(side, "firewallRule", "fw-1", { action: "deny" });
        await remove(side, "natRule", "nat-1");
        await create(side, "firewallRule", "fw-6", fwSpec(side, 6));
        await edit(side, "natRule", "nat-0", { translated: { address: `10.0.${octet(side)}.99` } });
        await remove(side, "firewallRule", "fw-3");
        await create(side, "firewallRule", "fw-7", fwSpec(side, 7));
      }),
    );
    await Promise.all([a, b].map((side) => checkDrift(side)));
    await Promise.all([a, b].map((side) => settle(side)));
    // Several drift cycles in Repair mode once both have converged: nothing of the other's is repaired.
    for (let round = 0; round < 2; round++) {
      await Promise.all([a, b].map((side) => checkDrift(side)));
      await Promise.all([a, b].map((side) => settle(side)));
    }

    expect(await foreignWrites()).toEqual([]);
    expect(await unmanagedProblems()).toEqual([]);
    expect(await audit(a)).toEqual([]);
    expect(await audit(b)).toEqual([]);
    // Each counts the other's objects among the unmanaged ones it leaves alone.
    const all = [...(await objects("firewallRule")), ...(await objects("natRule"))];
    for (const side of [a, b]) {
      const device = await side.env.get("vnfdevices", side.env.deviceName);
      expect(statusOf(device).unmanagedObjects).toBe(all.filter((o) => whose(o) !== side.label).length);
    }
  });
});

/** Where an object is in the candidate configuration (its pfSense `id`), found by description. */
async function indexOf(simKind: SimKind, descr: string): Promise<number> {
  const index = (await objects(simKind)).findIndex((o) => o.descr === descr);
  if (index < 0) throw new Error(`${descr} is not on the appliance`);
  return index;
}

/** The object of operator A's rule (its marker), as the appliance holds it now. */
async function objectOf(simKind: SimKind, name: string): Promise<VendorObject> {
  const rule = await a.env.get(kindOf(simKind).plural, name);
  const marker = ruleMarker(a.owner, rule.metadata.uid);
  const found = (await objects(simKind)).find((o) => readMarker(String(o.descr)) === marker);
  if (!found) throw new Error(`operator a's ${name} is not on the appliance`);
  return found;
}

/**
 * Puts an administrator's object just before the object of A's rule `name` (the spacer) and one just
 * after it (the victim), holds operator A's next `method` request to `pathPrefix` for 2.5 s once
 * `change` has been made, and deletes the spacer while it is held: the index that request carries
 * (when it carries one) now names the victim.
 */
async function shiftWhileHeld(
  simKind: SimKind,
  name: string,
  method: "PATCH" | "DELETE",
  pathPrefix: string,
  change: () => Promise<void>,
): Promise<{ since: number; held: number }> {
  const tag = randomUUID().slice(0, 8);
  const make = (role: string) =>
    simKind === "firewallRule"
      ? adminRule(`admin: ${role} ${tag}`, { destination_port: "5900" })
      : adminForward(`admin: ${role} ${tag}`, "5900");
  const ours = await objectOf(simKind, name);
  const at = await indexOf(simKind, String(ours.descr));
  const spacer = await putUnmanaged(simKind, make("spacer"), at);
  const victim = await putUnmanaged(simKind, make("victim"), at + 2);
  expect(await indexOf(simKind, String(ours.descr))).toBe(at + 1);
  expect(await indexOf(simKind, String(victim.descr))).toBe(at + 2);
  const since = await lastSeq(sim);
  await sim.control.injectFault({
    kind: "latency",
    ms: 2_500, // room for the delete below, even on a loaded machine
    method,
    pathPrefix,
    userAgent: a.identity,
    times: 1,
  });
  await change();
  const held = await waitUntil(
    `operator a's ${method} held`,
    async () => (await sim.control.requests({ method })).find((r) => r.seq > since && r.fault === "latency"),
    20_000,
    10,
  );
  const spacerId =
    simKind === "firewallRule"
      ? String(spacer.tracker)
      : String(await indexOf(simKind, String(spacer.descr)));
  await sim.control.deleteObject(simKind, spacerId);
  unmanaged.delete(String(spacer.descr));
  return { since, held: held.seq };
}

/** Operator A's requests of a method since `since`, answered: the held one first. */
async function answered(since: number, method: string): Promise<RequestLogEntry[]> {
  return (await sim.control.requests({ method })).filter(
    (r) => r.seq > since && r.outcome === "answered" && (r.headers["user-agent"] ?? "").includes(a.identity),
  );
}

describe("an index that shifts between operator A's lookup and its write (another client deleted an earlier object)", () => {
  it("a firewall rule's update writes A's rule, never the object that took its index", async () => {
    await create(a, "firewallRule", "shift-update", fwSpec(a, 30));
    await settle(a);
    const { since, held } = await shiftWhileHeld(
      "firewallRule",
      "shift-update",
      "PATCH",
      "/api/v2/firewall/rule",
      () => edit(a, "firewallRule", "shift-update", { destination: { cidr: "198.51.100.40", port: "4443" } }),
    );
    await settle(a);
    // The held PATCH reached the victim's index with A's tracker: refused; the next one, looked up again, landed.
    const [refused, written] = await answered(since, "PATCH");
    expect([refused?.seq, refused?.status, refused?.affected]).toEqual([held, 400, undefined]);
    expect([written?.status, written?.affected?.map(whose)]).toEqual([200, ["a"]]);
    expect(await foreignWrites(since)).toEqual([]);
    expect(await unmanagedProblems()).toEqual([]);
    expect((await objectOf("firewallRule", "shift-update")).destination_port).toBe("4443");
    expect(await audit(a)).toEqual([]);
  });

  it("a firewall rule's delete removes A's rule, never the object that took its index", async () => {
    await create(a, "firewallRule", "shift-delete", fwSpec(a, 31));
    await settle(a);
    const { since, held } = await shiftWhileHeld(
      "firewallRule",
      "shift-delete",
      "DELETE",
      "/api/v2/firewall/rule",
      () => remove(a, "firewallRule", "shift-delete"),
    );
    await a.env.waitGone(FIREWALL.plural, "shift-delete");
    // No index to go stale: pfSense resolves the tracker when the delete arrives.
    const [deleted] = await answered(since, "DELETE");
    expect([deleted?.seq, deleted?.path, deleted?.query, deleted?.affected?.map(whose)]).toEqual([
      held,
      "/api/v2/firewall/rules",
      { tracker: expect.stringMatching(/^\d+$/) },
      ["a"],
    ]);
    expect(await foreignWrites(since)).toEqual([]);
    expect(await unmanagedProblems()).toEqual([]);
    expect(await audit(a)).toEqual([]);
  });

  it("a move by the order step moves A's rule, never the object that took its index", async () => {
    await create(a, "firewallRule", "shift-first", fwSpec(a, 32, { priority: 10 }));
    await settle(a);
    await create(a, "firewallRule", "shift-second", fwSpec(a, 33, { priority: 20 }));
    await settle(a);
    await sleep(1_500); // the order step after the creates
    // The spacer goes before both rules: whichever of the two the step moves, its index shifts.
    const { since, held } = await shiftWhileHeld(
      "firewallRule",
      "shift-first",
      "PATCH",
      "/api/v2/firewall/rule",
      () => edit(a, "firewallRule", "shift-second", { priority: 5 }),
    );
    await waitUntil("shift-second moved before shift-first", async () => {
      const order = (await objects("firewallRule")).map((o) => o.descr);
      const first = order.indexOf((await objectOf("firewallRule", "shift-first")).descr);
      const second = order.indexOf((await objectOf("firewallRule", "shift-second")).descr);
      return second < first ? true : undefined;
    });
    const [refused, moved] = await answered(since, "PATCH");
    // Refused: another rule at that index (400), or none (404).
    expect([
      refused?.seq,
      [400, 404].includes(refused?.status ?? 0),
      JSON.parse(refused?.body ?? "{}").placement,
    ]).toEqual([held, true, expect.any(Number)]);
    expect([moved?.status, moved?.affected?.map(whose)]).toEqual([200, ["a"]]);
    expect(await foreignWrites(since)).toEqual([]);
    expect(await unmanagedProblems()).toEqual([]);
  });

  it("a port forward's update writes A's forward, never the object that took its index", async () => {
    await create(a, "natRule", "shift-nat-update", natSpec(a, 30));
    await settle(a);
    const { since, held } = await shiftWhileHeld(
      "natRule",
      "shift-nat-update",
      "PATCH",
      "/api/v2/firewall/nat/",
      () => edit(a, "natRule", "shift-nat-update", { translated: { address: "10.0.10.77" } }),
    );
    await settle(a);
    const [refused, written] = await answered(since, "PATCH");
    expect([refused?.seq, refused?.status, refused?.affected]).toEqual([held, 400, undefined]);
    expect([written?.status, written?.affected?.map(whose)]).toEqual([200, ["a"]]);
    expect(await foreignWrites(since)).toEqual([]);
    expect(await unmanagedProblems()).toEqual([]);
    expect((await objectOf("natRule", "shift-nat-update")).target).toBe("10.0.10.77");
    expect(await audit(a)).toEqual([]);
  });

  it("a port forward's delete removes A's forward, never the object that took its index", async () => {
    await create(a, "natRule", "shift-nat-delete", natSpec(a, 31));
    await settle(a);
    const { since, held } = await shiftWhileHeld(
      "natRule",
      "shift-nat-delete",
      "DELETE",
      "/api/v2/firewall/nat/",
      () => remove(a, "natRule", "shift-nat-delete"),
    );
    await a.env.waitGone(NAT.plural, "shift-nat-delete");
    // The held delete asked for the index AND the marker: nothing matched; looked up again, it matched.
    const [missed, deleted] = await answered(since, "DELETE");
    expect([missed?.seq, missed?.status, missed?.affected]).toEqual([held, 200, []]);
    expect([deleted?.status, deleted?.affected?.map(whose)]).toEqual([200, ["a"]]);
    expect(await foreignWrites(since)).toEqual([]);
    expect(await unmanagedProblems()).toEqual([]);
    expect(await audit(a)).toEqual([]);
  });
});

describe("installation A removed", () => {
  it("after every rule of installation A is deleted, B's objects and the administrator's are intact", {
    timeout: 60_000,
  }, async () => {
    const before = await lastSeq(sim);
    const bObjects = async () =>
      [...(await objects("firewallRule")), ...(await objects("natRule"))]
        .filter((o) => whose(o) === "b")
        .map(content);
    const bBefore = await bObjects();
    expect(bBefore.length).toBeGreaterThan(0);
    const gone = await a.env.kubectl(["delete", "vnffw,vnfnat", "--all", "--wait=true", "--timeout=40s"]);
    expect(gone.code, gone.stderr).toBe(0);
    for (const side of [a, b]) await checkDrift(side);
    await settle(b);

    const left = [...(await objects("firewallRule")), ...(await objects("natRule"))];
    expect(left.filter((o) => whose(o) === "a").map((o) => o.descr)).toEqual([]);
    expect(await bObjects()).toEqual(bBefore);
    expect(await unmanagedProblems()).toEqual([]);
    expect(await foreignWrites(before)).toEqual([]);
    expect(await audit(b)).toEqual([]);
  });
});
