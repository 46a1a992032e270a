// Ownership markers forged on the appliance by hand (issue #12), end to end: the real API server, the
// operator as `vnf-operator run` assembles it, the pfSense simulator, drift in Repair mode. The CRDs
// refuse `[vnf:` in a description (test/integration/crds.test.ts); this is what an administrator can
// still do on the appliance itself. The rule the product follows (docs/design.md, "Ownership markers"):
//
// 1. A marker typed by hand in our form — our installation and device parts, a live rule's part, a
//    check that does not verify — is not ours: the object is unmanaged. It is never modified, moved or
//    deleted (drift checks, the rule's updates, its moves, its deletion), and it never makes the
//    operator delete the rule's own object (the bug #12 reported: OrphanRemoved on the rule's object).
// 2. A verbatim copy of a live rule's marker (pfSense's "copy rule" keeps the description) cannot be told
//    from ours by its marker, so the operator never guesses: only the object the rule's status records
//    is ever written. A filter rule is addressed by its tracker: the copy is left alone while the rule
//    lives (drift, update, move), and the rule's deletion deletes the recorded object only. A port
//    forward is addressed by its marker: a write that finds two objects with it refuses (VNF_CONFLICT,
//    the rule Stalled, nothing written or deleted) until a person removes the copy or its marker.
// 3. Once its rule is gone, an object still carrying our exact marker (the copy, or a leftover of ours)
//    is never deleted: no drift check, in Repair mode either, removes it. It is reported once (a
//    Warning Event OrphansFound naming it) and counted with the unmanaged objects.
import { EventsV1Api } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { devicePart, installationPart, rulePart } from "../../src/controllers/markers.ts";
import type { RequestLogEntry, VendorObject } from "../simulators/index.ts";
import {
  conditionOf,
  FIREWALL,
  type KubeObj,
  lastSeq,
  markerTokenOf,
  NAT,
  type OperatorEnv,
  ruleManifest,
  sleep,
  startOperatorEnv,
  statusOf,
  TEST_INSTALLATION_ID,
} from "../support/operator-env.ts";

let env: OperatorEnv;
let deviceUid: string;

const fw = (description: string, octet: number, priority: number) => ({
  interface: "wan",
  action: "allow",
  protocol: "tcp",
  destination: { cidr: `198.51.100.${octet}`, port: "443" },
  description,
  priority,
});

const forward = (description: string, port: string) => ({
  type: "dnat",
  interface: "wan",
  protocol: "tcp",
  destination: { address: "203.0.113.10", port },
  translated: { address: "10.0.0.5" },
  description,
});

beforeAll(async () => {
  env = await startOperatorEnv({
    vendor: "pfsense",
    prefix: "forged",
    device: { driftDetection: { interval: "10s", mode: "Repair", unmanaged: "Report" } },
    // Objects put by hand never overlap an API write here (pfrest #238 lost writes are not the subject).
    simulator: { writeLatencyMs: 0 },
  });
  deviceUid = (await env.get("vnfdevices", env.deviceName)).metadata.uid;
});

afterAll(async () => {
  await env?.stop();
});

async function objects(kind: "firewallRule" | "natRule"): Promise<VendorObject[]> {
  return (await env.sim.control.objects(kind)).candidate;
}

function content(object: VendorObject): VendorObject {
  const { id: _id, ...rest } = object;
  return rest;
}

/** The one object with this exact description (the test's hand-made objects are unique by it). */
async function byDescr(kind: "firewallRule" | "natRule", descr: string): Promise<VendorObject[]> {
  return (await objects(kind)).filter((o) => o.descr === descr);
}

/** Writes (not GET) since `since` whose affected objects include one with this description. */
async function writesTouching(since: number, descr: string): Promise<string[]> {
  const log: RequestLogEntry[] = await env.sim.control.requests();
  return log
    .filter((r) => r.seq > since && r.method !== "GET")
    .filter((r) => (r.affected ?? []).some((o) => o.descr === descr))
    .map((r) => `#${r.seq} ${r.method} ${r.path} ${JSON.stringify(r.query)}`);
}

async function orphanEvents(): Promise<string[]> {
  const events = await env.kc.makeApiClient(EventsV1Api).listNamespacedEvent({ namespace: env.namespace });
  return events.items.filter((e) => e.reason === "OrphansFound").map((e) => String(e.note));
}

async function waitRepairIdle(): Promise<void> {
  // Two checks in a row: the second sees what the first (and anything it asked for) left.
  await env.checkDrift();
  await sleep(1_200); // the order step a second after writes
  await env.checkDrift();
}

describe("a marker typed by hand in our form (the check does not verify)", () => {
  it("is never modified, moved or deleted, and never costs the rule its own object", {
    timeout: 60_000,
  }, async () => {
    await env.apply(ruleManifest(FIREWALL, "neighbour", env.deviceName, fw("neighbour", 10, 10)));
    await env.apply(ruleManifest(FIREWALL, "guarded", env.deviceName, fw("guarded", 11, 20)));
    await env.apply(ruleManifest(NAT, "forward", env.deviceName, forward("forward", "8080")));
    for (const [plural, name] of [
      [FIREWALL.plural, "neighbour"],
      [FIREWALL.plural, "guarded"],
      [NAT.plural, "forward"],
    ] as const)
      await env.waitReady(plural, name);
    const guarded = await env.get(FIREWALL.plural, "guarded");
    const nat = await env.get(NAT.plural, "forward");
    const tracker = String(statusOf(guarded).vendorRef);
    // Our installation and device parts and the live rule's part, with a made-up check.
    const typed = (uid: string) =>
      `[vnf:${installationPart(TEST_INSTALLATION_ID)}.${devicePart(deviceUid)}.${rulePart(uid)}.00000000]`;
    const forgedRule = `typed by hand ${typed(guarded.metadata.uid)}`;
    const forgedForward = `typed by hand ${typed(nat.metadata.uid)}`;
    // First in the list, ahead of every managed rule: were it taken for `guarded`, the order step
    // (which puts `guarded` after `neighbour`) would move it.
    await env.sim.control.putObject(
      "firewallRule",
      {
        type: "pass",
        interface: ["wan"],
        ipprotocol: "inet",
        protocol: "tcp",
        source: "any",
        destination: "198.51.100.11",
        destination_port: "443",
        descr: forgedRule,
      },
      { position: 0 },
    );
    await env.sim.control.putObject("natRule", {
      interface: "wan",
      protocol: "tcp",
      source: "any",
      destination: "203.0.113.10",
      destination_port: "8080",
      target: "10.0.0.5",
      local_port: "8080",
      descr: forgedForward,
    });
    const [ruleBefore] = await byDescr("firewallRule", forgedRule);
    const [forwardBefore] = await byDescr("natRule", forgedForward);
    const since = await lastSeq(env.sim);

    await waitRepairIdle();
    // The rule moves (priority before its neighbour), then is edited: an update and a move.
    await env.apply(ruleManifest(FIREWALL, "guarded", env.deviceName, fw("guarded, edited", 11, 5)));
    await env.waitReady(FIREWALL.plural, "guarded");
    await waitRepairIdle();
    const after = await env.get(FIREWALL.plural, "guarded");
    expect(statusOf(after).vendorRef).toBe(tracker);
    expect(conditionOf(after, "Ready")?.status).toBe("True");
    expect(statusOf(await env.get("vnfdevices", env.deviceName)).unmanagedObjects).toBeGreaterThanOrEqual(4);

    // The rules go; the hand-made objects stay, as made.
    await env.kubectl(["delete", "vnffw/guarded", "vnfnat/forward", "--wait=true", "--timeout=30s"]);
    await waitRepairIdle();
    expect(await writesTouching(since, forgedRule)).toEqual([]);
    expect(await writesTouching(since, forgedForward)).toEqual([]);
    expect((await byDescr("firewallRule", forgedRule)).map(content)).toEqual([content(ruleBefore ?? {})]);
    expect((await byDescr("natRule", forgedForward)).map(content)).toEqual([content(forwardBefore ?? {})]);
    // The rule's own object was deleted once, by its tracker, when the rule was deleted: no orphan removal.
    const deletes = (await env.sim.control.requests({ method: "DELETE" })).filter((r) => r.seq > since);
    expect(deletes.filter((r) => r.path === "/api/v2/firewall/rules").map((r) => r.query)).toEqual([
      { tracker },
    ]);
    expect(await orphanEvents()).toEqual([]);
  });
});

describe("a verbatim copy of a live rule's marker (pfSense's copy rule)", () => {
  it("filter rule: only the recorded object is written; the copy is left alone while the rule lives and after it is gone", {
    timeout: 60_000,
  }, async () => {
    await env.apply(ruleManifest(FIREWALL, "copied", env.deviceName, fw("copied", 20, 30)));
    const rule = await env.waitReady(FIREWALL.plural, "copied");
    const tracker = String(statusOf(rule).vendorRef);
    const [original] = (await objects("firewallRule")).filter((o) => String(o.tracker) === tracker);
    expect(original?.descr).toBe(`copied ${markerTokenOf(deviceUid, rule.metadata.uid)}`);
    // The copy: every field of the original (its description and marker too), its own tracker, listed first.
    const { id: _id, tracker: _tracker, ...fields } = original as VendorObject;
    const copyTracker = await env.sim.control.putObject("firewallRule", fields, { position: 0 });
    const copyBefore = (await objects("firewallRule")).find((o) => String(o.tracker) === copyTracker);
    const since = await lastSeq(env.sim);

    await waitRepairIdle();
    await env.apply(ruleManifest(FIREWALL, "copied", env.deviceName, fw("copied", 21, 1)));
    const edited = await env.waitReady(FIREWALL.plural, "copied");
    await waitRepairIdle();
    expect(statusOf(edited).vendorRef).toBe(tracker);
    const copyNow = (await objects("firewallRule")).find((o) => String(o.tracker) === copyTracker);
    expect(content(copyNow ?? {})).toEqual(content(copyBefore ?? {}));
    const recorded = (await objects("firewallRule")).find((o) => String(o.tracker) === tracker);
    expect(recorded?.destination).toBe("198.51.100.21");
    const touched = (await env.sim.control.requests())
      .filter((r) => r.seq > since && r.method !== "GET")
      .flatMap((r) => (r.affected ?? []).map((o) => String(o.tracker)));
    expect(touched).not.toContain(copyTracker);
    expect(touched).toContain(tracker);

    // The rule's deletion deletes the recorded object, by its tracker, and nothing else.
    const beforeDelete = await lastSeq(env.sim);
    await env.kubectl(["delete", "vnffw/copied", "--wait=true", "--timeout=30s"]);
    const deleted = (await env.sim.control.requests({ method: "DELETE" })).filter(
      (r) => r.seq > beforeDelete,
    );
    expect(deleted.map((r) => [r.query, (r.affected ?? []).map((o) => String(o.tracker))])).toEqual([
      [{ tracker }, [tracker]],
    ]);
    // Rule 3: its rule gone, the copy carries our exact marker: reported, never deleted, over two checks.
    const afterDelete = await lastSeq(env.sim);
    await waitRepairIdle();
    await waitRepairIdle();
    const copyAfter = (await objects("firewallRule")).find((o) => String(o.tracker) === copyTracker);
    expect(content(copyAfter ?? {})).toEqual(content(copyBefore ?? {}));
    const writes = (await env.sim.control.requests()).filter(
      (r) => r.seq > afterDelete && r.method !== "GET" && r.path.startsWith("/api/v2/firewall/rule"),
    );
    expect(writes).toEqual([]);
    const reports = (await orphanEvents()).filter((note) => note.includes(copyTracker));
    expect(reports).toHaveLength(1);
    expect(reports[0]).toContain("never deletes");
  });

  it("port forward: a write that finds two objects with the marker refuses; nothing is deleted until the copy loses it", {
    timeout: 60_000,
  }, async () => {
    await env.apply(ruleManifest(NAT, "shared", env.deviceName, forward("shared", "9090")));
    const rule = await env.waitReady(NAT.plural, "shared");
    const token = markerTokenOf(deviceUid, rule.metadata.uid);
    const [original] = (await objects("natRule")).filter((o) => String(o.descr).endsWith(token));
    const { id: _id, ...fields } = original as VendorObject;
    await env.sim.control.putObject("natRule", { ...fields, target: "10.0.0.66" }, { position: 0 });
    const twins = async () => (await objects("natRule")).filter((o) => String(o.descr).endsWith(token));
    const before = (await twins()).map(content);
    expect(before).toHaveLength(2);
    const since = await lastSeq(env.sim);

    // Deleting the rule: its object is found by marker, twice: the operator refuses to guess.
    await env.kubectl(["delete", "vnfnat/shared", "--wait=false"]);
    const stalled = await env.waitCondition(
      NAT.plural,
      "shared",
      (obj) => conditionOf(obj, "Stalled")?.status === "True",
      "Stalled",
    );
    expect(conditionOf(stalled, "Stalled")?.reason).toBe("VNF_CONFLICT");
    await env.checkDrift();
    expect((await twins()).map(content)).toEqual(before);
    expect(
      (await env.sim.control.requests()).filter(
        (r) => r.seq > since && r.method !== "GET" && r.path.startsWith("/api/v2/firewall/nat"),
      ),
    ).toEqual([]);

    // A person takes the token off the copy: the deletion goes on and removes the rule's object only.
    const copyIndex = (await objects("natRule")).findIndex(
      (o) => String(o.descr).endsWith(token) && o.target === "10.0.0.66",
    );
    await env.sim.control.updateObject("natRule", String(copyIndex), { descr: "kept by hand" });
    await env.kubectl(["annotate", "vnfnat/shared", "retry=1", "--overwrite"]);
    await env.waitGone(NAT.plural, "shared");
    expect(await twins()).toEqual([]);
    const kept = await byDescr("natRule", "kept by hand");
    expect(kept.map((o) => o.target)).toEqual(["10.0.0.66"]);
    await env.checkDrift();
    expect(await byDescr("natRule", "kept by hand")).toHaveLength(1);
    // Nothing else on the device was taken for an orphan along the way.
    const stillThere = await env.find<KubeObj>(FIREWALL.plural, "neighbour");
    expect(stillThere && conditionOf(stillThere, "Ready")?.status).toBe("True");
  });
});
