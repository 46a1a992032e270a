// The logger of every operator the tests start: ALL levels (trace) go to a file in the run's scan
// directory, which the secrets scan (test/scan/secrets.test.ts) reads after the whole suite; VNF_TEST_LOG_LEVEL
// additionally echoes to stderr for a human. Also the operator's /metrics text at its stop.
import { writeFileSync } from "node:fs";
import path from "node:path";
import { pino } from "pino";
import { inject } from "vitest";
import { createLogger, type Logger } from "../../src/runtime/logging.ts";

let counter = 0;

/** The run's scan directory (undefined outside a vitest project that provides it). */
export function scanDir(): string | undefined {
  try {
    return inject("scanDir") || undefined;
  } catch {
    return undefined;
  }
}

/** A unique file in the scan directory, e.g. operator-1234-3.log. */
export function scanFile(kind: string, extension: string): string | undefined {
  const dir = scanDir();
  return dir ? path.join(dir, `${kind}-${process.pid}-${++counter}.${extension}`) : undefined;
}

/** A logger writing every level to `file` (when given) and VNF_TEST_LOG_LEVEL to `echo`. */
export function fileLogger(file: string | undefined, echo: NodeJS.WritableStream = process.stderr): Logger {
  const streams: pino.StreamEntry[] = [];
  // Synchronous: a worker that ends right after a test must not lose the last lines.
  if (file) streams.push({ level: "trace", stream: pino.destination({ dest: file, sync: true }) });
  const level = process.env.VNF_TEST_LOG_LEVEL;
  if (level && level !== "silent") streams.push({ level: level as pino.Level, stream: echo });
  if (streams.length === 0) return createLogger({ level: "silent" });
  return createLogger({ level: "trace", destination: pino.multistream(streams) });
}

/** The logger for an in-process test operator. */
export function testLogger(kind = "operator"): Logger {
  return fileLogger(scanFile(kind, "log"));
}

/** Writes a process's captured log output (a child's stdout, a pod's logs) to the scan directory. */
export function recordLog(kind: string, text: string): void {
  const file = scanFile(kind, "log");
  if (file) writeFileSync(file, text);
}

/** Writes an operator's /metrics text (the registry /metrics serves) to the scan directory. */
export function recordMetrics(text: string): void {
  const file = scanFile("metrics", "prom");
  if (file) writeFileSync(file, text);
}
