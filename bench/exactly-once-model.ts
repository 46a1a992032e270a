// Benchmark target of the exactly-once model (test/engine/exactly-once.test.ts runs 500 sequences in
// CI): many more seeded random sequences of creates, edits, deletes, crashes, status-write conflicts,
// activation failures and appliance faults against the simulators, with the real engine and rule
// reconciler. Prints what ran, the most appliance requests one rule cost, and the first failure with
// its seed and path (replay: VNF_MODEL_SEED/VNF_MODEL_PATH with the CI test, or --seed/--path here).
//   node bench/exactly-once-model.ts [--runs 5000] [--seed N] [--path P] [--vendor pfsense ...]
import { parseArgs } from "node:util";
import { runModel } from "../test/engine/model/run-model.ts";
import type { SimulatorVendor } from "../test/simulators/index.ts";

const { values } = parseArgs({
  options: {
    runs: { type: "string" },
    seed: { type: "string" },
    path: { type: "string" },
    vendor: { type: "string", multiple: true },
  },
});
const runs = Number(values.runs ?? 5000);
const seed = Number(values.seed ?? Math.floor(Math.random() * 0x7fffffff));
console.log(`exactly-once model: ${runs} sequences, seed ${seed}`);
const started = performance.now();
const report = await runModel({
  seed,
  runs,
  ...(values.path ? { path: values.path } : {}),
  ...(values.vendor ? { vendors: values.vendor as SimulatorVendor[] } : {}),
});
const seconds = (performance.now() - started) / 1000;
console.log(
  `${report.runs} sequences (${report.sequences} held) in ${seconds.toFixed(0)} s: ${report.commands} commands, ` +
    `${report.reconciles} reconciles, ${report.crashes} crashes, ${report.conflicts} status-write conflicts`,
);
console.log(`most appliance requests for one rule, per row: ${JSON.stringify(report.maxRequestsPerRule)}`);
if (report.failure) {
  console.error(`FAILED (seed ${seed}):\n${report.failure}`);
  process.exit(1);
}
