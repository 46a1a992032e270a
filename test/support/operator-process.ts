// Starts the operator as a child process (operator-child.ts) and watches its events, so a test can
// kill it for real (SIGKILL: no drain, no lease release, nothing after the kill) and start another.
import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import type { ChildOperatorConfig } from "./operator-child.ts";
import { repoRoot, TEST_INSTALLATION_ID } from "./operator-env.ts";
import { scanFile } from "./test-logger.ts";

export interface OperatorChild {
  pid: number;
  identity: string;
  /** Events seen so far (started, leading, stopped), in order, with their time. */
  events: Array<{ event: string; at: number }>;
  waitFor(event: string, timeoutMs?: number): Promise<{ event: string; at: number }>;
  /** SIGKILL: the crash. Resolves once the process is gone. */
  kill(): Promise<void>;
  /** SIGTERM: the graceful stop. Resolves once the process is gone. */
  stop(): Promise<void>;
  stderr(): string;
}

export async function spawnOperator(
  config: Omit<ChildOperatorConfig, "dictionaryDirectories"> & { dictionaryDirectories?: string[] },
  startTimeoutMs = 30_000,
  /** Extra node flags, e.g. --heapsnapshot-signal=SIGUSR2 (the benches). */
  nodeArgs: string[] = [],
): Promise<OperatorChild> {
  const logFile = scanFile("operator-child", "log");
  const full: ChildOperatorConfig = {
    dictionaryDirectories: [path.join(repoRoot, "dictionaries")],
    ...(logFile ? { logFile } : {}),
    installationId: TEST_INSTALLATION_ID,
    ...config,
  };
  const child: ChildProcess = spawn(
    process.execPath,
    [...nodeArgs, path.join(repoRoot, "test/support/operator-child.ts"), JSON.stringify(full)],
    { stdio: ["ignore", "pipe", "pipe"], env: process.env },
  );
  const events: Array<{ event: string; at: number; identity?: string }> = [];
  const waiters: Array<() => void> = [];
  let stderr = "";
  let buffered = "";
  child.stdout?.setEncoding("utf8");
  child.stdout?.on("data", (chunk: string) => {
    buffered += chunk;
    let newline = buffered.indexOf("\n");
    while (newline >= 0) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      if (line.startsWith("@@")) {
        events.push(JSON.parse(line.slice(2)) as { event: string; at: number });
        for (const wake of waiters.splice(0)) wake();
      }
      newline = buffered.indexOf("\n");
    }
  });
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (chunk: string) => {
    stderr += chunk;
    if (process.env.VNF_TEST_LOG_LEVEL) process.stderr.write(chunk);
  });
  const exited = new Promise<void>((resolve) => {
    child.once("exit", () => {
      for (const wake of waiters.splice(0)) wake();
      resolve();
    });
  });
  let gone = false;
  void exited.then(() => {
    gone = true;
  });

  const waitFor = async (event: string, timeoutMs = 30_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = events.find((e) => e.event === event);
      if (found) return found;
      if (gone) throw new Error(`operator child exited before "${event}": ${stderr.slice(-2000)}`);
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`operator child: no "${event}" after ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  };

  const started = await waitFor("started", startTimeoutMs);
  const pid = child.pid ?? -1;
  return {
    pid,
    identity: String((started as { identity?: string }).identity ?? ""),
    events,
    waitFor,
    kill: async () => {
      if (!gone) child.kill("SIGKILL");
      await exited;
    },
    stop: async () => {
      if (!gone) child.kill("SIGTERM");
      await exited;
    },
    stderr: () => stderr,
  };
}
