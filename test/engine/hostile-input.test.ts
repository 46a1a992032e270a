// Hostile input, property-based, against every vendor's simulator: a description made of JSON, XML,
// path, template or control characters reaches the appliance verbatim as that text and changes
// nothing else: not the other fields of the object, not the number of objects, not the request's
// structure.
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApplianceSession, type WriteInput } from "../../src/appliance/session.ts";
import { loadDictionaryFile } from "../../src/dictionary/loader.ts";
import { RESOURCE_KINDS, type ResourceKind } from "../../src/dictionary/rule-input.ts";
import { type SimulatorHandle, startSimulator, type VendorObject } from "../simulators/index.ts";
import { caseOf, VENDOR_CASES, type VendorRow } from "./vendors.ts";

const HOSTILE = [
  'x","type":"pass',
  '"},{"type":"pass","interface":["wan"]',
  '</entry><entry name="evil">',
  "]]><![CDATA[",
  "../../",
  "%2e%2e/%2e%2e/",
  "{{ 7*7 }}",
  "{% for x in range(9) %}{% endfor %}",
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the literal text is the hostile input.
  "${jndi:ldap://x}",
  "a&id=0&apply=true",
  "line\r\nX-Injected: 1",
  "tab\tand\\backslash",
  "'; DROP TABLE rules; --",
  "🔥 ünïcödé ✓",
  "[vnf:someone/else]",
];

const description = (row: VendorRow) =>
  fc
    .oneof(
      fc.constantFrom(...HOSTILE),
      fc.string({ unit: "grapheme", maxLength: 40 }),
      fc.string({ unit: "binary", maxLength: 30 }),
    )
    .filter(
      (d) =>
        (row.maxDescription === undefined || d.length <= row.maxDescription) &&
        (row.acceptsDescription?.(d) ?? true),
    );

function withoutVolatile(
  object: VendorObject | undefined,
  row: VendorRow,
  descriptionField: string,
): VendorObject {
  const out: VendorObject = { ...object };
  for (const field of [...row.volatileFields, descriptionField]) delete out[field];
  return out;
}

describe.each(VENDOR_CASES)("%s", (_label, row) => {
  let sim: SimulatorHandle;
  let session: ApplianceSession;
  const ruleNumbers = new Map<string, number>();
  /** The write input; dictionaries with `ruleNumbers` get one per marker, as the operator allocates. */
  function input(rule: Record<string, unknown>, marker: string): WriteInput {
    const range = session.dictionary.ruleNumbers;
    if (!range) return { rule, marker };
    let ruleNumber = ruleNumbers.get(marker);
    if (ruleNumber === undefined) {
      ruleNumber = range.min + ruleNumbers.size;
      ruleNumbers.set(marker, ruleNumber);
    }
    return { rule, marker, ruleNumber };
  }

  beforeAll(async () => {
    sim = await startSimulator(row.vendor, row.simulator as never);
    session = new ApplianceSession({
      dictionary: await loadDictionaryFile(row.dictionary),
      endpoint: sim.url,
      credentials: sim.credentials,
      tls: { caPem: sim.caPem },
      ...(row.parameters ? { parameters: row.parameters } : {}),
      // The dictionary's requests-per-second budget is for real appliances; the simulator is local.
      limits: { requestsPerSecond: 1000 },
    });
  });

  afterAll(async () => {
    await session.close();
    await sim.stop();
  });

  it.each(RESOURCE_KINDS)(
    "%s: any description round-trips verbatim and changes nothing else",
    async (kind: ResourceKind) => {
      const { stored: access, create: rule } = caseOf(row, kind);
      // The reference object: the same rule with a benign description.
      const reference = await session.create(kind, input({ ...rule, description: "benign" }, "ref/0"));
      const referenceStored = access.find(
        (await sim.control.objects(access.controlKind)).candidate,
        reference.vendorRef,
      );
      const descriptionField = Object.keys(referenceStored ?? {}).find(
        (k) => referenceStored?.[k] === "benign [vnf:ref/0]",
      );
      expect(descriptionField).toBeDefined();
      const benignRender = session.render(kind, "create", input({ ...rule, description: "benign" }, "h/1"));
      let run = 0;

      await fc.assert(
        fc.asyncProperty(description(row), async (text) => {
          run += 1;
          const marker = `h/${run}`;
          const spec = { ...rule, description: text };

          // The rendered request: same structure as the benign one, the text in exactly one leaf.
          const rendered = session.render(kind, "create", input(spec, marker));
          expect(rendered.requests.map((r) => [r.method, r.path, r.query])).toEqual(
            benignRender.requests.map((r) => [
              r.method,
              r.path,
              r.query.map(([k, v]) => [k, v.replace("[vnf:h/1]", `[vnf:${marker}]`)]),
            ]),
          );
          const last = rendered.requests.at(-1);
          const decode = row.decodeBody ?? ((t: string) => JSON.parse(t) as Record<string, unknown>);
          const body = decode(last?.body?.text ?? "{}");
          const benignBody = decode(benignRender.requests.at(-1)?.body?.text ?? "{}");
          expect(Object.keys(body).sort()).toEqual(Object.keys(benignBody).sort());
          expect(
            JSON.stringify(body).split(JSON.stringify(`${text} [vnf:${marker}]`).slice(1, -1)).length,
          ).toBeGreaterThan(1);

          const countBefore = (await sim.control.objects(access.controlKind)).candidate.length;
          const { vendorRef } = await session.create(kind, input(spec, marker));
          const objects = (await sim.control.objects(access.controlKind)).candidate;
          expect(objects).toHaveLength(countBefore + 1);
          const storedObject = access.find(objects, vendorRef);
          expect(access.description(storedObject ?? {})).toBe(`${text} [vnf:${marker}]`);
          expect(withoutVolatile(storedObject, row, descriptionField as string)).toEqual(
            withoutVolatile(referenceStored, row, descriptionField as string),
          );
          const readBack = await session.get(kind, vendorRef);
          expect(readBack?.normalized.description).toBe(text);
          expect(readBack?.marker).toBe(marker);
          await session.delete(kind, vendorRef);
          expect((await sim.control.objects(access.controlKind)).candidate).toHaveLength(countBefore);
        }),
        { numRuns: 25 },
      );
      await session.delete(kind, reference.vendorRef);
    },
  );
});
