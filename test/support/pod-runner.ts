// Runs one container of a rendered pod spec with podman (or docker) the way the kubelet would run it:
// its image, args and env (downward API resolved), the pod's and container's securityContext, its
// volumes, memory/CPU limits and the ServiceAccount mount the kubelet adds. Host networking stands in
// for the pod network, so containerPorts are host ports. Every field is either translated or
// deliberately ignored (scheduling); anything else throws, so that a chart change cannot silently go
// untested here. `podman kube play` (podman 4.3) cannot do this: it refuses containerPorts with host
// networking and the downward API's metadata.namespace, turns probes into curl commands run inside
// the image (which has no curl), and ignores terminationGracePeriodSeconds.
import { execFile, execFileSync } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import type { V1PodSpec, V1Probe } from "@kubernetes/client-node";
import { resolveEnv } from "./helm.ts";

const run = promisify(execFile);
const repoRoot = path.resolve(import.meta.dirname, "../..");

export interface ContainerEngine {
  name: "podman" | "docker";
  /** Environment for every engine command (podman: this project's configuration and storage). */
  env: NodeJS.ProcessEnv;
}

/** The engine hack/image uses, or undefined (with the reason) when there is none. */
export function containerEngine(): { engine?: ContainerEngine; reason?: string } {
  try {
    const out = execFileSync(path.join(repoRoot, "hack/image"), ["env"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
    const vars = Object.fromEntries(
      out
        .trim()
        .split("\n")
        .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
    );
    const name = vars.VNF_IMAGE_ENGINE;
    if (name !== "podman" && name !== "docker") return { reason: `hack/image env printed ${out}` };
    return { engine: { name, env: { ...process.env, ...vars } } };
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    return { reason: (e.stderr || e.message).trim() };
  }
}

export async function engineCommand(
  engine: ContainerEngine,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(engine.name, args, { env: engine.env, maxBuffer: 64 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === "number" ? e.code : 1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

export interface ProbeTarget {
  kind: "startup" | "liveness" | "readiness";
  /** http: GET path must answer 200-399 (the kubelet's rule); tcp: the port must accept. */
  type: "http" | "tcp";
  port: number;
  path?: string;
  scheme?: "HTTP" | "HTTPS";
  /** How long the kubelet would wait before acting on failures: periodSeconds × failureThreshold. */
  budgetSeconds: number;
}

export interface PodRunInputs {
  /** metadata.name / metadata.namespace, as the downward API and the ServiceAccount mount see them. */
  podName: string;
  namespace: string;
  /** The kubelet's ServiceAccount mount: a directory from serviceAccountVolume() and the API server. */
  serviceAccount: { name: string; dir: string; host: string; port: number };
  /** Host directories standing in for Secret / ConfigMap volumes, by secretName / configMap name. */
  secrets?: Record<string, string>;
  configMaps?: Record<string, string>;
}

export interface PodRunPlan {
  image: string;
  /** `<engine> run` arguments (without the container name and image). */
  runArgs: string[];
  /** The container args after the image (the image's ENTRYPOINT stays unless `command` is set). */
  args: string[];
  env: Record<string, string>;
  ports: Record<string, number>;
  probes: ProbeTarget[];
  gracePeriodSeconds: number;
  user: { uid: number; gid?: number };
}

const SCHEDULING_FIELDS = new Set([
  "nodeSelector",
  "tolerations",
  "affinity",
  "priorityClassName",
  "imagePullSecrets",
]);
const POD_FIELDS = new Set([
  ...SCHEDULING_FIELDS,
  "containers",
  "securityContext",
  "serviceAccountName",
  "automountServiceAccountToken",
  "terminationGracePeriodSeconds",
  "volumes",
]);
const CONTAINER_FIELDS = new Set([
  "name",
  "image",
  "imagePullPolicy",
  "command",
  "args",
  "env",
  "ports",
  "startupProbe",
  "livenessProbe",
  "readinessProbe",
  "resources",
  "securityContext",
  "volumeMounts",
]);
const SERVICE_ACCOUNT_PATH = "/var/run/secrets/kubernetes.io/serviceaccount";

function unknownFields(what: string, obj: object, known: Set<string>): void {
  const extra = Object.keys(obj).filter((k) => !known.has(k));
  if (extra.length > 0)
    throw new Error(`${what}: test/support/pod-runner.ts does not know how to run ${extra.join(", ")}`);
}

/** Kubernetes quantity → bytes (memory) or cores (cpu). */
export function quantity(text: string | number): number {
  const m = /^([0-9.]+)([a-zA-Z]*)$/.exec(String(text));
  if (!m) throw new Error(`bad quantity ${text}`);
  const units: Record<string, number> = {
    "": 1,
    m: 1e-3,
    k: 1e3,
    M: 1e6,
    G: 1e9,
    Ki: 1024,
    Mi: 1024 ** 2,
    Gi: 1024 ** 3,
  };
  const unit = units[m[2] ?? ""];
  if (unit === undefined) throw new Error(`unknown quantity unit in ${text}`);
  return Number(m[1]) * unit;
}

export function planPodRun(
  engine: ContainerEngine["name"],
  spec: V1PodSpec,
  containerName: string,
  inputs: PodRunInputs,
): PodRunPlan {
  unknownFields("pod spec", spec, POD_FIELDS);
  const container = spec.containers.find((c) => c.name === containerName);
  if (!container) throw new Error(`no container ${containerName} in the pod spec`);
  if (spec.containers.length !== 1)
    throw new Error("pod-runner runs single-container pods only (sidecars would share the pod network)");
  unknownFields(`container ${containerName}`, container, CONTAINER_FIELDS);
  if (!container.image) throw new Error(`container ${containerName} has no image`);
  const runArgs = ["--network=host", "--pull=never"];

  // Security context: the container's fields win over the pod's, as in Kubernetes.
  const pod = spec.securityContext ?? {};
  unknownFields(
    "pod securityContext",
    pod,
    new Set(["runAsNonRoot", "runAsUser", "runAsGroup", "fsGroup", "supplementalGroups", "seccompProfile"]),
  );
  const ctr = container.securityContext ?? {};
  unknownFields(
    "container securityContext",
    ctr,
    new Set([
      "allowPrivilegeEscalation",
      "readOnlyRootFilesystem",
      "runAsNonRoot",
      "runAsUser",
      "runAsGroup",
      "capabilities",
      "seccompProfile",
      "privileged",
    ]),
  );
  if (ctr.privileged) throw new Error("privileged containers are not run here");
  const uid = ctr.runAsUser ?? pod.runAsUser;
  const gid = ctr.runAsGroup ?? pod.runAsGroup;
  if (uid === undefined) throw new Error("no runAsUser: the e2e runs pods with an explicit uid only");
  if ((ctr.runAsNonRoot ?? pod.runAsNonRoot) && uid === 0)
    throw new Error("runAsNonRoot with runAsUser 0: the kubelet would refuse to start it");
  runArgs.push(`--user=${uid}${gid === undefined ? "" : `:${gid}`}`);
  for (const group of [pod.fsGroup, ...(pod.supplementalGroups ?? [])])
    if (group !== undefined) runArgs.push(`--group-add=${group}`);
  const seccomp = ctr.seccompProfile ?? pod.seccompProfile;
  if (seccomp?.type === "Unconfined") runArgs.push("--security-opt=seccomp=unconfined");
  else if (seccomp && seccomp.type !== "RuntimeDefault")
    throw new Error(`seccompProfile ${seccomp.type} is not supported here`);
  // (RuntimeDefault: the engine's default profile, which both podman and docker apply.)
  if (ctr.allowPrivilegeEscalation === false) runArgs.push("--security-opt=no-new-privileges");
  // podman's --read-only also mounts tmpfs on /tmp, /var/tmp and /run unless told not to; the kubelet
  // does not, so only the pod's own volumes may be writable.
  if (ctr.readOnlyRootFilesystem)
    runArgs.push("--read-only", ...(engine === "podman" ? ["--read-only-tmpfs=false"] : []));
  for (const cap of ctr.capabilities?.drop ?? []) runArgs.push(`--cap-drop=${cap}`);
  for (const cap of ctr.capabilities?.add ?? []) runArgs.push(`--cap-add=${cap}`);

  // Resources: limits are enforced; requests only matter to the scheduler.
  const limits = container.resources?.limits ?? {};
  for (const key of Object.keys(limits)) {
    if (key === "memory") runArgs.push(`--memory=${Math.floor(quantity(limits[key] as string))}`);
    else if (key === "cpu") runArgs.push(`--cpus=${quantity(limits[key] as string)}`);
    else throw new Error(`resource limit ${key} is not supported here`);
  }

  // Env: the container's, the downward API resolved, plus the kubelet's service variables.
  const env = resolveEnv(container.env, {
    "metadata.name": inputs.podName,
    "metadata.namespace": inputs.namespace,
  });
  const automount = spec.automountServiceAccountToken !== false;
  if (automount) {
    if ((spec.serviceAccountName ?? "default") !== inputs.serviceAccount.name)
      throw new Error(
        `the pod runs as ServiceAccount ${spec.serviceAccountName}, the token given is ${inputs.serviceAccount.name}'s`,
      );
    env.KUBERNETES_SERVICE_HOST = inputs.serviceAccount.host;
    env.KUBERNETES_SERVICE_PORT = String(inputs.serviceAccount.port);
    runArgs.push(`--volume=${inputs.serviceAccount.dir}:${SERVICE_ACCOUNT_PATH}:ro`);
  }
  for (const [name, value] of Object.entries(env)) runArgs.push(`--env=${name}=${value}`);

  // Volumes.
  const volumes = new Map((spec.volumes ?? []).map((v) => [v.name, v]));
  for (const mount of container.volumeMounts ?? []) {
    unknownFields(`volumeMount ${mount.name}`, mount, new Set(["name", "mountPath", "readOnly"]));
    const volume = volumes.get(mount.name);
    if (!volume) throw new Error(`volumeMount ${mount.name} names no volume`);
    const ro = mount.readOnly ? ":ro" : "";
    if (volume.emptyDir) {
      const size = volume.emptyDir.sizeLimit
        ? `,tmpfs-size=${Math.floor(quantity(volume.emptyDir.sizeLimit))}`
        : "";
      // emptyDir is a fresh, world-writable directory (mode 0777).
      runArgs.push(`--mount=type=tmpfs,destination=${mount.mountPath},tmpfs-mode=1777${size}`);
    } else if (volume.secret) {
      const dir = inputs.secrets?.[volume.secret.secretName ?? ""];
      if (!dir || volume.secret.items)
        throw new Error(`no stand-in for Secret volume ${volume.secret.secretName}`);
      runArgs.push(`--volume=${dir}:${mount.mountPath}:ro`);
    } else if (volume.configMap) {
      const dir = inputs.configMaps?.[volume.configMap.name ?? ""];
      if (!dir || volume.configMap.items)
        throw new Error(`no stand-in for ConfigMap volume ${volume.configMap.name}`);
      runArgs.push(`--volume=${dir}:${mount.mountPath}${ro || ":ro"}`);
    } else {
      throw new Error(`volume ${mount.name}: only emptyDir, secret and configMap are supported here`);
    }
  }

  // Ports and probes (the test probes from outside, as the kubelet does).
  const ports: Record<string, number> = {};
  for (const p of container.ports ?? []) if (p.name) ports[p.name] = p.containerPort;
  const probes: ProbeTarget[] = [];
  for (const [kind, probe] of [
    ["startup", container.startupProbe],
    ["liveness", container.livenessProbe],
    ["readiness", container.readinessProbe],
  ] as const) {
    if (probe) probes.push(probeTarget(kind, probe, ports));
  }

  // `command` replaces the image's ENTRYPOINT, `args` its CMD.
  const [entrypoint, ...commandArgs] = container.command ?? [];
  if (entrypoint !== undefined) runArgs.push(`--entrypoint=${entrypoint}`);
  return {
    image: container.image,
    runArgs,
    args: [...commandArgs, ...(container.args ?? [])],
    env,
    ports,
    probes,
    // Kubernetes' default when the pod spec says nothing.
    gracePeriodSeconds: spec.terminationGracePeriodSeconds ?? 30,
    user: { uid, ...(gid === undefined ? {} : { gid }) },
  };
}

function probeTarget(kind: ProbeTarget["kind"], probe: V1Probe, ports: Record<string, number>): ProbeTarget {
  const portOf = (port: number | string | undefined): number => {
    const n = typeof port === "string" ? ports[port] : port;
    if (n === undefined) throw new Error(`${kind} probe: unknown port ${port}`);
    return n;
  };
  // The kubelet's defaults: periodSeconds 10, failureThreshold 3.
  const budgetSeconds =
    (probe.periodSeconds ?? 10) * (probe.failureThreshold ?? 3) + (probe.initialDelaySeconds ?? 0);
  if (probe.httpGet) {
    const scheme = (probe.httpGet.scheme ?? "HTTP") as "HTTP" | "HTTPS";
    return {
      kind,
      type: "http",
      port: portOf(probe.httpGet.port),
      path: probe.httpGet.path ?? "/",
      scheme,
      budgetSeconds,
    };
  }
  if (probe.tcpSocket) return { kind, type: "tcp", port: portOf(probe.tcpSocket.port), budgetSeconds };
  throw new Error(`${kind} probe: only httpGet and tcpSocket are supported here`);
}

/** Starts the container detached; returns when the engine has started it. */
export async function startPod(engine: ContainerEngine, name: string, plan: PodRunPlan): Promise<void> {
  await engineCommand(engine, ["rm", "--force", name]);
  const result = await engineCommand(engine, [
    "run",
    "--detach",
    `--name=${name}`,
    ...plan.runArgs,
    plan.image,
    ...plan.args,
  ]);
  if (result.code !== 0) throw new Error(`${engine.name} run ${name} failed: ${result.stderr}`);
}

export interface ContainerState {
  running: boolean;
  exitCode: number;
  startedAt: string;
  finishedAt: string;
}

export async function containerState(engine: ContainerEngine, name: string): Promise<ContainerState> {
  const result = await engineCommand(engine, ["inspect", "--format", "{{json .State}}", name]);
  if (result.code !== 0) throw new Error(`${engine.name} inspect ${name}: ${result.stderr}`);
  const state = JSON.parse(result.stdout) as {
    Running: boolean;
    ExitCode: number;
    StartedAt: string;
    FinishedAt: string;
  };
  return {
    running: state.Running,
    exitCode: state.ExitCode,
    startedAt: state.StartedAt,
    finishedAt: state.FinishedAt,
  };
}

/** stdout and stderr of the container so far. */
export async function containerLogs(engine: ContainerEngine, name: string): Promise<string> {
  const result = await engineCommand(engine, ["logs", name]);
  return `${result.stdout}${result.stderr}`;
}

/**
 * What the kubelet does on pod deletion: SIGTERM, then SIGKILL once the grace period is over.
 * Returns the exit code and how long the container took to stop.
 */
export async function stopPod(
  engine: ContainerEngine,
  name: string,
  gracePeriodSeconds: number,
): Promise<{ exitCode: number; seconds: number }> {
  const started = Date.now();
  const result = await engineCommand(engine, ["stop", `--time=${gracePeriodSeconds}`, name]);
  const seconds = (Date.now() - started) / 1000;
  if (result.code !== 0) throw new Error(`${engine.name} stop ${name}: ${result.stderr}`);
  const state = await containerState(engine, name);
  return { exitCode: state.exitCode, seconds };
}

export async function removePod(engine: ContainerEngine, name: string): Promise<void> {
  await engineCommand(engine, ["rm", "--force", name]);
}
