// hack/demo: the whole product on one machine. A local Kubernetes control plane (or the cluster in
// KUBECONFIG with --use-existing-cluster), the CRDs, one simulator per vendor, the operator as a real
// `vnf-operator run` child process, and the samples/ rules pointed at the simulators. It shows rules
// becoming Ready, prints a summary, then keeps running for `kubectl get vnf` until Ctrl-C.
//   --once                  exit after the summary (CI, tests)
//   --timeout SECONDS       how long to wait for Ready (default 120)
//   --use-existing-cluster  use KUBECONFIG instead of starting a control plane
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { CustomObjectsApi, KubeConfig } from "@kubernetes/client-node";
import { parseAllDocuments } from "yaml";
import type { SimulatorHandle } from "../test/simulators/common/types.ts";
import { isSimulatorVendor, startSimulator } from "../test/simulators/index.ts";
import { ControlPlane } from "../test/support/controlplane.ts";
import { installCrds } from "../test/support/crd-install.ts";
import { kubectl } from "../test/support/kubectl.ts";

const root = path.resolve(import.meta.dirname, "..");
const NAMESPACE = "vnf-demo";
const started = Date.now();
const say = (message: string) =>
  process.stdout.write(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s] ${message}\n`);

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  spec?: Record<string, unknown>;
  stringData?: Record<string, string>;
  [key: string]: unknown;
}

interface RuleRow {
  kind: string;
  name: string;
  device: string;
  ready: boolean;
  /** Stalled: only a spec or device change can help, so the demo stops waiting for it. */
  stalled: boolean;
  reason: string;
  message: string;
  vendorRef: string;
}

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
    const dictionaries = readdirSync(path.join(root, "dictionaries")).map((f) => f.split("-")[0]);
    const vendors = readdirSync(path.join(root, "samples"))
      .filter((v) => existsSync(path.join(root, "samples", v)))
      .sort();
    const sims = new Map<string, SimulatorHandle>();
    for (const vendor of vendors) {
      if (!isSimulatorVendor(vendor) || !dictionaries.includes(vendor)) {
        say(`skipping ${vendor}: ${isSimulatorVendor(vendor) ? "no dictionary" : "no simulator"} yet`);
        continue;
      }
      // The samples name address aliases; a real appliance would have them configured, so the
      // simulated one gets them too.
      const aliases = aliasesIn(vendor);
      const sim = await startSimulator(
        vendor,
        vendor === "pfsense" || vendor === "opnsense" ? { aliases } : {},
      );
      await seedAliases(vendor, sim, aliases);
      cleanups.push(() => sim.stop());
      sims.set(vendor, sim);
      say(`${vendor} simulator on ${sim.url}`);
    }

    // 3. The operator, as a real process.
    const logPath = path.join(workDir, "operator.log");
    const operator = startOperator(kubeconfigPath, logPath);
    cleanups.push(() => stopProcess(operator));
    say(`operator started (pid ${operator.pid}); its JSON log: ${logPath}`);

    // 4. The samples, pointed at the simulators.
    await kubectl(kubeconfigPath, ["create", "namespace", NAMESPACE]);
    let applied = 0;
    for (const [vendor, sim] of sims) {
      for (const manifest of samplesFor(vendor, sim)) {
        const result = await kubectl(
          kubeconfigPath,
          ["-n", NAMESPACE, "apply", "-f", "-"],
          JSON.stringify(manifest),
        );
        if (result.code !== 0)
          throw new Error(`applying ${manifest.kind}/${manifest.metadata.name}: ${result.stderr}`);
        applied++;
      }
    }
    say(`applied ${applied} sample objects in namespace ${NAMESPACE}`);

    // 5. Progress until every rule is Ready (or the timeout).
    const custom = kc.makeApiClient(CustomObjectsApi);
    const rows = await watchProgress(custom, timeoutMs, operator);
    printSummary(rows, await devices(custom));
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

function aliasesIn(vendor: string): string[] {
  const names = new Set<string>();
  const dir = path.join(root, "samples", vendor);
  for (const file of readdirSync(dir)) {
    for (const match of readFileSync(path.join(dir, file), "utf8").matchAll(/^\s+alias:\s*([\w.-]+)/gm)) {
      if (match[1]) names.add(match[1]);
    }
  }
  return [...names];
}

/** Appliance-side address objects, in each simulator's own vocabulary (test doubles only). */
async function seedAliases(vendor: string, sim: SimulatorHandle, aliases: string[]): Promise<void> {
  if (vendor === "fortios") {
    for (const name of aliases)
      await sim.control.putObject("address", { name, subnet: "10.0.0.0 255.0.0.0" });
  }
  if (vendor === "panos") {
    for (const name of aliases)
      await sim.control.putObject("address", { "@name": name, "ip-netmask": "10.0.0.0/8" });
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

/** The vendor's sample manifests with the Secret's credentials and the device's endpoint/CA replaced. */
function samplesFor(vendor: string, sim: SimulatorHandle): Manifest[] {
  const dir = path.join(root, "samples", vendor);
  const manifests: Manifest[] = [];
  for (const file of readdirSync(dir).sort()) {
    if (!/\.ya?ml$/.test(file)) continue;
    for (const doc of parseAllDocuments(readFileSync(path.join(dir, file), "utf8"))) {
      const manifest = doc.toJS() as Manifest | null;
      if (manifest) manifests.push(manifest);
    }
  }
  const out: Manifest[] = [];
  for (const manifest of manifests) {
    if (manifest.kind === "Secret") {
      out.push({ ...manifest, stringData: sim.credentials });
    } else if (manifest.kind === "VnfDevice") {
      const caName = `${manifest.metadata.name}-ca`;
      out.push({
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: caName },
        stringData: { "ca.crt": sim.caPem },
      });
      out.push({
        ...manifest,
        spec: { ...manifest.spec, endpoint: sim.url, tls: { caSecretRef: { name: caName } } },
      });
    } else {
      out.push(manifest);
    }
  }
  return out;
}

async function listRules(custom: CustomObjectsApi): Promise<RuleRow[]> {
  const rows: RuleRow[] = [];
  for (const [plural, kind] of [
    ["vnffirewallrules", "fw"],
    ["vnfnatrules", "nat"],
  ] as const) {
    const list = (await custom.listNamespacedCustomObject({
      group: "vnf-operator.io",
      version: "v1alpha1",
      namespace: NAMESPACE,
      plural,
    })) as { items: Array<Record<string, never>> };
    for (const item of list.items) {
      const obj = item as unknown as {
        metadata: { name: string; generation?: number };
        spec: { deviceRef: { name: string } };
        status?: {
          vendorRef?: string;
          conditions?: Array<{
            type: string;
            status: string;
            reason?: string;
            message?: string;
            observedGeneration?: number;
          }>;
        };
      };
      const ready = obj.status?.conditions?.find((c) => c.type === "Ready");
      const stalled = obj.status?.conditions?.find((c) => c.type === "Stalled");
      rows.push({
        kind,
        name: obj.metadata.name,
        device: obj.spec.deviceRef.name,
        ready: ready?.status === "True" && (ready.observedGeneration ?? 0) >= (obj.metadata.generation ?? 0),
        stalled: stalled?.status === "True",
        reason: ready?.reason ?? "Pending",
        message: ready?.message ?? "",
        vendorRef: obj.status?.vendorRef ?? "",
      });
    }
  }
  return rows;
}

async function devices(
  custom: CustomObjectsApi,
): Promise<Map<string, { vendor: string; version: string; ready: string }>> {
  const list = (await custom.listNamespacedCustomObject({
    group: "vnf-operator.io",
    version: "v1alpha1",
    namespace: NAMESPACE,
    plural: "vnfdevices",
  })) as { items: Array<Record<string, never>> };
  const out = new Map<string, { vendor: string; version: string; ready: string }>();
  for (const item of list.items) {
    const d = item as unknown as {
      metadata: { name: string };
      spec: { vendor: string };
      status?: {
        vendorVersion?: string;
        conditions?: Array<{ type: string; status: string; reason?: string }>;
      };
    };
    const ready = d.status?.conditions?.find((c) => c.type === "Ready");
    out.set(d.metadata.name, {
      vendor: d.spec.vendor,
      version: d.status?.vendorVersion ?? "",
      ready: ready ? `${ready.status} (${ready.reason})` : "Unknown",
    });
  }
  return out;
}

async function watchProgress(
  custom: CustomObjectsApi,
  timeoutMs: number,
  operator: ChildProcess,
): Promise<RuleRow[]> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  let rows: RuleRow[] = [];
  while (Date.now() < deadline) {
    if (operator.exitCode !== null)
      throw new Error(`the operator exited with code ${operator.exitCode}; see its log`);
    rows = await listRules(custom);
    const byDevice = new Map<string, { ready: number; total: number }>();
    for (const row of rows) {
      const entry = byDevice.get(row.device) ?? { ready: 0, total: 0 };
      entry.total++;
      if (row.ready) entry.ready++;
      byDevice.set(row.device, entry);
    }
    const line = [...byDevice]
      .sort()
      .map(([device, c]) => `${device} ${c.ready}/${c.total}`)
      .join("  ");
    if (line !== last) {
      say(`rules Ready: ${line}`);
      last = line;
    }
    if (rows.length > 0 && rows.every((r) => r.ready || r.stalled)) return rows;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  say(`not every rule became Ready within ${timeoutMs / 1000}s`);
  return rows;
}

function printSummary(
  rows: RuleRow[],
  devs: Map<string, { vendor: string; version: string; ready: string }>,
): void {
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
