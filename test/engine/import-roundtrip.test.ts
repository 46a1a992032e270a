// The reverse mapping (`resources.<kind>.import`, used by `vnf-operator import`) against every vendor's
// simulator, as a property: spec → the dictionary's create → the object the simulator stores → the
// bulk list → the reverse mapping → the same spec, up to the documented normalisation (CRD defaults
// applied on both sides, host prefixes, a dnat's unchanged port; fields the dictionary does not read
// back — pfSense port forwards have no `log` — come back as their CRD default and are not compared).
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApplianceSession, type WriteInput } from "../../src/appliance/session.ts";
import type { CompiledDictionary } from "../../src/dictionary/compiled.ts";
import { loadDictionaryFile } from "../../src/dictionary/loader.ts";
import { canonicalForCompare } from "../../src/dictionary/normalize.ts";
import { canonicalRule, type ResourceKind } from "../../src/dictionary/rule-input.ts";
import { type SimulatorHandle, startSimulator } from "../simulators/index.ts";
import { type KindCase, kindCases, VENDOR_CASES, type VendorRow } from "./vendors.ts";

/** Cases a dictionary's reverse mapping refuses on purpose, with the reason it must give. */
const NOT_IMPORTABLE: Record<string, RegExp> = {
  "pfsense natRule dnat": /no stable id/,
  "pfsense natRule snat": /no stable id/,
  "pfsense natRule 1to1": /no stable id/,
};

const RUNS = 12;

/** A description any vendor stores unchanged (words, digits, a few separators). */
const description = fc
  .array(fc.constantFrom(..."abcdefghijklmnopqrstuvwxyz0123456789 -_.".split("")), { maxLength: 40 })
  .map((chars) => chars.join("").trim());

function compared(kind: ResourceKind, spec: Record<string, unknown>, fields: readonly string[]) {
  const canonical = canonicalForCompare(kind, canonicalRule(kind, spec) as Record<string, unknown>);
  return Object.fromEntries(fields.map((field) => [field, canonical[field]]));
}

describe.each(VENDOR_CASES)(
  "%s: spec → appliance object → import → the same spec",
  (_label, row: VendorRow) => {
    let sim: SimulatorHandle;
    let dictionary: CompiledDictionary;
    let session: ApplianceSession;
    let markers = 0;

    function input(rule: Record<string, unknown>): WriteInput {
      markers += 1;
      const marker = `roundtrip-${markers}`;
      const range = dictionary.ruleNumbers;
      return range ? { rule, marker, ruleNumber: range.min + markers } : { rule, marker };
    }

    beforeAll(async () => {
      dictionary = await loadDictionaryFile(row.dictionary);
      sim = await startSimulator(row.vendor, row.simulator as never);
      session = new ApplianceSession({
        dictionary,
        endpoint: sim.url,
        credentials: sim.credentials,
        tls: { caPem: sim.caPem },
        ...(row.parameters ? { parameters: row.parameters } : {}),
        transportRetry: { attempts: 3, minDelayMs: 10, maxDelayMs: 40 },
        limits: { requestTimeoutMs: 5000, requestsPerSecond: 1000 },
      });
    });

    afterAll(async () => {
      await session?.close();
      await sim?.stop();
    });

    it("declares a reverse mapping for both kinds", () => {
      expect(dictionary.resources.firewallRule?.reverse).toBeDefined();
      expect(dictionary.resources.natRule?.reverse).toBeDefined();
    });

    describe.each(kindCases(row))("$label", (c: KindCase) => {
      const refusal = NOT_IMPORTABLE[`${row.vendor} ${c.label}`];
      const actions = Object.keys(dictionary?.valueMaps.action ?? { allow: 1, deny: 1 });

      it(refusal ? "is refused with its reason" : "round-trips", { timeout: 120_000 }, async () => {
        const spec = fc.record({
          base: fc.constantFrom(c.create, c.update),
          description,
          enabled: fc.boolean(),
          log: fc.boolean(),
          action: fc.constantFrom(...(actions.length > 0 ? actions : ["allow"])),
        });
        await fc.assert(
          fc.asyncProperty(spec, async ({ base, description, enabled, log, action }) => {
            const rule: Record<string, unknown> = { ...structuredClone(base), description, enabled };
            if (c.kind === "firewallRule") Object.assign(rule, { log, action });
            const { vendorRef } = await session.create(c.kind, input(rule));
            const listed = (await session.list(c.kind)).find((o) => o.vendorRef === vendorRef);
            expect(listed, `the bulk list holds ${vendorRef}`).toBeDefined();
            if (!listed) return;
            const reversed = session.reverse(c.kind, listed);
            if (refusal) {
              expect(reversed.ok).toBe(false);
              if (!reversed.ok) expect(reversed.reason).toMatch(refusal);
              return;
            }
            expect(reversed, JSON.stringify(reversed)).toMatchObject({ ok: true });
            if (!reversed.ok) return;
            // The documented normalisation: the fields the dictionary reads back, canonical on both sides.
            const fields = Object.keys(listed.normalized);
            expect(fields.length).toBeGreaterThan(2);
            expect(compared(c.kind, reversed.spec, fields)).toEqual(compared(c.kind, rule, fields));
            // And a field the appliance does not keep is left to its CRD default, not invented.
            for (const field of ["log", "enabled", "description"]) {
              if (!fields.includes(field)) expect(reversed.spec[field]).toBeUndefined();
            }
            // A manifest name can be derived from what the administrator wrote.
            if (description !== "") expect(reversed.nameHint).not.toBe("");
          }),
          { numRuns: RUNS, seed: Number(process.env.VNF_ROUNDTRIP_SEED ?? 19), endOnFailure: true },
        );
      });
    });
  },
);
