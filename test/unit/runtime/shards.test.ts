// Sharding: the pure decisions (shards.ts) and the Lease coordinator (shard-coordinator.ts) against an
// in-memory Lease API with the API server's optimistic concurrency, on a fake clock. The property
// every test checks: no shard ever has two owners — a Lease changes holder only once it was released
// or its holder stopped renewing it for longer than the lease duration, and a replica stops a shard's
// work before anyone else may take it.
import { describe, expect, it } from "vitest";
import { FakeClock, flushMicrotasks } from "../../../src/runtime/fake-clock.ts";
import { KubeApiError, type KubeRequest } from "../../../src/runtime/kube-http.ts";
import { ShardCoordinator } from "../../../src/runtime/shard-coordinator.ts";
import { assignShards, shardOf, stableHash } from "../../../src/runtime/shards.ts";
import { FakeKubeClient } from "./fake-kube-client.ts";

describe("shardOf / assignShards", () => {
  it("hashes the same key to the same shard in every process (pinned values)", () => {
    // Pinned: a change of the hash would move every device to another shard on upgrade.
    expect(["a", "ns/edge-1", "tenant-7/fgt-12"].map((k) => stableHash(k))).toEqual([
      444641715, 2944039653, 2253155985,
    ]);
    expect(shardOf("ns/edge-1", 8)).toBe(2944039653 % 8);
  });

  it("spreads devices evenly over the shards", () => {
    const counts = new Array(8).fill(0);
    for (let i = 0; i < 4000; i++) counts[shardOf(`ns-${i % 7}/device-${i}`, 8)]++;
    for (const n of counts) expect(n).toBeGreaterThan(400);
    for (const n of counts) expect(n).toBeLessThan(600);
  });

  it("shares the shards out evenly, the same on every replica, and moves few when members change", () => {
    const share = (owners: string[]) => {
      const counts = new Map<string, number>();
      for (const o of owners) counts.set(o, (counts.get(o) ?? 0) + 1);
      return counts;
    };
    const three = assignShards(16, ["a", "b", "c"]);
    expect([...share(three).values()].sort()).toEqual([5, 5, 6]);
    expect(assignShards(16, ["c", "a", "b"])).toEqual(three); // member order does not matter
    expect(assignShards(6, ["a", "b", "c"]).filter((o) => o === "b")).toHaveLength(2);
    const four = assignShards(16, ["a", "b", "c", "d"]);
    expect([...share(four).values()]).toEqual([4, 4, 4, 4]);
    // d joining takes its 4; most others stay where they were.
    const moved = four.filter((o, s) => o !== three[s]).length;
    expect(moved).toBeLessThanOrEqual(8);
    // b leaving: its shards go, the others' mostly stay.
    const two = assignShards(16, ["a", "c"]);
    expect([...share(two).values()]).toEqual([8, 8]);
    expect(two.filter((o, s) => three[s] !== "b" && o !== three[s]).length).toBeLessThanOrEqual(3);
    expect(assignShards(4, [])).toEqual([]);
  });
});

interface Lease {
  metadata: { name: string; namespace: string; resourceVersion?: string; labels?: Record<string, string> };
  spec: { holderIdentity?: string; leaseDurationSeconds?: number; renewTime?: string };
}

/**
 * Leases in memory with resourceVersion checks. Records every change of a shard Lease's holder with
 * the time, so a test can check that no shard was taken from a live holder.
 */
function leaseServer(clock: FakeClock) {
  const leases = new Map<string, Lease>();
  const state = { rv: 0, down: new Set<string>() };
  const handovers: Array<{ shard: string; from: string; to: string; at: number }> = [];
  const handle =
    (from: string) =>
    (req: KubeRequest): unknown => {
      if (state.down.has(from)) return new KubeApiError(503, "ServiceUnavailable", "down");
      const body = req.body as Lease | undefined;
      if (req.method === "GET") {
        const selector = String(req.query?.labelSelector ?? "");
        const [key, value] = selector.split("=");
        return { items: [...leases.values()].filter((l) => !key || l.metadata.labels?.[key] === value) };
      }
      const name = body?.metadata.name ?? "";
      const current = leases.get(name);
      if (req.method === "POST" && current) return new KubeApiError(409, "AlreadyExists", "exists");
      if (req.method === "PUT" && body?.metadata.resourceVersion !== current?.metadata.resourceVersion)
        return new KubeApiError(409, "Conflict", "modified");
      const stored = { ...body!, metadata: { ...body!.metadata, resourceVersion: String(++state.rv) } };
      const before = current?.spec.holderIdentity ?? "";
      const after = stored.spec.holderIdentity ?? "";
      if (name.includes("-shard-") && after !== "" && after !== before)
        handovers.push({ shard: name, from: before, to: after, at: clock.now() });
      leases.set(name, stored);
      return stored;
    };
  return { leases, state, handovers, handle };
}

const timings = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };

function replica(identity: string, server: ReturnType<typeof leaseServer>, clock: FakeClock, shards = 6) {
  const client = new FakeKubeClient();
  client.onRequest = server.handle(identity);
  const log: string[] = [];
  const owned = new Set<number>();
  const c = new ShardCoordinator(
    client,
    { namespace: "ns", group: "vnf", shards, identity, ...timings },
    {
      onAcquired: (shard) => {
        expect(owned.has(shard)).toBe(false);
        owned.add(shard);
        log.push(`+${shard}`);
      },
      onRevoked: async (shard, immediate) => {
        owned.delete(shard);
        log.push(`-${shard}${immediate ? "!" : ""}`);
      },
    },
    { clock },
  );
  return { c, log, owned, identity };
}

type Replica = ReturnType<typeof replica>;

/** One retry period: every live replica runs a round, then time moves on. */
async function round(clock: FakeClock, replicas: Replica[]) {
  for (const r of replicas) {
    await r.c.tick();
    await flushMicrotasks(20);
  }
  clock.advance(timings.retryPeriodMs);
}

/** No shard is worked on by two replicas at once. */
function exclusive(replicas: Replica[]) {
  const seen = new Map<number, string>();
  for (const r of replicas) {
    for (const shard of r.owned) {
      expect(seen.get(shard), `shard ${shard} owned by ${seen.get(shard)} and ${r.identity}`).toBeUndefined();
      seen.set(shard, r.identity);
    }
  }
  return seen;
}

describe("ShardCoordinator", () => {
  it("one replica takes every shard and keeps renewing them", async () => {
    const clock = new FakeClock();
    const server = leaseServer(clock);
    const a = replica("a", server, clock);
    for (let i = 0; i < 3; i++) await round(clock, [a]);
    expect([...a.owned].sort()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(a.c.members()).toEqual(["a"]);
    const renewTime = server.leases.get("vnf-shard-0")?.spec.renewTime;
    await round(clock, [a]);
    expect(server.leases.get("vnf-shard-0")?.spec.renewTime).not.toBe(renewTime);
  });

  it("three replicas split the shards by rendezvous, each shard owned by exactly one", async () => {
    const clock = new FakeClock();
    const server = leaseServer(clock);
    const rs = ["a", "b", "c"].map((id) => replica(id, server, clock));
    for (let i = 0; i < 6; i++) {
      await round(clock, rs);
      exclusive(rs);
    }
    const owners = exclusive(rs);
    expect(owners.size).toBe(6);
    const wanted = assignShards(6, ["a", "b", "c"]);
    for (const [shard, owner] of owners) expect(owner).toBe(wanted[shard]);
  });

  it("a joining replica gets its shards by handover: drained by the old owner before it takes them", async () => {
    const clock = new FakeClock();
    const server = leaseServer(clock);
    const a = replica("a", server, clock);
    for (let i = 0; i < 3; i++) await round(clock, [a]);
    const b = replica("b", server, clock);
    for (let i = 0; i < 6; i++) {
      await round(clock, [a, b]);
      exclusive([a, b]);
    }
    const wonByB = [0, 1, 2, 3, 4, 5].filter((s) => assignShards(6, ["a", "b"])[s] === "b");
    expect([...b.owned].sort()).toEqual(wonByB);
    for (const shard of wonByB) {
      expect(a.log).toContain(`-${shard}`); // handed over, not lost
      expect(a.log).not.toContain(`-${shard}!`);
      expect(server.handovers).toContainEqual(
        expect.objectContaining({ shard: `vnf-shard-${shard}`, to: "b" }),
      );
    }
  });

  it("a replica that dies (no release) loses its shards only after the lease duration", async () => {
    const clock = new FakeClock();
    const server = leaseServer(clock);
    const rs = ["a", "b", "c"].map((id) => replica(id, server, clock));
    for (let i = 0; i < 6; i++) await round(clock, rs);
    const [a, b, c] = rs as [Replica, Replica, Replica];
    const ofC = [...c.owned];
    expect(ofC.length).toBeGreaterThan(0);
    // c's last renewal was in the last round before it died, one retry period ago.
    const lastRenewal = clock.now() - timings.retryPeriodMs;
    for (let i = 0; i < 15; i++) {
      await round(clock, [a, b]);
      exclusive([a, b]);
    }
    const fromC = server.handovers.filter((h) => h.from === "c");
    expect(fromC.map((h) => h.shard).sort()).toEqual(ofC.map((s) => `vnf-shard-${s}`).sort());
    // Taken only once c's last renewal is older than the lease duration…
    for (const h of fromC) expect(h.at - lastRenewal).toBeGreaterThanOrEqual(timings.leaseDurationMs);
    for (const shard of ofC) expect(a.owned.has(shard) || b.owned.has(shard)).toBe(true);
    // …and soon after: within the lease duration plus two retry periods (to notice, then to take).
    const takeover = Math.max(...fromC.map((h) => h.at)) - lastRenewal;
    expect(takeover).toBeLessThanOrEqual(timings.leaseDurationMs + 2 * timings.retryPeriodMs);
  });

  it("cut off from the API server, a replica stops its shards' work before anyone may take them", async () => {
    const clock = new FakeClock();
    const server = leaseServer(clock);
    const a = replica("a", server, clock);
    const b = replica("b", server, clock);
    for (let i = 0; i < 6; i++) await round(clock, [a, b]);
    const ofA = [...a.owned];
    server.state.down.add("a");
    const cut = clock.now();
    let stoppedAt: number | undefined;
    for (let i = 0; i < 12; i++) {
      await round(clock, [a, b]);
      if (stoppedAt === undefined && a.owned.size === 0) stoppedAt = clock.now();
      for (const h of server.handovers.filter((h) => h.from === "a")) {
        expect(stoppedAt, "a stopped before b took its shard").toBeDefined();
        expect(h.at).toBeGreaterThanOrEqual(stoppedAt ?? Number.POSITIVE_INFINITY);
      }
    }
    for (const shard of ofA) expect(a.log).toContain(`-${shard}!`);
    expect((stoppedAt ?? 0) - cut).toBeLessThanOrEqual(timings.renewDeadlineMs + 2 * timings.retryPeriodMs);
    for (const shard of ofA) expect(b.owned.has(shard)).toBe(true);
  });

  it("a replica that stops hands its shards over at once (released, not left to expire)", async () => {
    const clock = new FakeClock();
    const server = leaseServer(clock);
    const a = replica("a", server, clock);
    const b = replica("b", server, clock);
    for (let i = 0; i < 6; i++) await round(clock, [a, b]);
    const ofA = [...a.owned];
    await a.c.leave();
    expect(a.owned.size).toBe(0);
    await round(clock, [b]);
    await round(clock, [b]);
    for (const shard of ofA) expect(b.owned.has(shard)).toBe(true);
  });
});
