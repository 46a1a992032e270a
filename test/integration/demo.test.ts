// The README's first command, run as a user would (non-interactive): its own control plane, the
// simulators, the operator as a child process and the samples; every sample rule must become Ready.
import { spawn } from "node:child_process";
import path from "node:path";
import { expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "../..");

it("hack/demo --once brings every sample rule to Ready and prints the summary", async () => {
  const child = spawn(process.execPath, [path.join(root, "hack/demo.ts"), "--once", "--timeout", "120"], {
    cwd: root,
    env: { ...process.env, VNF_LOG_LEVEL: "warn" },
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
  expect(code, output).toBe(0);
  expect(output).toMatch(/DEVICE\s+VENDOR\s+VERSION\s+DEVICE READY\s+RULES READY\s+VENDORREFS/);
  // The summary table: the rows between its header and the next blank line.
  const lines = output.split("\n");
  const header = lines.findIndex((l) => l.startsWith("DEVICE "));
  const end = lines.findIndex((l, i) => i > header && l.trim() === "");
  const deviceLines = lines.slice(header + 1, end);
  expect(deviceLines.length).toBeGreaterThanOrEqual(2);
  for (const line of deviceLines) {
    const [ready, total] = (line.match(/\s(\d+)\/(\d+)\s/) ?? []).slice(1).map(Number);
    expect(total, line).toBeGreaterThan(0);
    expect(ready, line).toBe(total);
  }
  expect(output).not.toContain("Not Ready");
}, 240_000);
