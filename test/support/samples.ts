// The demo's workload, shared by hack/demo and the tests that run the operator on it (the image
// e2e): one simulator per vendor that has samples, a simulator and a dictionary; the samples/
// manifests pointed at those simulators; and the rules' progress to Ready.

import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import type { CustomObjectsApi } from "@kubernetes/client-node";
import { parseAllDocuments } from "yaml";
import { CREDENTIALS_LABEL } from "../../src/api/group.ts";
import type { SimulatorHandle } from "../simulators/common/types.ts";
import { isSimulatorVendor, startSimulator } from "../simulators/index.ts";
import { kubectl } from "./kubectl.ts";

const root = path.resolve(import.meta.dirname, "../..");

export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  stringData?: Record<string, string>;
  [key: string]: unknown;
}

export interface RuleRow {
  kind: string;
  name: string;
  device: string;
  ready: boolean;
  /** Stalled: only a spec or device change can help, so waiting for it is pointless. */
  stalled: boolean;
  reason: string;
  message: string;
  vendorRef: string;
}

export interface DeviceRow {
  vendor: string;
  version: string;
  ready: string;
}

/** Starts a simulator for every vendor with samples, a simulator and a dictionary (sorted by vendor). */
export async function startSampleSimulators(
  say: (message: string) => void = () => {},
): Promise<Map<string, SimulatorHandle>> {
  const dictionaries = readdirSync(path.join(root, "dictionaries")).map((f) => f.split("-")[0]);
  const vendors = readdirSync(path.join(root, "samples"))
    .filter((v) => existsSync(path.join(root, "samples", v)))
    .sort();
  const sims = new Map<string, SimulatorHandle>();
  try {
    for (const vendor of vendors) {
      if (!isSimulatorVendor(vendor) || !dictionaries.includes(vendor)) {
        say(`skipping ${vendor}: ${isSimulatorVendor(vendor) ? "no dictionary" : "no simulator"} yet`);
        continue;
      }
      // The samples name address aliases; a real appliance would have them configured, so the
      // simulated one gets them too.
      const aliases = aliasesIn(vendor);
      // The FortiOS samples include snat rules (central SNAT entries): its VDOM runs central NAT, as
      // the appliance's administrator would have set it.
      const sim = await startSimulator(
        vendor,
        vendor === "pfsense" || vendor === "opnsense"
          ? { aliases }
          : vendor === "fortios"
            ? { centralNat: true }
            : {},
      );
      sims.set(vendor, sim);
      await seedAliases(vendor, sim, aliases);
      say(`${vendor} simulator on ${sim.url}`);
    }
  } catch (error) {
    await stopSimulators(sims);
    throw error;
  }
  return sims;
}

export async function stopSimulators(sims: Map<string, SimulatorHandle>): Promise<void> {
  for (const sim of sims.values()) await sim.stop();
}

/** kubectl-applies every vendor's samples into namespace (which must exist); returns how many objects. */
export async function applySamples(
  kubeconfigPath: string,
  namespace: string,
  sims: Map<string, SimulatorHandle>,
): Promise<number> {
  let applied = 0;
  for (const [vendor, sim] of sims) {
    for (const manifest of samplesFor(vendor, sim)) {
      const result = await kubectl(
        kubeconfigPath,
        ["-n", namespace, "apply", "-f", "-"],
        JSON.stringify(manifest),
      );
      if (result.code !== 0)
        throw new Error(`applying ${manifest.kind}/${manifest.metadata.name}: ${result.stderr}`);
      applied++;
    }
  }
  return applied;
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

/** The vendor's sample manifests with the Secret's credentials and the device's endpoint/CA replaced. */
export function samplesFor(vendor: string, sim: SimulatorHandle): Manifest[] {
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
        metadata: { name: caName, labels: { [CREDENTIALS_LABEL]: "true" } },
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

export async function listRules(custom: CustomObjectsApi, namespace: string): Promise<RuleRow[]> {
  const rows: RuleRow[] = [];
  for (const [plural, kind] of [
    ["vnffirewallrules", "fw"],
    ["vnfnatrules", "nat"],
  ] as const) {
    const list = (await custom.listNamespacedCustomObject({
      group: "vnf-operator.io",
      version: "v1alpha1",
      namespace,
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

export async function listDevices(
  custom: CustomObjectsApi,
  namespace: string,
): Promise<Map<string, DeviceRow>> {
  const list = (await custom.listNamespacedCustomObject({
    group: "vnf-operator.io",
    version: "v1alpha1",
    namespace,
    plural: "vnfdevices",
  })) as { items: Array<Record<string, never>> };
  const out = new Map<string, DeviceRow>();
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

/**
 * Polls the rules of namespace until each is Ready or Stalled, or the timeout; returns the last rows.
 * `progress` hears "device ready/total ..." whenever it changes; `check` runs every poll and may throw
 * (say, when the operator process has died).
 */
export async function waitForRules(
  custom: CustomObjectsApi,
  namespace: string,
  options: { timeoutMs: number; progress?: (line: string) => void; check?: () => void },
): Promise<RuleRow[]> {
  const deadline = Date.now() + options.timeoutMs;
  let last = "";
  let rows: RuleRow[] = [];
  while (Date.now() < deadline) {
    options.check?.();
    rows = await listRules(custom, namespace);
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
      options.progress?.(line);
      last = line;
    }
    if (rows.length > 0 && rows.every((r) => r.ready || r.stalled)) return rows;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return rows;
}
