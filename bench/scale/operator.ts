// The operator as the bench runs it: `vnf-operator run`, the shipped command, as a child process, from
// the compiled build (`npm run build`, what the image runs) or, with fromSource, from the TypeScript
// sources (Node's type stripping: quicker to start a run, but the stripper costs the process ~40 MiB).
// Node flags are the chart's NODE_OPTIONS unless the scenario says otherwise.
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

/** The chart's default NODE_OPTIONS (values.yaml `nodeOptions`), as a list of flags. */
export function chartNodeOptions(): string[] {
  const values = parse(readFileSync(path.join(repoRoot, "charts/vnf-operator/values.yaml"), "utf8")) as {
    nodeOptions?: string;
  };
  return (values.nodeOptions ?? "").split(" ").filter(Boolean);
}

export async function startOperator(launch: OperatorLaunch): Promise<OperatorProcess> {
  const entry = launch.fromSource
    ? path.join(repoRoot, "src/cli/main.ts")
    : path.join(repoRoot, "dist/cli/main.js");
  const args = [
    ...(launch.nodeArgs ?? chartNodeOptions()),
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
    env: { ...process.env, NODE_OPTIONS: "", ...launch.env },
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
