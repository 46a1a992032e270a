// Runs scale scenarios one after another against one control plane (its own, unless a kubeconfig is
// given) and formats the results as one Markdown table: a row per figure, a column per scenario.
import { KubeConfig } from "@kubernetes/client-node";
import type { CompiledDictionary } from "../../src/dictionary/compiled.ts";
import { loadDictionaryDirectories } from "../../src/dictionary/registry.ts";
import { KubeHttp } from "../../src/runtime/kube-http.ts";
import { ControlPlane } from "../../test/support/controlplane.ts";
import { installCrds } from "../../test/support/crd-install.ts";
import { repoRoot } from "../../test/support/operator-env.ts";
import { formatWrites } from "./apiserver.ts";
import { runScenario, type ScenarioConfig, type ScenarioResult } from "./scenario.ts";

export interface ScaleOptions {
  scenarios: ScenarioConfig[];
  /** Called after each scenario with the outcomes so far (the CLI saves them as it goes). */
  onResult?: (outcomes: ScenarioOutcome[]) => Promise<void>;
  /** Use this cluster instead of starting a control plane (its /metrics must be readable). */
  kubeconfigPath?: string;
  progress?: (message: string) => void;
}

/** A scenario's figures, or why it could not finish (the others still run). */
export type ScenarioOutcome = ScenarioResult | { config: ScenarioConfig; error: string };

export function failed(outcome: ScenarioOutcome): outcome is { config: ScenarioConfig; error: string } {
  return "error" in outcome;
}

export async function runScale(options: ScaleOptions): Promise<ScenarioOutcome[]> {
  const progress = options.progress ?? ((m: string) => process.stderr.write(`[scale] ${m}\n`));
  const plane = options.kubeconfigPath ? undefined : await ControlPlane.start({ progress });
  try {
    const kubeconfigPath = options.kubeconfigPath ?? plane!.kubeconfigPath;
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfigPath);
    await installCrds(kc);
    const dictionary = await fortiosDictionary();
    const outcomes: ScenarioOutcome[] = [];
    for (const config of options.scenarios) {
      try {
        outcomes.push(
          await runScenario(
            {
              kubeconfigPath,
              http: KubeHttp.for(kc),
              dictionary,
              progress,
              ...(plane ? { controlPlanePids: Object.values(plane.state.pids) } : {}),
            },
            config,
          ),
        );
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        progress(`${describe(config)}: FAILED: ${message}`);
        outcomes.push({ config, error: message });
      }
      await options.onResult?.(outcomes);
    }
    return outcomes;
  } finally {
    await plane?.stop();
  }
}

async function fortiosDictionary(): Promise<CompiledDictionary> {
  const { registry } = await loadDictionaryDirectories([`${repoRoot}/dictionaries`]);
  const dictionary = registry.resolve({ vendor: "fortios" });
  return dictionary;
}

const fixed = (digits: number) => (n: number | undefined) =>
  n === undefined || Number.isNaN(n) ? "—" : n.toFixed(digits);
const ratio = (a: number, b: number | undefined) =>
  b === undefined || b === 0 ? "—" : `${(a / b).toFixed(2)}×`;

/** The one table: rows are figures, columns scenarios. Times are wall-clock on the machine that ran it. */
export function formatTable(outcomes: ScenarioOutcome[]): string {
  const results = outcomes.filter((o): o is ScenarioResult => !failed(o));
  const header = results.map((r) => {
    const c = r.config;
    const n = c.rules >= 1000 && c.rules % 1000 === 0 ? `${c.rules / 1000}k` : String(c.rules);
    const replicas = (c.replicas ?? 1) > 1 ? `, ${c.replicas} replicas` : "";
    return `${n}×${c.devices}, ${c.latencyMs} ms, ${c.limits}${replicas}`;
  });
  const rows: Array<[string, (r: ScenarioResult) => string]> = [
    ["rules Ready", (r) => `${r.converged}/${r.config.rules}`],
    ["convergence (s)", (r) => fixed(1)(r.convergeSeconds)],
    ["bound (s)", (r) => fixed(1)(r.boundCreateSeconds)],
    ["convergence / bound", (r) => ratio(r.convergeSeconds, r.boundCreateSeconds)],
    ["appliance calls per rule", (r) => fixed(3)(r.callsPerRule)],
    ["API-server writes per rule", (r) => fixed(2)(r.apiWritesPerRule)],
    ["peak RSS (MiB)", (r) => fixed(0)(r.peakRssMiB)],
    ["settled RSS (MiB)", (r) => fixed(0)(r.settledRssMiB)],
    [
      "settled RSS per replica (MiB)",
      (r) => (r.replicaRssMiB.length > 1 ? r.replicaRssMiB.map((m) => m.toFixed(0)).join(" / ") : "—"),
    ],
    ["… of which anonymous (MiB)", (r) => fixed(0)(r.settledAnonRssMiB)],
    ["CPU during convergence (s)", (r) => fixed(1)(r.cpuSeconds)],
    ["… API server, etcd (CPU s, same time)", (r) => fixed(1)(r.machine?.controlPlaneCpuSeconds)],
    ["… simulators (CPU s, same time)", (r) => fixed(1)(r.machine?.simulatorCpuSeconds)],
    [
      "machine busy during convergence",
      (r) => (r.machine ? `${(100 * r.machine.busyShare).toFixed(0)}% of ${r.machine.cores} cores` : "—"),
    ],
    ["restart → re-verified (s) (sharded: takeover)", (r) => fixed(1)(r.restartSeconds)],
    ["restart: appliance writes", (r) => String(r.restartApplianceWrites)],
    ["restart: API-server writes", (r) => String(r.restartApiWrites)],
    ["drift cycle: appliance calls", (r) => String(r.driftCycleCalls)],
    ["drift cycle: appliance writes", (r) => String(r.driftCycleApplianceWrites)],
    ["drift cycle: API-server writes", (r) => String(r.driftCycleApiWrites)],
    ["delete-all (s)", (r) => fixed(1)(r.deleteSeconds)],
    ["delete bound (s)", (r) => fixed(1)(r.boundDeleteSeconds)],
    ["delete-all / bound", (r) => ratio(r.deleteSeconds, r.boundDeleteSeconds)],
    ["appliance calls per delete", (r) => fixed(3)(r.deleteCallsPerRule)],
    ["API-server writes per delete", (r) => fixed(2)(r.deleteApiWritesPerRule)],
  ];
  const failures = outcomes.filter(failed).map((f) => `${describe(f.config)}: FAILED — ${f.error}`);
  const lines = [
    ...failures,
    `| figure | ${header.join(" | ")} |`,
    `| --- | ${header.map(() => "---:").join(" | ")} |`,
    ...rows.map(([name, cell]) => `| ${name} | ${results.map(cell).join(" | ")} |`),
  ];
  return lines.join("\n");
}

/** Where the API-server writes went, per scenario and phase (verb resource[/subresource] count). */
export function formatWriteDetails(outcomes: ScenarioOutcome[]): string {
  return outcomes
    .filter((o): o is ScenarioResult => !failed(o))
    .map((r) => {
      return [
        `${describe(r.config)}:`,
        `  convergence: ${formatWrites(r.convergeWrites)}`,
        `  restart:     ${formatWrites(r.restartWrites)}`,
        `  delete-all:  ${formatWrites(r.deleteWrites)}`,
        ...(r.heapSnapshot ? [`  heap snapshot: ${r.heapSnapshot}`] : []),
      ].join("\n");
    })
    .join("\n");
}

function describe(c: ScenarioConfig): string {
  const replicas = (c.replicas ?? 1) > 1 ? `, ${c.replicas} replicas` : "";
  return `${c.rules} rules × ${c.devices} devices, ${c.latencyMs} ms, limits ${c.limits}${replicas}`;
}
