// The scale benchmark (bench/scale.ts) at CI size: 200 rules over 2 FortiOS devices, its own control
// plane (so the API server's write counters are the benchmark's alone), the operator as a child
// process. A smoke run: every rule converges, restarts re-verify, delete-all completes and the table
// is produced. Nothing about time: speed and memory figures are read from the printed table, by hand.
import { describe, expect, it } from "vitest";
import { failed, formatTable, formatWriteDetails, runScale } from "../../bench/scale/run.ts";

describe("bench/scale.ts (smoke size)", () => {
  it("converges 200 rules on 2 devices, re-verifies after a restart, deletes them all, prints the table", async () => {
    const [outcome] = await runScale({
      scenarios: [{ rules: 200, devices: 2, latencyMs: 0, limits: "lifted", driftIntervalSeconds: 10 }],
      progress: () => {},
    });
    if (!outcome || failed(outcome))
      throw new Error(`the scenario failed: ${outcome?.error ?? "no outcome"}`);
    const table = formatTable([outcome]);
    console.log(`${table}\n${formatWriteDetails([outcome])}`);
    expect(outcome.converged).toBe(200);
    expect(outcome.reverified).toBe(true);
    expect(outcome.deleted).toBe(200);
    expect(outcome.boundCreateSeconds).toBeGreaterThan(0);
    expect(table).toContain("| rules Ready | 200/200 |");
    expect(table.split("\n").length).toBeGreaterThan(20);
  }, 900_000);
});
