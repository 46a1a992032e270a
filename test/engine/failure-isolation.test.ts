// Failure isolation on a batched activation, against the PAN-OS simulator over HTTPS: fifty rules
// written in one Batched window, one of them naming a zone the firewall does not have (the `set`
// succeeds, the commit fails). Each rule's write joins the batch as the rule controller makes it
// (`batchMember`) through the session the operator builds (engineSessionFactory). Only the rule at
// fault fails; the forty-nine others go live. Once with commit errors that name the rule (PAN-OS:
// "<rule> -> from 'x' is not a valid reference"): two commits; once with errors that name nothing:
// the batch is bisected within its bound. The number of commits is printed.
import { afterEach, describe, expect, it } from "vitest";
import { isolationBudget } from "../../src/appliance/isolation.ts";
import { engineSessionFactory } from "../../src/controllers/engine-session.ts";
import { batchMember } from "../../src/controllers/rule-activation.ts";
import type { ManagedSession } from "../../src/controllers/session-registry.ts";
import { VnfError } from "../../src/dictionary/errors.ts";
import { loadDictionaryFile } from "../../src/dictionary/loader.ts";
import { type SimulatorHandle, startSimulator } from "../simulators/index.ts";

const RULES = 50;
const BAD = 17;
const KIND = "firewallRule" as const;

let sim: SimulatorHandle | undefined;
let session: ManagedSession | undefined;

afterEach(async () => {
  await session?.close();
  await sim?.stop();
  session = undefined;
  sim = undefined;
});

async function start(simulator: Record<string, unknown>): Promise<ManagedSession> {
  const dictionary = await loadDictionaryFile("dictionaries/panos-10-xmlapi.yaml");
  sim = await startSimulator("panos", { applyDelayMs: 50, ...simulator } as never);
  session = engineSessionFactory({ dictionary: () => dictionary })({
    device: { namespace: "ns", name: "pa" },
    vendor: "panos",
    dictionary: dictionary.name,
    endpoint: sim.url,
    credentials: sim.credentials,
    tls: { caPem: sim.caPem },
    parameters: { vsys: "vsys1" },
    limits: { requestsPerSecond: 1000 },
    // One window for the fifty writes.
    activation: { mode: "Batched", batchWindowMs: 2000 },
    epoch: "1/1",
  });
  return session;
}

const spec = (i: number) => ({
  interface: i === BAD ? "nowhere" : "untrust",
  direction: "in",
  action: "allow",
  protocol: "tcp",
  source: { cidr: "10.0.0.0/24" },
  destination: { cidr: `192.0.2.${i + 1}`, port: "443" },
  description: `rule ${i}`,
  enabled: true,
  log: false,
});

/** Fifty rule reconciles: write, then activate as a member of the batch. */
async function applyFifty(s: ManagedSession) {
  return Promise.allSettled(
    Array.from({ length: RULES }, async (_, i) => {
      const request = { spec: spec(i), marker: `isolation-${i}` };
      const { vendorRef } = await s.create(KIND, request);
      const member = batchMember(s, KIND, request, {
        type: "applied",
        action: "created",
        vendorRef,
        opHash: "x",
      });
      expect(member, "PAN-OS writes can be withdrawn").toBeDefined();
      await s.activate(undefined, member ? { member } : {});
      return member?.vendorRef ?? vendorRef;
    }),
  );
}

async function runningRules(): Promise<string[]> {
  const running = (await sim?.control.objects(KIND))?.running ?? [];
  return running.map((o) => String(o.description ?? ""));
}

describe("failure isolation on a batched PAN-OS commit", () => {
  it("one rule at fault among 50, named by the commit: it alone fails, 49 go live, two commits", {
    timeout: 120_000,
  }, async () => {
    const s = await start({});
    const results = await applyFifty(s);
    const failed = results.flatMap((r, i) => (r.status === "rejected" ? [[i, r.reason] as const] : []));
    expect(failed.map(([i]) => i)).toEqual([BAD]);
    const [, error] = failed[0] as readonly [number, unknown];
    expect(error).toBeInstanceOf(VnfError);
    expect((error as VnfError).code).toBe("VNF_INVALID");
    expect((error as VnfError).message).toContain("'nowhere' is not a valid reference");
    const live = await runningRules();
    expect(live).toHaveLength(RULES - 1);
    expect(live.some((d) => d.includes(`isolation-${BAD}]`))).toBe(false);
    // Withdrawn from the candidate too: the next commit is clean.
    const candidate = (await sim?.control.objects(KIND))?.candidate ?? [];
    expect(candidate).toHaveLength(RULES - 1);
    const { applyCount } = await (sim as SimulatorHandle).control.stats();
    expect(applyCount).toBe(2);
    console.log(
      `[isolation] panos, culprit named: 1 bad rule among ${RULES} -> ${RULES - failed.length} live, ${failed.length} failed, ${applyCount} commits`,
    );
  });

  it("the commit names no rule: the batch is bisected within its bound; still only the rule at fault fails", {
    timeout: 180_000,
  }, async () => {
    const s = await start({ anonymousCommitErrors: true });
    const results = await applyFifty(s);
    const failed = results.flatMap((r, i) => (r.status === "rejected" ? [i] : []));
    expect(failed).toEqual([BAD]);
    const live = await runningRules();
    expect(live).toHaveLength(RULES - 1);
    expect(live.some((d) => d.includes(`isolation-${BAD}]`))).toBe(false);
    const { applyCount } = await (sim as SimulatorHandle).control.stats();
    expect(applyCount).toBeLessThanOrEqual(isolationBudget(RULES));
    expect(applyCount).toBeGreaterThan(2);
    console.log(
      `[isolation] panos, no culprit named: 1 bad rule among ${RULES} -> ${RULES - failed.length} live, ${failed.length} failed, ${applyCount} commits (bound ${isolationBudget(RULES)})`,
    );
  });
});
