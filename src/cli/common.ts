// Small pieces the long-running commands (run, shim) share.
import { KubeConfig } from "@kubernetes/client-node";

/** The kubeconfig at `path`, or the in-cluster service account when there is none. */
export function loadKubeConfig(path: string | undefined): KubeConfig {
  const kubeConfig = new KubeConfig();
  if (path) kubeConfig.loadFromFile(path);
  else kubeConfig.loadFromCluster();
  return kubeConfig;
}

/** "a, b,,c" → ["a", "b", "c"] (flags and env vars that take lists). */
export function commaList(text: string | undefined): string[] {
  return (text ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}
