// Runs the exactly-once model: seeded random sequences of commands (commands.ts) against the five
// vendors' simulators, each followed by a quiet period and the invariants (world.ts). Shared by the CI
// test (exactly-once.test.ts, >= 500 sequences) and the bench target (bench/exactly-once-model.ts).
import path from "node:path";
import fc from "fast-check";
import { loadDictionaryDirectories } from "../../../src/dictionary/registry.ts";
import { type SimulatorHandle, type SimulatorVendor, startSimulator } from "../../simulators/index.ts";
import { rowLabel, VENDORS, type VendorRow } from "../vendors.ts";
import { commandArbs, type Model } from "./commands.ts";
import { repoRoot, World } from "./world.ts";

export interface ModelRunOptions {
  seed: number;
  runs: number;
  /** Longest command sequence. */
  maxCommands?: number;
  /** Reconciles allowed for the quiet period before "did not settle" is a failure. */
  quietReconciles?: number;
  vendors?: SimulatorVendor[];
  /** Replay one failing case: fast-check's path from a failure report. */
  path?: string;
}

export interface ModelRunReport {
  seed: number;
  /** Sequences fast-check generated (a failing one ends the run). */
  runs: number;
  /** Sequences that held (shrinking attempts included when one failed). */
  sequences: number;
  commands: number;
  reconciles: number;
  crashes: number;
  conflicts: number;
  /** The most appliance requests one rule cost over its whole life in one sequence, per vendor. */
  maxRequestsPerRule: Record<string, number>;
  failure?: string;
}

/** Simulator options that make a sequence fast: no artificial delays. */
const FAST: Record<SimulatorVendor, Record<string, unknown>> = {
  pfsense: { writeLatencyMs: 0, applyDelayMs: 0 },
  fortios: {},
  panos: { applyDelayMs: 0 },
  vyos: { commitDelayMs: 0 },
  opnsense: {},
};

export async function runModel(options: ModelRunOptions): Promise<ModelRunReport> {
  const rows = VENDORS.filter((row) => !options.vendors || options.vendors.includes(row.vendor));
  const loaded = await loadDictionaryDirectories([path.join(repoRoot, "dictionaries")]);
  if (loaded.errors.length > 0) throw new Error(loaded.errors.map((e) => e.message).join("; "));
  // One simulator per row: a vendor may have several (OPNsense 25.7 and 26.1), by firmware.
  const sims = new Map<string, SimulatorHandle>();
  for (const row of rows) {
    sims.set(rowLabel(row), await startSimulator(row.vendor, { ...row.simulator, ...FAST[row.vendor] }));
  }
  const report: ModelRunReport = {
    seed: options.seed,
    runs: 0,
    sequences: 0,
    commands: 0,
    reconciles: 0,
    crashes: 0,
    conflicts: 0,
    maxRequestsPerRule: {},
  };
  const quiet = options.quietReconciles ?? 400;
  const sequence = fc.constantFrom(...rows.map(rowLabel)).chain((vendor) =>
    fc.tuple(
      fc.constant(vendor),
      fc.integer({ min: 1, max: 0x7fffffff }),
      fc.commands(commandArbs(rowOf(rows, vendor)), {
        maxCommands: options.maxCommands ?? 24,
        size: "max",
      }),
    ),
  );
  try {
    const details = await fc.check(
      fc.asyncProperty(sequence, async ([vendor, prngSeed, cmds]) => {
        const row = rowOf(rows, vendor);
        const sim = sims.get(vendor) as SimulatorHandle;
        await sim.control.reset();
        const world = new World({
          row,
          sim,
          dictionaries: loaded.registry,
          random: mulberry32(prngSeed),
        });
        try {
          let count = 0;
          await fc.asyncModelRun(
            () => ({ model: {} as Model, real: world }),
            countOf(cmds, () => count++),
          );
          // The quiet period: no more faults; the controller runs until nothing is left to do.
          await world.disarm();
          const ran = await world.run(quiet);
          if (world.queued > 0)
            throw new Error(`did not settle within ${ran} reconciles of the quiet period`);
          await world.checkInvariants();
          report.sequences++;
          report.commands += count;
          report.reconciles += world.reconciles;
          report.crashes += world.crashes;
          report.conflicts += world.api.conflicts;
          const most = Math.max(0, ...world.requestsPerRule.values());
          report.maxRequestsPerRule[vendor] = Math.max(report.maxRequestsPerRule[vendor] ?? 0, most);
        } finally {
          await world.close();
        }
      }),
      { seed: options.seed, numRuns: options.runs, ...(options.path ? { path: options.path } : {}) },
    );
    report.runs = details.numRuns;
    if (details.failed) {
      const [vendor, prngSeed, cmds] = details.counterexample?.[0] ?? ["?", 0, []];
      const error = details.errorInstance;
      report.failure = [
        `seed ${details.seed}, path ${details.counterexamplePath} (replay: VNF_MODEL_SEED=${details.seed} VNF_MODEL_PATH=${details.counterexamplePath})`,
        `after ${details.numRuns} sequences, shrunk ${details.numShrinks} times: ${vendor}, harness seed ${prngSeed}`,
        `commands: ${[...cmds].map(String).join(", ")}`,
        error instanceof Error ? error.message : String(error),
      ].join("\n");
    }
  } finally {
    await Promise.all([...sims.values()].map((sim) => sim.stop()));
  }
  return report;
}

function rowOf(rows: VendorRow[], label: string): VendorRow {
  const row = rows.find((r) => rowLabel(r) === label);
  if (!row) throw new Error(`no vendor row ${label}`);
  return row;
}

/** Counts the commands fast-check actually runs (it iterates the sequence once per run). */
function countOf<T>(cmds: Iterable<T>, onEach: () => void): Iterable<T> {
  return {
    [Symbol.iterator]: function* () {
      for (const cmd of cmds) {
        onEach();
        yield cmd;
      }
    },
  };
}

/** A small seeded PRNG for the harness's own choices (which key next, whether the cache lags). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
