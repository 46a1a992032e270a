// The exactly-once promise, proven adversarially: seeded random sequences of create / edit spec /
// edit description / delete / operator crash at any call / status write 409 / activation failure /
// appliance 5xx / write committed with its answer lost, across the five vendors' simulators with the
// real dictionary engine and the real rule reconciler (the API server is an in-memory fake with a
// lagging cache, for speed). After each sequence and a quiet period: every rule has exactly one
// appliance object with its marker and current spec; no object with our marker lacks a rule; Ready
// is True only when that is true (also checked between reconciles). The seed is printed; replay a
// failure with VNF_MODEL_SEED (and VNF_MODEL_PATH from the report). More sequences: bench/.
import { expect, it } from "vitest";
import { runModel } from "./model/run-model.ts";

const seed = Number(process.env.VNF_MODEL_SEED ?? Math.floor(Math.random() * 0x7fffffff));
const runs = Number(process.env.VNF_MODEL_RUNS ?? 500);

it(`holds for ${runs} random sequences across the five vendors (seed ${seed})`, {
  timeout: 600_000,
}, async () => {
  const report = await runModel({
    seed,
    runs,
    ...(process.env.VNF_MODEL_PATH ? { path: process.env.VNF_MODEL_PATH } : {}),
  });
  console.log(
    `exactly-once model: seed ${seed}, ${report.runs} sequences, ${report.commands} commands, ` +
      `${report.reconciles} reconciles, ${report.crashes} crashes, ${report.conflicts} status-write conflicts; ` +
      `most appliance requests for one rule: ${JSON.stringify(report.maxRequestsPerRule)}`,
  );
  if (report.failure) console.error(`exactly-once model failed (seed ${seed}):\n${report.failure}`);
  expect(report.failure).toBeUndefined();
  expect(report.runs).toBe(runs);
});
