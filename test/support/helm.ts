// Helm and ServiceAccount helpers for the chart tests: the Go-built helm from the binaries cache (or a
// helm on PATH with an existing cluster), values files, and a kubeconfig that authenticates as a
// ServiceAccount with a token from the TokenRequest API, as the operator's pod would.
import { execFile } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { CoreV1Api, KubeConfig, type V1EnvVar } from "@kubernetes/client-node";
import { inject } from "vitest";
import { parseAllDocuments } from "yaml";

export const repoRoot = path.resolve(import.meta.dirname, "../..");
export const CHART_DIR = path.join(repoRoot, "charts/vnf-operator");

const run = promisify(execFile);

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

let helmPath: Promise<string> | undefined;

/** The helm binary: binDir from globalSetup, else the binaries cache, else `helm` on PATH. */
export function helmBinary(): Promise<string> {
  helmPath ??= (async () => {
    const binDir = inject("binDir");
    if (binDir) return path.join(binDir, "helm");
    try {
      const { stdout } = await run(path.join(repoRoot, "hack/build-binaries"), ["--print"]);
      const dir = stdout.trim().split("\n").pop();
      if (dir) return path.join(dir, "helm");
    } catch {
      // Not built (e.g. an existing cluster without the cache): fall back to PATH.
    }
    return "helm";
  })();
  return helmPath;
}

/** Runs helm against the test cluster; never throws on a non-zero exit. */
export async function helm(args: string[], options: { kubeconfig?: string } = {}): Promise<CommandResult> {
  const binary = await helmBinary();
  const kube = options.kubeconfig ? ["--kubeconfig", options.kubeconfig] : [];
  const dir = mkdtempSync(path.join(tmpdir(), "vnf-helm-"));
  try {
    const { stdout, stderr } = await run(binary, [...args, ...kube], {
      maxBuffer: 32 * 1024 * 1024,
      // helm keeps a cache and a repository config; keep them out of the user's home.
      env: {
        ...process.env,
        HELM_CACHE_HOME: path.join(dir, "cache"),
        HELM_CONFIG_HOME: path.join(dir, "config"),
        HELM_DATA_HOME: path.join(dir, "data"),
      },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === "number" ? e.code : 1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

/** Writes values to a temporary file for `helm -f` (JSON is YAML). */
export function valuesFile(values: object): string {
  const dir = mkdtempSync(path.join(tmpdir(), "vnf-values-"));
  const file = path.join(dir, "values.yaml");
  writeFileSync(file, JSON.stringify(values, null, 2));
  return file;
}

export interface RenderedObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [key: string]: unknown };
  [key: string]: unknown;
}

/** The objects of a multi-document YAML stream (empty documents dropped). */
export function parseManifests(text: string): RenderedObject[] {
  return parseAllDocuments(text)
    .map((doc) => doc.toJS() as RenderedObject | null)
    .filter((obj): obj is RenderedObject => obj !== null && typeof obj === "object" && "kind" in obj);
}

/** `helm template` of the chart; throws with helm's message when rendering fails. */
export async function renderChart(
  release: string,
  namespace: string,
  values: object,
  extraArgs: string[] = [],
): Promise<{ text: string; objects: RenderedObject[] }> {
  const result = await helm([
    "template",
    release,
    CHART_DIR,
    "--namespace",
    namespace,
    "-f",
    valuesFile(values),
    ...extraArgs,
  ]);
  if (result.code !== 0) throw new Error(`helm template failed: ${result.stderr}`);
  return { text: result.stdout, objects: parseManifests(result.stdout) };
}

/**
 * A KubeConfig that authenticates as ServiceAccount namespace/name: a short-lived token from the
 * TokenRequest API, and the admin kubeconfig's server and CA.
 */
export async function serviceAccountKubeConfig(
  admin: KubeConfig,
  namespace: string,
  name: string,
  expirationSeconds = 3600,
): Promise<KubeConfig> {
  const core = admin.makeApiClient(CoreV1Api);
  const request = await core.createNamespacedServiceAccountToken({
    name,
    namespace,
    body: { spec: { expirationSeconds, audiences: [] } },
  });
  const token = request.status?.token;
  if (!token) throw new Error(`TokenRequest for ${namespace}/${name} returned no token`);
  const cluster = admin.getCurrentCluster();
  if (!cluster) throw new Error("the admin kubeconfig has no current cluster");
  const user = `system:serviceaccount:${namespace}:${name}`;
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ ...cluster, name: "test-cluster" }],
    users: [{ name: user, token }],
    contexts: [{ name: "sa", cluster: "test-cluster", user }],
    currentContext: "sa",
  });
  return kc;
}

/** Writes a KubeConfig to a temporary file (for kubectl and helm). */
export function writeKubeConfig(kc: KubeConfig): string {
  const dir = mkdtempSync(path.join(tmpdir(), "vnf-kubeconfig-"));
  const file = path.join(dir, "kubeconfig");
  writeFileSync(file, kc.exportConfig(), { mode: 0o600 });
  return file;
}

/** `helm install` of the chart into namespace; returns its ServiceAccount's own KubeConfig. */
export async function installChart(
  admin: KubeConfig,
  kubeconfig: string,
  release: string,
  namespace: string,
  values: object,
): Promise<KubeConfig> {
  const result = await helm(
    ["install", release, CHART_DIR, "--namespace", namespace, "-f", valuesFile(values)],
    { kubeconfig },
  );
  if (result.code !== 0) throw new Error(`helm install ${release} failed: ${result.stderr}`);
  return serviceAccountKubeConfig(admin, namespace, `${release}-vnf-operator`);
}

export async function uninstallChart(kubeconfig: string, release: string, namespace: string): Promise<void> {
  await helm(["uninstall", release, "--namespace", namespace], { kubeconfig });
}

/** The objects an installed release created (`helm get manifest`). */
export async function releaseObjects(
  kubeconfig: string,
  release: string,
  namespace: string,
): Promise<RenderedObject[]> {
  const result = await helm(["get", "manifest", release, "--namespace", namespace], { kubeconfig });
  if (result.code !== 0) throw new Error(`helm get manifest ${release} failed: ${result.stderr}`);
  return parseManifests(result.stdout);
}

/**
 * A container's env as the kubelet fills it in: plain values, and the downward API fields given in
 * `fields` (fieldPath -> value). Anything else throws, so a chart change is never silently dropped.
 */
export function resolveEnv(
  env: V1EnvVar[] | undefined,
  fields: Record<string, string>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of env ?? []) {
    const fieldPath = e.valueFrom?.fieldRef?.fieldPath;
    const value = e.value ?? (fieldPath ? fields[fieldPath] : undefined);
    if (value === undefined) throw new Error(`cannot resolve env ${e.name}: ${JSON.stringify(e.valueFrom)}`);
    out[e.name] = value;
  }
  return out;
}

/**
 * What the kubelet mounts at /var/run/secrets/kubernetes.io/serviceaccount for a pod of ServiceAccount
 * namespace/name: a token from the TokenRequest API, the cluster CA and the namespace, world-readable
 * (the kubelet's default mode 0644) so that any non-root uid can read them. Returns the directory.
 */
export async function serviceAccountVolume(
  admin: KubeConfig,
  namespace: string,
  name: string,
  expirationSeconds = 3600,
): Promise<string> {
  const kc = await serviceAccountKubeConfig(admin, namespace, name, expirationSeconds);
  const user = kc.getCurrentUser();
  const cluster = admin.getCurrentCluster();
  if (!user?.token || !cluster) throw new Error("no token or cluster for the ServiceAccount volume");
  const ca = cluster.caData
    ? Buffer.from(cluster.caData, "base64").toString("utf8")
    : cluster.caFile
      ? readFileSync(cluster.caFile, "utf8")
      : undefined;
  if (!ca) throw new Error("the admin kubeconfig names no cluster CA");
  const dir = mkdtempSync(path.join(tmpdir(), "vnf-sa-"));
  chmodSync(dir, 0o755);
  for (const [file, content] of [
    ["token", user.token],
    ["ca.crt", ca],
    ["namespace", namespace],
  ] as const) {
    writeFileSync(path.join(dir, file), content, { mode: 0o644 });
  }
  return dir;
}
