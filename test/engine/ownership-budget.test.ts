// The description budget, measured per vendor against the simulators (which enforce each vendor's
// documented field limit): the ownership field holds the description, a space and the marker token.
// For every built-in dictionary and rule kind:
//   - the measured capacity of the field equals the dictionary's declared `ownership.maxLength`;
//   - the CRD's description limit (200) plus the marker fits it;
//   - a description one character over the budget is refused before any request is sent, with a
//     message saying how long it may be.
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ApplianceSession, type WriteInput } from "../../src/appliance/session.ts";
import { ruleMarker } from "../../src/controllers/markers.ts";
import type { CompiledDictionary } from "../../src/dictionary/compiled.ts";
import { VnfError } from "../../src/dictionary/errors.ts";
import { loadDictionaryFile } from "../../src/dictionary/loader.ts";
import { markerToken, RESOURCE_KINDS, type ResourceKind } from "../../src/dictionary/rule-input.ts";
import { type SimulatorHandle, startSimulator } from "../simulators/index.ts";
import { caseOf, VENDORS } from "./vendors.ts";

// The engine checks rules against the CRD's schema, whose 200-character description limit would refuse
// the long descriptions that measure a field (up to 4096 here) before the appliance sees them. The
// measurement needs the appliance to decide: the description alone is checked with the limit lifted
// (everything else as the CRD says). Budgets bigger than 200 + the marker matter for custom
// dictionaries and CRD limits, whichever is smaller.
vi.mock("../../src/dictionary/rule-input.ts", async (importOriginal) => {
  const original = await importOriginal<typeof import("../../src/dictionary/rule-input.ts")>();
  return {
    ...original,
    canonicalRule: (kind: ResourceKind, spec: unknown) => {
      const { description, ...rest } = spec as { description?: string };
      const checked = original.canonicalRule(kind, {
        ...rest,
        ...(description === undefined ? {} : { description: description.slice(0, 200) }),
      });
      return description === undefined ? checked : { ...checked, description };
    },
  };
});

/** The CRD's spec.description maxLength (crds/*.yaml). */
const CRD_DESCRIPTION_LIMIT = 200;
const MARKER = ruleMarker({ installationId: "budget-test", deviceUid: "device" }, "rule-uid");
const TOKEN = markerToken(MARKER);

/** The same dictionary with no declared budget: what the appliance itself accepts decides. */
function withoutBudget(dictionary: CompiledDictionary): CompiledDictionary {
  const resources = Object.fromEntries(
    Object.entries(dictionary.resources).map(([kind, resource]) => {
      const { ownershipBudget: _budget, ...rest } = resource ?? {};
      return [kind, rest];
    }),
  );
  return { ...dictionary, resources } as CompiledDictionary;
}

const measured: string[] = [];

describe.each(VENDORS)("$vendor", (row) => {
  let sim: SimulatorHandle;
  let dictionary: CompiledDictionary;
  let bare: ApplianceSession;
  let budgeted: ApplianceSession;
  let nextNumber = 0;

  const input = (kind: ResourceKind, description: string): WriteInput => {
    const range = dictionary.ruleNumbers;
    const base = { rule: { ...caseOf(row, kind).create, description }, marker: MARKER };
    return range ? { ...base, ruleNumber: range.min + nextNumber++ } : base;
  };

  beforeAll(async () => {
    sim = await startSimulator(row.vendor, row.simulator as never);
    dictionary = await loadDictionaryFile(row.dictionary);
    const options = {
      endpoint: sim.url,
      credentials: sim.credentials,
      tls: { caPem: sim.caPem },
      ...(row.parameters ? { parameters: row.parameters } : {}),
      limits: { requestsPerSecond: 1000 },
    };
    bare = new ApplianceSession({ ...options, dictionary: withoutBudget(dictionary) });
    budgeted = new ApplianceSession({ ...options, dictionary });
  });

  afterAll(async () => {
    await bare.close();
    await budgeted.close();
    await sim.stop();
  });

  it.each(RESOURCE_KINDS)("%s: the declared budget is the field's measured capacity", async (kind) => {
    // Whether the appliance stores a description of this many ASCII characters (then removes it).
    const accepts = async (length: number): Promise<boolean> => {
      try {
        const { vendorRef } = await bare.create(kind, input(kind, "d".repeat(length)));
        await bare.delete(kind, vendorRef);
        return true;
      } catch (error) {
        if (error instanceof VnfError && error.code === "VNF_INVALID") return false;
        throw error;
      }
    };
    let low = 0; // accepted
    let high = 4096; // refused
    expect(await accepts(low)).toBe(true);
    expect(await accepts(high)).toBe(false);
    while (high - low > 1) {
      const middle = Math.floor((low + high) / 2);
      if (await accepts(middle)) low = middle;
      else high = middle;
    }
    const capacity = low + 1 + TOKEN.length;
    const budget = dictionary.resources[kind]?.ownershipBudget;
    measured.push(`${row.vendor} ${kind}: ${capacity} (${budget?.unit})`);
    expect(budget?.maxLength).toBe(capacity);
    expect(CRD_DESCRIPTION_LIMIT + 1 + TOKEN.length).toBeLessThanOrEqual(capacity);
  });

  it.each(RESOURCE_KINDS)(
    "%s: one character over the budget is refused before any request, saying how long it may be",
    async (kind) => {
      const budget = dictionary.resources[kind]?.ownershipBudget?.maxLength ?? 0;
      const room = budget - 1 - TOKEN.length;
      await sim.control.clearRequests();
      const error = await budgeted.create(kind, input(kind, "d".repeat(room + 1))).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(VnfError);
      expect((error as VnfError).code).toBe("BROKER_INVALID_REQUEST");
      expect((error as VnfError).message).toContain(`shorten spec.description to at most ${room}`);
      expect(await sim.control.requests()).toEqual([]);
      const { vendorRef } = await budgeted.create(kind, input(kind, "d".repeat(room)));
      await budgeted.delete(kind, vendorRef);
    },
  );
});

afterAll(() => {
  if (measured.length > 0) console.log(`ownership field capacity per vendor:\n  ${measured.join("\n  ")}`);
});
