// Runs one SDK driver (sdk/<name>.py) against a simulator and collects its steps (see sdk/conformance.py
// for the protocol). The driver talks to the simulator over HTTPS on loopback with the vendor's own SDK;
// at each checkpoint the test's callback looks at the simulator's state before the driver goes on.
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { inject } from "vitest";
import type { SimulatorHandle } from "../simulators/index.ts";

export interface SdkStep {
  step: string;
  ok: boolean;
  result?: unknown;
  error?: string;
  trace?: string;
}

export interface SdkRun {
  steps: SdkStep[];
  /** Checkpoint names in the order reached. */
  checkpoints: string[];
  exitCode: number | null;
  stderr: string;
  /** Driver output that is not a step (SDK prints, warnings). */
  stdout: string;
}

export interface RunSdkOptions {
  /** Extra environment for the driver. */
  env?: Record<string, string>;
  /** Credentials to hand the driver instead of the simulator's. */
  credentials?: Record<string, string>;
  /** Called at each checkpoint; the driver waits until it resolves. */
  onCheckpoint?: (name: string) => Promise<void>;
  /** Use the newest pan-python instead of the one pan-os-python pins. */
  panPythonLatest?: boolean;
  timeoutMs?: number;
}

const here = import.meta.dirname;

export async function runSdk(
  driver: string,
  sim: SimulatorHandle,
  options: RunSdkOptions = {},
): Promise<SdkRun> {
  const python = inject("sdkPython");
  const dir = await mkdtemp(join(tmpdir(), "vnf-conformance-"));
  const caPath = join(dir, "ca.pem");
  await writeFile(caPath, sim.caPem);
  const pythonPath = [join(here, "sdk"), ...(options.panPythonLatest ? [inject("sdkPanPythonLatest")] : [])];
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: process.env.HOME ?? dir,
    PYTHONPATH: pythonPath.join(":"),
    PYTHONDONTWRITEBYTECODE: "1",
    PYTHONUNBUFFERED: "1",
    // Loopback only, whatever proxy the machine has configured.
    NO_PROXY: "127.0.0.1,localhost,::1",
    no_proxy: "127.0.0.1,localhost,::1",
    SIM_URL: sim.url,
    SIM_CA: caPath,
    SIM_CREDENTIALS: JSON.stringify(options.credentials ?? sim.credentials),
    ...options.env,
  };
  const child = spawn(python, [join(here, "sdk", `${driver}.py`)], { env, stdio: ["pipe", "pipe", "pipe"] });
  const run: SdkRun = { steps: [], checkpoints: [], exitCode: null, stderr: "", stdout: "" };
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    run.stderr += chunk;
  });
  const timeout = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 60_000);
  const lines = createInterface({ input: child.stdout });
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  try {
    for await (const line of lines) {
      if (line.startsWith("@@step ")) {
        run.steps.push(JSON.parse(line.slice("@@step ".length)) as SdkStep);
      } else if (line.startsWith("@@checkpoint ")) {
        const { name } = JSON.parse(line.slice("@@checkpoint ".length)) as { name: string };
        run.checkpoints.push(name);
        await options.onCheckpoint?.(name);
        child.stdin.write("continue\n");
      } else {
        run.stdout += `${line}\n`;
      }
    }
    run.exitCode = await exited;
  } finally {
    clearTimeout(timeout);
    child.stdin.end();
    await rm(dir, { recursive: true, force: true });
  }
  return run;
}

/** A readable account of a run for assertion messages: the failing step's error and trace. */
export function describeRun(run: SdkRun): string {
  const failed = run.steps.find((s) => !s.ok);
  const lines = run.steps.map((s) => `  ${s.ok ? "ok  " : "FAIL"} ${s.step}${s.ok ? "" : `: ${s.error}`}`);
  return [
    `exit ${run.exitCode}`,
    ...lines,
    ...(failed?.trace ? ["trace:", failed.trace] : []),
    ...(run.stderr.trim() ? ["stderr:", run.stderr.trim().slice(-3000)] : []),
  ].join("\n");
}

/** The result of a named step (the step must have passed). */
export function resultOf<T = unknown>(run: SdkRun, step: string): T {
  const found = run.steps.find((s) => s.step === step);
  if (!found?.ok) throw new Error(`step ${step} did not pass:\n${describeRun(run)}`);
  return found.result as T;
}
