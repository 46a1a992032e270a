// Regenerates docs/support-matrix.md: every probe of test/engine/support-probes.ts run against every
// vendor's simulator (the rows of test/engine/vendors.ts). `--check` exits 1 when the committed page
// differs from what the dictionaries and simulators give today (test/engine/support-matrix.test.ts
// does the same in the test suite).
//   node hack/gen-support-matrix.ts [--check]
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { computeRow, MATRIX_PATH, REGENERATE, renderMatrix } from "../test/engine/support-matrix.ts";
import { VENDORS } from "../test/engine/vendors.ts";

const root = path.resolve(import.meta.dirname, "..");
const check = process.argv.includes("--check");
const started = Date.now();
const rows = [];
for (const row of VENDORS) {
  process.stderr.write(`probing ${row.vendor} (${row.dictionary}) ...\n`);
  rows.push(await computeRow(row));
}
const page = renderMatrix(rows);
const target = path.join(root, MATRIX_PATH);
if (check) {
  let current = "";
  try {
    current = readFileSync(target, "utf8");
  } catch {
    // missing: stale
  }
  if (current !== page) {
    process.stderr.write(`${MATRIX_PATH} is stale: run ${REGENERATE}\n`);
    process.exit(1);
  }
  process.stderr.write(`${MATRIX_PATH} is up to date (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
} else {
  writeFileSync(target, page);
  process.stderr.write(`wrote ${MATRIX_PATH} (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
}
