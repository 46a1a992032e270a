// The support matrix (docs/support-matrix.md) is what the dictionaries and simulators really give:
// every probe run again here, against every vendor's simulator, and the page compared. A dictionary
// or simulator change that changes a cell fails this test until the page is regenerated
// (`node hack/gen-support-matrix.ts`), so the change shows in review.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { computeRow, MATRIX_PATH, type MatrixRow, REGENERATE, renderMatrix } from "./support-matrix.ts";
import { FEATURES } from "./support-probes.ts";
import { VENDOR_CASES, VENDORS } from "./vendors.ts";

describe("support matrix", () => {
  const rows: MatrixRow[] = [];

  it.each(VENDOR_CASES)(
    "%s: every probe ends in a cell (a refusal or a round trip, never an appliance error)",
    async (_vendor, row) => {
      const computed = await computeRow(row);
      expect(Object.keys(computed.cells)).toEqual(FEATURES.map((f) => f.id));
      // The basic promises hold on every vendor: allow and deny rules, adoption, and some NAT.
      for (const id of ["allow", "deny", "tcp", "udp", "adopt"])
        expect(computed.cells[id]?.status).toBe("yes");
      expect(["dnat", "snat", "1to1"].some((id) => computed.cells[id]?.status !== "no")).toBe(true);
      rows.push(computed);
    },
    120_000,
  );

  it(`${MATRIX_PATH} is up to date (else: ${REGENERATE})`, () => {
    expect(rows).toHaveLength(VENDORS.length);
    const committed = readFileSync(MATRIX_PATH, "utf8");
    expect(committed, `${MATRIX_PATH} is stale: run ${REGENERATE}`).toBe(renderMatrix(rows));
  });
});
