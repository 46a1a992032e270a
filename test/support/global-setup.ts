// One control plane per test run (envtest's model). With VNF_USE_EXISTING_CLUSTER=1 the tests use
// the cluster in KUBECONFIG instead, as envtest's USE_EXISTING_CLUSTER does.
import type { TestProject } from "vitest/node";
import { ControlPlane } from "./controlplane.ts";

declare module "vitest" {
  export interface ProvidedContext {
    kubeconfigPath: string;
    /** The directory of the Go-built binaries (helm, ...); empty with an existing cluster. */
    binDir: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (process.env.VNF_USE_EXISTING_CLUSTER === "1") {
    const kubeconfigPath = process.env.KUBECONFIG;
    if (!kubeconfigPath)
      throw new Error("VNF_USE_EXISTING_CLUSTER=1 needs KUBECONFIG to name the cluster's kubeconfig");
    project.provide("kubeconfigPath", kubeconfigPath);
    project.provide("binDir", process.env.VNF_BIN_DIR ?? "");
    return async () => {};
  }
  const started = Date.now();
  const plane = await ControlPlane.start({ progress: (m) => process.stderr.write(`[control plane] ${m}\n`) });
  process.stderr.write(`[control plane] warm start took ${((Date.now() - started) / 1000).toFixed(1)}s\n`);
  project.provide("kubeconfigPath", plane.kubeconfigPath);
  project.provide("binDir", process.env.VNF_BIN_DIR ?? "");
  const stop = () => plane.stop();
  // A Ctrl-C or kill of the test run must not leave etcd or kube-* behind.
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      void stop().finally(() => process.exit(130));
    });
  }
  return stop;
}
