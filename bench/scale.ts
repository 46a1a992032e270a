// Scale benchmark: N firewall rules over D FortiOS devices, the operator as a child process against
// a real kube-apiserver, measured against the bound (a direct client issuing exactly the appliance
// calls needed, under the same limits, in the same run). Prints one table (docs/performance.md says
// how to read it and holds this machine's results).
//
//   node bench/scale.ts                        # the default matrix (see below); hours at full size
//   node bench/scale.ts --rules 1000 --devices 1 --latency 0,20 --limits set
//   node bench/scale.ts --rules 200 --devices 2 --latency 0 --limits lifted --drift 5   # a quick run
//
// Without --rules/--devices the matrix is 1k rules on 1 device and 10k rules on 10 devices; with them,
// every combination. --latency and --limits multiply it. --heap-snapshots DIR writes a heap snapshot
// of each settled operator. --json FILE also writes the raw results. The operator runs with the chart's
// default pod settings: `npm run build` then `node <the image's ENTRYPOINT flags> dist/cli/main.js run`
// with the chart's NODE_OPTIONS (an old-space share resolved against the chart's memory limit) and the
// image's MALLOC_ARENA_MAX. --node-options replaces all the node flags, --malloc-arena-max N the arena
// count ("" for glibc's default); --from-source runs src/cli/main.ts (Node's type stripping) instead of
// the compiled build. --replicas R (> 1) runs R sharded operator processes (--shards, default 4 per replica) and replaces the restart by a takeover: one
// replica is killed and the others must take its shards over and re-verify its rules.
import { writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import type { Limits } from "./scale/rules.ts";
import { formatTable, formatWriteDetails, runScale } from "./scale/run.ts";
import type { ScenarioConfig } from "./scale/scenario.ts";

const { values } = parseArgs({
  options: {
    rules: { type: "string" },
    devices: { type: "string" },
    latency: { type: "string", default: "0,20" },
    limits: { type: "string", default: "set,lifted" },
    drift: { type: "string", default: "30" },
    concurrency: { type: "string" },
    "node-options": { type: "string" },
    "malloc-arena-max": { type: "string" },
    replicas: { type: "string" },
    shards: { type: "string" },
    "from-source": { type: "boolean", default: false },
    "heap-snapshots": { type: "string" },
    "no-bound": { type: "boolean", default: false },
    kubeconfig: { type: "string" },
    json: { type: "string" },
  },
});

const numbers = (text: string) => text.split(",").map((v) => Number(v.trim()));
const sizes: Array<[number, number]> =
  values.rules === undefined && values.devices === undefined
    ? [
        [1000, 1],
        [10_000, 10],
      ]
    : numbers(values.rules ?? "1000").flatMap((n) =>
        numbers(values.devices ?? "1").map((d): [number, number] => [n, d]),
      );
const scenarios: ScenarioConfig[] = [];
for (const [rules, devices] of sizes) {
  for (const latencyMs of numbers(values.latency)) {
    for (const limits of values.limits.split(",") as Limits[]) {
      if (limits !== "set" && limits !== "lifted")
        throw new Error(`--limits takes set and/or lifted, not ${limits}`);
      scenarios.push({
        rules,
        devices,
        latencyMs,
        limits,
        driftIntervalSeconds: Number(values.drift),
        ...(values.concurrency ? { concurrency: Number(values.concurrency) } : {}),
        ...(values["heap-snapshots"] ? { heapSnapshotDir: values["heap-snapshots"] } : {}),
        ...(values["no-bound"] ? { skipBound: true } : {}),
        ...(values["from-source"] ? { fromSource: true } : {}),
        ...(values.replicas ? { replicas: Number(values.replicas) } : {}),
        ...(values.shards ? { shards: Number(values.shards) } : {}),
        ...(values["malloc-arena-max"] !== undefined ? { mallocArenaMax: values["malloc-arena-max"] } : {}),
        ...(values["node-options"] !== undefined
          ? { nodeArgs: values["node-options"].split(" ").filter(Boolean) }
          : {}),
      });
    }
  }
}

const started = Date.now();
/** Saved after every scenario, so a long run that fails late keeps what it measured. */
const save = async (results: unknown) => {
  if (!values.json) return;
  const json = JSON.stringify(results, (_k, v) => (v instanceof Map ? Object.fromEntries(v) : v), 2);
  await writeFile(values.json, `${json}\n`);
};
const results = await runScale({
  scenarios,
  onResult: save,
  ...(values.kubeconfig ? { kubeconfigPath: values.kubeconfig } : {}),
});
console.log(`\nvnf-operator scale bench (FortiOS simulators; times are wall-clock on this machine)\n`);
console.log(formatTable(results));
console.log(`\nAPI-server writes by verb and resource:\n${formatWriteDetails(results)}`);
console.log(`\ntotal bench time: ${((Date.now() - started) / 60_000).toFixed(1)} min`);
