import { describe, expect, it } from "vitest";
import { FakeClock, flushMicrotasks } from "../../../src/runtime/fake-clock.ts";
import { KubeApiError, type KubeRequest } from "../../../src/runtime/kube-http.ts";
import { LeaderElector } from "../../../src/runtime/leader-election.ts";
import { FakeKubeClient } from "./fake-kube-client.ts";

interface Lease {
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec: Record<string, unknown>;
}

/** An in-memory Lease endpoint with the API server's optimistic concurrency. */
function leaseServer() {
  const state = { lease: undefined as Lease | undefined, rv: 0, down: false, writes: 0, gets: 0 };
  const handle = (req: KubeRequest): unknown => {
    if (state.down) return new KubeApiError(503, "ServiceUnavailable", "down");
    const body = req.body as Lease | undefined;
    switch (req.method) {
      case "GET":
        state.gets++;
        return state.lease ?? new KubeApiError(404, "NotFound", "not found");
      case "POST":
        if (state.lease) return new KubeApiError(409, "AlreadyExists", "exists");
        state.writes++;
        state.lease = { ...body!, metadata: { ...body!.metadata, resourceVersion: String(++state.rv) } };
        return state.lease;
      case "PUT":
        if (!body || !state.lease || body.metadata.resourceVersion !== state.lease.metadata.resourceVersion)
          return new KubeApiError(409, "Conflict", "the object has been modified");
        state.writes++;
        state.lease = { ...body, metadata: { ...body.metadata, resourceVersion: String(++state.rv) } };
        return state.lease;
      default:
        return new KubeApiError(405, "MethodNotAllowed", "no");
    }
  };
  return { state, handle };
}

const timings = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };

function elector(identity: string, server: ReturnType<typeof leaseServer>, clock: FakeClock) {
  const client = new FakeKubeClient();
  client.onRequest = server.handle;
  const log: string[] = [];
  const status: boolean[] = [];
  const e = new LeaderElector(
    client,
    { namespace: "ns", name: "vnf-operator", identity, ...timings },
    {
      onStartedLeading: () => log.push("started"),
      onStoppedLeading: (reason) => log.push(`stopped:${reason}`),
    },
    { clock, random: () => 0, onStatus: (leading) => status.push(leading) },
  );
  const abort = new AbortController();
  const done = e.run(abort.signal);
  return { e, log, status, abort, done, client };
}

async function tick(clock: FakeClock, ms: number, step = 500) {
  for (let t = 0; t < ms; t += step) {
    clock.advance(Math.min(step, ms - t));
    await flushMicrotasks(50);
  }
}

describe("LeaderElector", () => {
  it("creates the Lease, leads, and renews every retry period with the fast path (no GET)", async () => {
    const clock = new FakeClock();
    const server = leaseServer();
    const a = elector("a", server, clock);
    await flushMicrotasks(50);
    expect(a.log).toEqual(["started"]);
    expect(a.e.isLeader()).toBe(true);
    expect(a.status.at(-1)).toBe(true);
    expect(server.state.lease?.spec).toMatchObject({
      holderIdentity: "a",
      leaseDurationSeconds: 15,
      leaseTransitions: 0,
    });
    const gets = server.state.gets;
    const writes = server.state.writes;
    await tick(clock, 10_000);
    expect(server.state.writes - writes).toBe(5);
    expect(server.state.gets).toBe(gets);
    a.abort.abort();
    await a.done;
  });

  it("a second candidate waits while the leader renews, and takes over only after it stops renewing for a lease duration", async () => {
    const clock = new FakeClock();
    const server = leaseServer();
    const a = elector("a", server, clock);
    await flushMicrotasks(50);
    const b = elector("b", server, clock);
    await tick(clock, 60_000);
    expect(b.log).toEqual([]);
    expect(b.e.leader()).toBe("a");
    // a dies without releasing: stop its renewals by making its requests fail
    a.client.onRequest = () => new KubeApiError(0, "NetworkError", "partitioned");
    await tick(clock, 14_000);
    expect(b.log).toEqual([]);
    await tick(clock, 4_000);
    expect(b.log).toEqual(["started"]);
    expect(server.state.lease?.spec).toMatchObject({ holderIdentity: "b", leaseTransitions: 1 });
    // a noticed it could not renew within the deadline
    expect(a.log).toEqual(["started", "stopped:lost"]);
    expect(a.status.at(-1)).toBe(false);
    b.abort.abort();
    await Promise.all([a.done, b.done]);
  });

  it("stops leading once renewal has failed for the renew deadline, not before", async () => {
    const clock = new FakeClock();
    const server = leaseServer();
    const a = elector("a", server, clock);
    await flushMicrotasks(50);
    server.state.down = true;
    await tick(clock, 9_500);
    expect(a.log).toEqual(["started"]);
    await tick(clock, 2_500);
    expect(a.log).toEqual(["started", "stopped:lost"]);
    await a.done;
  });

  it("stops at once when it sees another holder on the Lease", async () => {
    const clock = new FakeClock();
    const server = leaseServer();
    const a = elector("a", server, clock);
    await flushMicrotasks(50);
    // someone force-writes the Lease (e.g. an operator with a broken clock); our next update conflicts
    server.state.lease = {
      ...server.state.lease!,
      metadata: { ...server.state.lease!.metadata, resourceVersion: "999" },
      spec: { ...server.state.lease!.spec, holderIdentity: "intruder", renewTime: "x" },
    };
    await tick(clock, 2_000);
    expect(a.log).toEqual(["started", "stopped:lost"]);
    await a.done;
  });

  it("releases on stop (empty holder, 1 s) so a follower takes over at its next retry", async () => {
    const clock = new FakeClock();
    const server = leaseServer();
    const a = elector("a", server, clock);
    await flushMicrotasks(50);
    const b = elector("b", server, clock);
    await tick(clock, 4_000);
    a.abort.abort();
    await a.done;
    expect(a.log).toEqual(["started", "stopped:released"]);
    expect(server.state.lease?.spec).toMatchObject({ holderIdentity: "", leaseDurationSeconds: 1 });
    await tick(clock, 2_000);
    expect(b.log).toEqual(["started"]);
    b.abort.abort();
    await b.done;
  });

  it("rejects timings client-go would reject", () => {
    const client = new FakeKubeClient();
    const callbacks = { onStartedLeading() {}, onStoppedLeading() {} };
    expect(
      () =>
        new LeaderElector(
          client,
          { namespace: "n", name: "l", identity: "i", leaseDurationMs: 10_000, renewDeadlineMs: 10_000 },
          callbacks,
        ),
    ).toThrow(/leaseDuration/);
  });
});

describe("LeaderElector release after a renewal that was applied but not acknowledged", () => {
  it("re-reads the Lease on conflict and still releases it", async () => {
    const clock = new FakeClock();
    const server = leaseServer();
    const a = elector("a", server, clock);
    await flushMicrotasks(50);
    // the server applies a renewal whose answer we never saw: our resourceVersion is now stale
    server.state.lease = {
      ...server.state.lease!,
      metadata: { ...server.state.lease!.metadata, resourceVersion: String(++server.state.rv) },
    };
    a.abort.abort();
    await a.done;
    expect(server.state.lease?.spec).toMatchObject({ holderIdentity: "", leaseDurationSeconds: 1 });
    expect(a.log).toEqual(["started", "stopped:released"]);
  });
});
