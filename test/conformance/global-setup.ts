// The conformance layer's set-up: the SDK virtualenv (built once, then cached) and, at the end of the
// run, the layer's own run time (first conformance test file started → last one finished), printed.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { ensureSdkEnvironment } from "./venv.ts";

declare module "vitest" {
  export interface ProvidedContext {
    /** The SDK virtualenv's python. */
    sdkPython: string;
    /** PYTHONPATH entry holding the newest pan-python. */
    sdkPanPythonLatest: string;
    /** File the test files append their timings to (timing.ts). */
    conformanceTimings: string;
  }
}

export interface FileTiming {
  file: string;
  startedMs: number;
  endedMs: number;
  sdks: string[];
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const log = (line: string) => process.stderr.write(`[conformance] ${line}\n`);
  const environment = await ensureSdkEnvironment(log);
  const dir = await mkdtemp(join(tmpdir(), "vnf-conformance-timing-"));
  const timings = join(dir, "timings.jsonl");
  project.provide("sdkPython", environment.python);
  project.provide("sdkPanPythonLatest", environment.panPythonLatest);
  project.provide("conformanceTimings", timings);
  return async () => {
    const text = await readFile(timings, "utf8").catch(() => "");
    await rm(dir, { recursive: true, force: true });
    const files = text
      .split("\n")
      .filter((line) => line.trim() !== "")
      .map((line) => JSON.parse(line) as FileTiming);
    if (files.length === 0) return;
    const start = Math.min(...files.map((f) => f.startedMs));
    const end = Math.max(...files.map((f) => f.endedMs));
    const sdks = files.flatMap((f) => f.sdks);
    const venv = environment.built
      ? `virtualenv built in ${environment.seconds.toFixed(1)}s`
      : "virtualenv from cache";
    log(
      `layer run time ${((end - start) / 1000).toFixed(1)}s for ${sdks.length} SDK runs in ${files.length} files (${venv})`,
    );
    for (const f of files.sort((a, b) => a.file.localeCompare(b.file))) {
      log(`  ${f.file}: ${((f.endedMs - f.startedMs) / 1000).toFixed(1)}s (${f.sdks.join(", ")})`);
    }
  };
}
