// Small pieces the long-running commands (run, shim) share.
import { KubeConfigFile } from "../runtime/kubeconfig.ts";

/** The kubeconfig at `path`, or the in-cluster service account when there is none. */
export function loadKubeConfig(path: string | undefined): KubeConfigFile {
  return path ? KubeConfigFile.fromFile(path) : KubeConfigFile.inCluster();
}

/** "a, b,,c" → ["a", "b", "c"] (flags and env vars that take lists). */
export function commaList(text: string | undefined): string[] {
  return (text ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}
