// One control plane per test run (envtest's model). With VNF_USE_EXISTING_CLUSTER=1 the tests use
// the cluster in KUBECONFIG instead, as envtest's USE_EXISTING_CLUSTER does.
//
// Two projects use it: integration, and the secrets scan that runs after it (vitest groupOrder) and
// reads what the integration suite left on the API server. Both share the one control plane (kept on
// globalThis: vitest loads this file once per project, in the same process) and the run's scan
// directory, where every test operator writes its trace-level log and its /metrics.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { TestProject } from "vitest/node";
import { ControlPlane } from "./controlplane.ts";
import { RECORD_FILE, recordSecrets } from "./secret-recorder.ts";

declare module "vitest" {
  export interface ProvidedContext {
    kubeconfigPath: string;
    /** The directory of the Go-built binaries (helm, ...); empty with an existing cluster. */
    binDir: string;
    /** Where test operators write their logs (trace level) and metrics for the secrets scan. */
    scanDir: string;
  }
}

interface Shared {
  started: Promise<{ kubeconfigPath: string; stop: () => Promise<void> }>;
  scanDir: string;
  users: number;
}

const KEY = Symbol.for("vnf-operator.test.controlplane");
const registry = globalThis as unknown as { [KEY]?: Shared };

/** The control plane, with every Secret it holds recorded for the scan while the run lasts. */
async function startRecordedPlane(
  scanDir: string,
): Promise<{ kubeconfigPath: string; stop: () => Promise<void> }> {
  const plane = await startPlane();
  const recorder = recordSecrets(plane.kubeconfigPath, path.join(scanDir, RECORD_FILE));
  return {
    kubeconfigPath: plane.kubeconfigPath,
    stop: async () => {
      recorder.stop();
      await plane.stop();
    },
  };
}

async function startPlane(): Promise<{ kubeconfigPath: string; stop: () => Promise<void> }> {
  if (process.env.VNF_USE_EXISTING_CLUSTER === "1") {
    const kubeconfigPath = process.env.KUBECONFIG;
    if (!kubeconfigPath)
      throw new Error("VNF_USE_EXISTING_CLUSTER=1 needs KUBECONFIG to name the cluster's kubeconfig");
    return { kubeconfigPath, stop: async () => {} };
  }
  const started = Date.now();
  const plane = await ControlPlane.start({ progress: (m) => process.stderr.write(`[control plane] ${m}\n`) });
  process.stderr.write(`[control plane] warm start took ${((Date.now() - started) / 1000).toFixed(1)}s\n`);
  const stop = () => plane.stop();
  // A Ctrl-C or kill of the test run must not leave etcd or kube-* behind.
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      void stop().finally(() => process.exit(130));
    });
  }
  return { kubeconfigPath: plane.kubeconfigPath, stop };
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let shared = registry[KEY];
  if (!shared) {
    const scanDir = mkdtempSync(path.join(tmpdir(), "vnf-scan-"));
    // It holds the run's credential values: gone with the run, also when Ctrl-C ends it early.
    if (process.env.VNF_KEEP_SCAN_DIR !== "1")
      process.once("exit", () => rmSync(scanDir, { recursive: true, force: true }));
    shared = { started: startRecordedPlane(scanDir), scanDir, users: 0 };
    registry[KEY] = shared;
  }
  shared.users++;
  const { kubeconfigPath, stop } = await shared.started;
  project.provide("kubeconfigPath", kubeconfigPath);
  project.provide("binDir", process.env.VNF_BIN_DIR ?? "");
  project.provide("scanDir", shared.scanDir);
  const owner = shared;
  return async () => {
    owner.users--;
    if (owner.users > 0) return;
    registry[KEY] = undefined;
    await stop();
    if (process.env.VNF_KEEP_SCAN_DIR !== "1") rmSync(owner.scanDir, { recursive: true, force: true });
  };
}
