// Safe apply on OPNsense, against its simulator over HTTPS, through the session the operator builds
// (engineSessionFactory): the savepoint is taken BEFORE the batch's writes (beginWrite), then the
// writes, the apply (which starts OPNsense's rollback timer), the health check, and cancelRollback only
// once the check passed. A failing check reverts to the savepoint at once: the batch's rules are gone
// from the configuration and each write's activation fails saying it was rolled back.
import { afterEach, describe, expect, it } from "vitest";
import { engineSessionFactory } from "../../src/controllers/engine-session.ts";
import type { ManagedSession } from "../../src/controllers/session-registry.ts";
import { VnfError } from "../../src/dictionary/errors.ts";
import { loadDictionaryFile } from "../../src/dictionary/loader.ts";
import { type SimulatorHandle, startSimulator } from "../simulators/index.ts";

const KIND = "firewallRule" as const;
const HEALTH = "/api/core/firmware/status";

let sim: SimulatorHandle | undefined;
let session: ManagedSession | undefined;

afterEach(async () => {
  await session?.close();
  await sim?.stop();
  session = undefined;
  sim = undefined;
});

async function start(): Promise<ManagedSession> {
  const dictionary = await loadDictionaryFile("dictionaries/opnsense-26.1-api.yaml");
  sim = await startSimulator("opnsense", { version: "26.1.11" } as never);
  session = engineSessionFactory({ dictionary: () => dictionary })({
    device: { namespace: "ns", name: "opn" },
    vendor: "opnsense",
    dictionary: dictionary.name,
    endpoint: sim.url,
    credentials: sim.credentials,
    tls: { caPem: sim.caPem },
    parameters: {},
    limits: { requestsPerSecond: 1000 },
    activation: { mode: "Batched", batchWindowMs: 500 },
    epoch: "1/1",
  });
  return session;
}

const spec = (i: number) => ({
  interface: "wan",
  direction: "in",
  action: "allow",
  protocol: "tcp",
  source: { cidr: "any" },
  destination: { cidr: `10.9.0.${i + 1}`, port: "443" },
  description: `safe ${i}`,
  enabled: true,
  log: false,
});

/** Three rule writes as the rule controller makes them: slot first, write, then the activation. */
async function writeBatch(s: ManagedSession): Promise<PromiseSettledResult<void>[]> {
  expect(s.beginWrite, "OPNsense takes its savepoint before writes").toBeDefined();
  return Promise.allSettled(
    [0, 1, 2].map(async (i) => {
      const slot = await s.beginWrite?.();
      await s.create(KIND, { spec: spec(i), marker: `safe-${i}` });
      await s.activate(undefined, slot ? { slot } : {});
    }),
  );
}

/** The activation's calls and the writes, in the order the simulator received them. */
async function sequence(): Promise<string[]> {
  const requests = await (sim as SimulatorHandle).control.requests();
  return requests.flatMap((r) => {
    const p = r.path.replace(/\/[0-9.]+$/, "/<rev>");
    if (/savepoint|\/apply\/|cancelRollback|revert|addRule/.test(p) || p === HEALTH)
      return [`${r.method} ${p}`];
    return [];
  });
}

const ours = async (view: "running" | "candidate") =>
  ((await sim?.control.objects(KIND))?.[view] ?? []).filter((o) =>
    String(o.description ?? "").startsWith("safe "),
  );

describe("safe apply on OPNsense", () => {
  it("savepoint before the writes, cancelRollback only after the health check passed", async () => {
    const s = await start();
    await sim?.control.clearRequests();
    const results = await writeBatch(s);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "fulfilled", "fulfilled"]);
    expect(await sequence()).toEqual([
      "POST /api/firewall/filter/savepoint",
      "POST /api/firewall/filter/addRule",
      "POST /api/firewall/filter/addRule",
      "POST /api/firewall/filter/addRule",
      "POST /api/firewall/filter/apply/<rev>",
      `GET ${HEALTH}`,
      "POST /api/firewall/filter/cancelRollback/<rev>",
    ]);
    expect(await ours("running")).toHaveLength(3);
  });

  it("a failing health check after the apply reverts to the savepoint; the batch's writes all report it", async () => {
    const s = await start();
    // One rule that is already live: the rollback must keep it.
    const slot = await s.beginWrite?.();
    await s.create(KIND, { spec: { ...spec(9), description: "safe before" }, marker: "safe-before" });
    await s.activate(undefined, slot ? { slot } : {});
    await sim?.control.clearRequests();
    await sim?.control.injectFault({ method: "GET", pathPrefix: HEALTH, kind: "status", status: 500 });
    const results = await writeBatch(s);
    await sim?.control.clearFaults();
    for (const result of results) {
      expect(result.status).toBe("rejected");
      const error = (result as PromiseRejectedResult).reason;
      expect(error).toBeInstanceOf(VnfError);
      expect((error as VnfError).message).toMatch(
        /^rolled back to the savepoint taken before this batch's writes/,
      );
    }
    const seq = await sequence();
    expect(seq[0]).toBe("POST /api/firewall/filter/savepoint");
    expect(seq).toContain("POST /api/firewall/filter/revert/<rev>");
    expect(seq).not.toContain("POST /api/firewall/filter/cancelRollback/<rev>");
    expect(seq.indexOf("POST /api/firewall/filter/revert/<rev>")).toBeGreaterThan(
      seq.indexOf("POST /api/firewall/filter/apply/<rev>"),
    );
    // The batch is gone (from what runs and from the configuration); the rule before it stayed.
    for (const view of ["running", "candidate"] as const) {
      expect((await ours(view)).map((o) => o.description)).toEqual([expect.stringContaining("safe before")]);
    }
  });
});
