// The operator as the bench runs it: `vnf-operator run`, the shipped command, as a child process, from
// the compiled build (`npm run build`, what the image runs) or, with fromSource, from the TypeScript
// sources (Node's type stripping: quicker to start a run, but the stripper costs the process ~40 MiB).
// Node flags and environment are those of the chart's default pod unless the scenario says otherwise
// (shippedLaunch): the image's own node flags (its ENTRYPOINT: V8 flags NODE_OPTIONS refuses), the chart's
// NODE_OPTIONS and the image's MALLOC_ARENA_MAX.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { parse } from "yaml";
import { repoRoot } from "../../test/support/operator-env.ts";

export interface OperatorProcess {
  pid: number;
  /** SIGTERM (graceful); resolves once the process is gone. */
  stop(): Promise<void>;
  /** SIGKILL; resolves once the process is gone. */
  kill(): Promise<void>;
  /** The end of its stderr (for a failure report). */
  stderr(): string;
}

export interface OperatorLaunch {
  kubeconfigPath: string;
  namespaces: string[];
  metricsAddress: string;
  fromSource?: boolean;
  nodeArgs?: string[];
  concurrency?: number;
  /** Extra `run` flags (leader election, shards…). */
  extraArgs?: string[];
  env?: Record<string, string>;
  /** MALLOC_ARENA_MAX; default the image's (its ENV); "" leaves glibc's default (8 per core). */
  mallocArenaMax?: string;
}

let built: Promise<void> | undefined;

/** `npm run build` once per bench process. */
export function buildOperator(progress: (message: string) => void): Promise<void> {
  built ??= (async () => {
    progress("building the operator (npm run build)");
    await promisify(execFile)("npm", ["run", "--silent", "build"], { cwd: repoRoot, maxBuffer: 16 << 20 });
  })();
  return built;
}

/** How the chart's default pod starts node: flags before the script, and environment. */
export interface ShippedLaunch {
  /** The image's ENTRYPOINT flags, then the chart's NODE_OPTIONS (as command-line flags). */
  nodeArgs: string[];
  /** MALLOC_ARENA_MAX, as the image sets it. */
  env: Record<string, string>;
}

const MEMORY_UNITS: Record<string, number> = {
  "": 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
};

/** A Kubernetes memory quantity ("512Mi", "1G", "268435456") in bytes. */
export function memoryQuantityBytes(quantity: string): number {
  const m = /^(\d+(?:\.\d+)?)(k|M|G|Ki|Mi|Gi)?$/.exec(quantity.trim());
  if (!m) throw new Error(`memory quantity ${quantity} not understood`);
  return Number(m[1]) * (MEMORY_UNITS[m[2] ?? ""] as number);
}

/** The node flags of the image's ENTRYPOINT (the final stage's: ["node", flags..., script]). */
export function imageNodeFlags(dockerfile: string): string[] {
  const m = [...dockerfile.matchAll(/^ENTRYPOINT (\[.*\])$/gm)].at(-1);
  if (!m?.[1]) throw new Error("the Dockerfile has no exec-form ENTRYPOINT");
  const entrypoint = JSON.parse(m[1]) as string[];
  if (entrypoint[0] !== "node") throw new Error(`ENTRYPOINT ${m[1]} does not start node`);
  return entrypoint.slice(1, -1);
}

/**
 * The chart's NODE_OPTIONS as flags, with --max-old-space-size-percentage resolved the way Node resolves
 * it in the pod — against the container's memory limit (the chart's resources.limits.memory) — as the
 * bench's operator runs without one (Node would take a share of the whole machine's memory instead).
 */
export function podNodeOptions(nodeOptions: string, memoryLimit: string | undefined): string[] {
  return nodeOptions
    .split(" ")
    .filter(Boolean)
    .map((flag) => {
      const m = /^--max-old-space-size-percentage=(\d+(?:\.\d+)?)$/.exec(flag);
      if (!m) return flag;
      if (memoryLimit === undefined) throw new Error(`${flag} needs the chart's resources.limits.memory`);
      const mib = Math.floor(memoryQuantityBytes(memoryLimit) / 2 ** 20);
      return `--max-old-space-size=${Math.floor((mib * Number(m[1])) / 100)}`;
    });
}

/** The image's ENV instructions (the final stage's), as name → value. */
export function imageEnv(dockerfile: string): Record<string, string> {
  const finalStage = dockerfile.slice(dockerfile.lastIndexOf("\nFROM "));
  const env: Record<string, string> = {};
  for (const m of finalStage.matchAll(/^ENV ([A-Z_][A-Z0-9_]*)=(\S+)$/gm))
    env[m[1] as string] = m[2] as string;
  return env;
}

/** The chart's default pod (values.yaml, and the Dockerfile the image is built from). */
export function shippedLaunch(): ShippedLaunch {
  const values = parse(readFileSync(path.join(repoRoot, "charts/vnf-operator/values.yaml"), "utf8")) as {
    nodeOptions?: string;
    resources?: { limits?: { memory?: string } };
  };
  const dockerfile = readFileSync(path.join(repoRoot, "Dockerfile"), "utf8");
  const arenas = imageEnv(dockerfile).MALLOC_ARENA_MAX;
  return {
    nodeArgs: [
      ...imageNodeFlags(dockerfile),
      ...podNodeOptions(values.nodeOptions ?? "", values.resources?.limits?.memory),
    ],
    env: arenas === undefined ? {} : { MALLOC_ARENA_MAX: arenas },
  };
}

function arenaEnv(mallocArenaMax: string | undefined): Record<string, string> {
  if (mallocArenaMax === undefined) return shippedLaunch().env;
  return mallocArenaMax === "" ? {} : { MALLOC_ARENA_MAX: mallocArenaMax };
}

export async function startOperator(launch: OperatorLaunch): Promise<OperatorProcess> {
  const entry = launch.fromSource
    ? path.join(repoRoot, "src/cli/main.ts")
    : path.join(repoRoot, "dist/cli/main.js");
  const args = [
    ...(launch.nodeArgs ?? shippedLaunch().nodeArgs),
    entry,
    "run",
    "--kubeconfig",
    launch.kubeconfigPath,
    "--namespaces",
    launch.namespaces.join(","),
    "--probe-address",
    "0",
    "--metrics-address",
    launch.metricsAddress,
    // The simulators listen on loopback, which the endpoint policy refuses unless allowed.
    "--endpoint-allow-cidrs",
    "127.0.0.1/32",
    ...(launch.concurrency !== undefined ? ["--concurrency", String(launch.concurrency)] : []),
    ...(launch.extraArgs ?? []),
  ];
  // Its logs (info, the default) go nowhere: the bench reads the process from outside.
  const child: ChildProcess = spawn(process.execPath, args, {
    stdio: ["ignore", "ignore", "pipe"],
    env: { ...process.env, NODE_OPTIONS: "", ...arenaEnv(launch.mallocArenaMax), ...launch.env },
  });
  let stderr = "";
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (chunk: string) => {
    stderr = (stderr + chunk).slice(-8000);
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  const signal = async (name: NodeJS.Signals) => {
    if (!gone) child.kill(name);
    await exited;
  };
  return {
    pid: child.pid ?? -1,
    stop: () => signal("SIGTERM"),
    kill: () => signal("SIGKILL"),
    stderr: () => stderr,
  };
}
