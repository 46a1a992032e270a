// hack/demo: the whole product on one machine. A local Kubernetes control plane (or the cluster in
// KUBECONFIG with --use-existing-cluster), the CRDs, one simulator per vendor, the operator as a real
// `vnf-operator run` child process, and the samples/ rules pointed at the simulators. It shows rules
// becoming Ready, prints a summary, then keeps running for `kubectl get vnf` until Ctrl-C.
//   --once                  exit after the summary (CI, tests)
//   --timeout SECONDS       how long to wait for Ready (default 120)
//   --use-existing-cluster  use KUBECONFIG instead of starting a control plane
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, openSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { CustomObjectsApi, KubeConfig } from "@kubernetes/client-node";
import { ControlPlane } from "../test/support/controlplane.ts";
import { installCrds } from "../test/support/crd-install.ts";
import { kubectl } from "../test/support/kubectl.ts";
import {
  applySamples,
  type DeviceRow,
  listDevices,
  type RuleRow,
  startSampleSimulators,
  stopSimulators,
  waitForRules,
} from "../test/support/samples.ts";

const root = path.resolve(import.meta.dirname, "..");
const NAMESPACE = "vnf-demo";
const started = Date.now();
const say = (message: string) =>
  process.stdout.write(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s] ${message}\n`);

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      once: { type: "boolean" },
      timeout: { type: "string" },
      "use-existing-cluster": { type: "boolean" },
    },
  });
  const timeoutMs = Number(values.timeout ?? 120) * 1000;
  const workDir = mkdtempSync(path.join(os.tmpdir(), "vnf-demo-"));
  const cleanups: Array<() => Promise<void> | void> = [
    () => rmSync(workDir, { recursive: true, force: true }),
  ];
  let stopping = false;
  const cleanup = async () => {
    if (stopping) return;
    stopping = true;
    for (const fn of cleanups.reverse()) await fn();
  };
  process.once("SIGINT", () => {
    say("stopping: operator, simulators, control plane ...");
    void cleanup().then(() => process.exit(0));
  });
  process.once("SIGTERM", () => void cleanup().then(() => process.exit(0)));

  try {
    // 1. A cluster.
    let kubeconfigPath: string;
    if (values["use-existing-cluster"]) {
      if (!process.env.KUBECONFIG) throw new Error("--use-existing-cluster needs KUBECONFIG");
      kubeconfigPath = process.env.KUBECONFIG;
      say(`using the cluster in ${kubeconfigPath}`);
    } else {
      say("starting a local Kubernetes control plane (etcd, kube-apiserver, kube-controller-manager)");
      const plane = await ControlPlane.start({ progress: (m) => say(`  ${m}`) });
      cleanups.push(() => plane.stop());
      kubeconfigPath = plane.kubeconfigPath;
    }
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfigPath);
    const crds = await installCrds(kc);
    say(`installed CRDs: ${crds.join(", ")}`);

    // 2. One simulator per vendor that has samples, a simulator and a dictionary.
    const sims = await startSampleSimulators(say);
    cleanups.push(() => stopSimulators(sims));

    // 3. The operator, as a real process.
    const logPath = path.join(workDir, "operator.log");
    const operator = startOperator(kubeconfigPath, logPath);
    cleanups.push(() => stopProcess(operator));
    say(`operator started (pid ${operator.pid}); its JSON log: ${logPath}`);

    // 4. The samples, pointed at the simulators.
    await kubectl(kubeconfigPath, ["create", "namespace", NAMESPACE]);
    const applied = await applySamples(kubeconfigPath, NAMESPACE, sims);
    say(`applied ${applied} sample objects in namespace ${NAMESPACE}`);

    // 5. Progress until every rule is Ready (or the timeout).
    const custom = kc.makeApiClient(CustomObjectsApi);
    const rows = await waitForRules(custom, NAMESPACE, {
      timeoutMs,
      progress: (line) => say(`rules Ready: ${line}`),
      check: () => {
        if (operator.exitCode !== null)
          throw new Error(`the operator exited with code ${operator.exitCode}; see its log`);
      },
    });
    if (rows.some((r) => !r.ready && !r.stalled))
      say(`not every rule became Ready within ${timeoutMs / 1000}s`);
    printSummary(rows, await listDevices(custom, NAMESPACE));
    const notReady = rows.filter((r) => !r.ready);

    if (values.once) {
      await cleanup();
      return notReady.length === 0 && rows.length > 0 ? 0 : 1;
    }
    process.stdout.write(
      [
        "",
        "The demo keeps running. In another terminal:",
        `  export KUBECONFIG=${kubeconfigPath}`,
        `  kubectl get vnf -n ${NAMESPACE}`,
        `  kubectl edit vnffw -n ${NAMESPACE} pfsense-allow-https     # change a rule, watch it converge`,
        `  kubectl describe vnfdev -n ${NAMESPACE}`,
        ...[...sims].map(
          ([v, s]) => `  curl -sk ${s.url}/__sim/objects/firewallRule   # what the ${v} appliance holds`,
        ),
        "Ctrl-C stops everything and removes its files.",
        "",
      ].join("\n"),
    );
    await new Promise(() => {}); // until a signal
    return 0;
  } catch (error) {
    process.stderr.write(`demo failed: ${error instanceof Error ? error.message : String(error)}\n`);
    await cleanup();
    return 1;
  }
}

function startOperator(kubeconfigPath: string, logPath: string): ChildProcess {
  const log = openSync(logPath, "a");
  return spawn(
    process.execPath,
    [
      path.join(root, "src/cli/main.ts"),
      "run",
      `--kubeconfig=${kubeconfigPath}`,
      `--namespaces=${NAMESPACE}`,
      "--probe-address=0",
      "--metrics-address=127.0.0.1:0",
      "--health-interval=30",
      // The simulators listen on loopback, which the endpoint policy refuses by default.
      "--endpoint-allow-cidrs=127.0.0.1/32",
    ],
    {
      stdio: ["ignore", log, log],
      env: { ...process.env, VNF_LOG_LEVEL: process.env.VNF_LOG_LEVEL ?? "info" },
    },
  );
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
  await exited;
  clearTimeout(timer);
}

function printSummary(rows: RuleRow[], devs: Map<string, DeviceRow>): void {
  const table: string[][] = [["DEVICE", "VENDOR", "VERSION", "DEVICE READY", "RULES READY", "VENDORREFS"]];
  for (const [name, d] of [...devs].sort()) {
    const mine = rows.filter((r) => r.device === name);
    const refs = mine
      .map((r) => `${r.kind}/${r.name.replace(`${name.split("-")[0]}-`, "")}=${r.vendorRef || r.reason}`)
      .join(" ");
    table.push([
      name,
      d.vendor,
      d.version,
      d.ready,
      `${mine.filter((r) => r.ready).length}/${mine.length}`,
      refs,
    ]);
  }
  const widths = table[0]?.map((_, i) => Math.max(...table.map((row) => (row[i] ?? "").length))) ?? [];
  process.stdout.write("\n");
  for (const row of table)
    process.stdout.write(`${row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join("  ")}\n`);
  const failing = rows.filter((r) => !r.ready);
  if (failing.length > 0) {
    process.stdout.write("\nNot Ready (kubectl describe shows the same, with Events):\n");
    for (const r of failing) process.stdout.write(`  ${r.kind}/${r.name}: ${r.reason}: ${r.message}\n`);
  }
  process.stdout.write("\n");
}

void main().then((code) => process.exit(code));
