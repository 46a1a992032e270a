// Each conformance test file records when it ran and which SDKs it drove; the layer's global set-up
// prints the total at the end of the run.
import { appendFile } from "node:fs/promises";
import { basename } from "node:path";
import { afterAll, beforeAll, inject } from "vitest";

export function recordLayerTiming(file: string, sdks: string[]): void {
  let startedMs = 0;
  beforeAll(() => {
    startedMs = Date.now();
  });
  afterAll(async () => {
    const line = JSON.stringify({ file: basename(file), startedMs, endedMs: Date.now(), sdks });
    await appendFile(inject("conformanceTimings"), `${line}\n`);
  });
}
