// Everything generated from the CRD YAML (types, the rules' input schema, shapes and fields, the
// chart's CRD copies); this fails when someone changed a CRD without regenerating, or edited an output.
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  type CrdFile,
  generatedFiles,
  OUTPUT_FILE,
  readCrds,
  renderCrdTypes,
  renderRuleSchema,
} from "../../../hack/gen-crd-types.ts";
import { canonicalRule } from "../../../src/dictionary/rule-input.ts";
import { RULE_FIELDS, RULE_SHAPES } from "../../../src/dictionary/rule-schema.generated.ts";

describe("generated files", () => {
  const files = [...generatedFiles()];
  it("cover the types, the rule schema and every chart CRD copy", () => {
    const names = files.map(([file]) => path.basename(file));
    expect(names).toEqual(
      expect.arrayContaining([
        "types.generated.ts",
        "rule-schema.generated.ts",
        "vnf-operator.io_vnfdevices.yaml",
        "vnf-operator.io_vnffirewallrules.yaml",
        "vnf-operator.io_vnfnatrules.yaml",
      ]),
    );
  });
  it.each(files.map(([file, text]) => [path.relative(process.cwd(), file), file, text]))(
    "%s is what hack/gen-crd-types generates from crds/*.yaml",
    (relative, file, fresh) => {
      const committed = readFileSync(file, "utf8");
      expect(committed === fresh, `${relative} is stale: run hack/gen-crd-types and commit the result`).toBe(
        true,
      );
    },
  );

  it("exports the friendly names the operator imports", () => {
    const text = readFileSync(OUTPUT_FILE, "utf8");
    for (const name of [
      "VnfDevice",
      "VnfDeviceSpec",
      "VnfDeviceStatus",
      "VnfFirewallRule",
      "VnfFirewallRuleSpec",
      "VnfFirewallRuleStatus",
      "VnfNatRule",
      "VnfNatRuleSpec",
      "VnfNatRuleStatus",
      "Condition",
      "ConditionStatus",
      "ErrorCode",
      "PendingOperation",
    ]) {
      expect(text).toMatch(new RegExp(`^export (interface|type) ${name}\\b`, "m"));
    }
  });
});

function crd(kind: string, spec: Record<string, unknown>, status?: Record<string, unknown>): CrdFile {
  return {
    file: `crds/${kind}.yaml`,
    kind,
    listKind: `${kind}List`,
    apiVersion: "example.io/v1",
    schema: {
      type: "object",
      required: ["spec"],
      properties: {
        metadata: { type: "object" },
        spec: { type: "object", description: "The spec.", ...spec },
        ...(status ? { status: { type: "object", ...status } } : {}),
      },
    },
  };
}

describe("renderCrdTypes", () => {
  const cases: { name: string; crds: CrdFile[]; contains: string[] }[] = [
    {
      name: "required and optional properties, scalars and enums",
      crds: [
        crd("Widget", {
          required: ["size"],
          properties: {
            size: { type: "integer", description: "How big." },
            ratio: { type: "number" },
            on: { type: "boolean", default: true },
            colour: { type: "string", enum: ["red", "blue"] },
          },
        }),
      ],
      contains: [
        "export interface Widget {",
        '  apiVersion: "example.io/v1";',
        "  spec: WidgetSpec;",
        "  /** How big. */\n  size: number;",
        "  ratio?: number;",
        "  /** @default true */\n  on?: boolean;",
        '  colour?: "red" | "blue";',
        "export interface WidgetList {",
        "  items: Widget[];",
      ],
    },
    {
      name: "nested objects, arrays of objects and string maps",
      crds: [
        crd("Widget", {
          properties: {
            part: { type: "object", properties: { name: { type: "string" } } },
            parts: { type: "array", items: { type: "object", properties: { id: { type: "string" } } } },
            labels: { type: "object", additionalProperties: { type: "string" } },
            tags: { type: "array", items: { type: "string" } },
          },
        }),
      ],
      contains: [
        "  part?: WidgetSpecPart;",
        "export interface WidgetSpecPart {\n  name?: string;\n}",
        "  parts?: WidgetSpecPartsItem[];",
        "  labels?: Record<string, string>;",
        "  tags?: string[];",
      ],
    },
    {
      name: "identical shapes become aliases; shared named nodes are declared once",
      crds: [
        crd(
          "Alpha",
          { properties: { deviceRef: { type: "object", properties: { name: { type: "string" } } } } },
          { properties: { errorCode: { type: "string", enum: ["E1", "E2"] } } },
        ),
        crd(
          "Beta",
          { properties: { deviceRef: { type: "object", properties: { name: { type: "string" } } } } },
          { properties: { errorCode: { type: "string", enum: ["E1", "E2"] } } },
        ),
      ],
      contains: [
        'export type ErrorCode = "E1" | "E2";',
        "export type BetaStatus = AlphaStatus;",
        "  deviceRef?: DeviceRef;",
      ],
    },
  ];
  it.each(cases)("$name", ({ crds, contains }) => {
    const text = renderCrdTypes(crds);
    for (const fragment of contains) expect(text).toContain(fragment);
  });

  it("declares a shared named node only once", () => {
    const ref = { type: "object", properties: { name: { type: "string" } } };
    const text = renderCrdTypes([
      crd("Alpha", { properties: { deviceRef: ref } }),
      crd("Beta", { properties: { deviceRef: ref, extra: { type: "string" } } }),
    ]);
    expect(text.match(/export interface DeviceRef\b/g)).toHaveLength(1);
  });

  it("refuses named nodes whose schemas differ between kinds", () => {
    expect(() =>
      renderCrdTypes([
        crd("Alpha", {}, { properties: { errorCode: { type: "string", enum: ["E1"] } } }),
        crd("Beta", {}, { properties: { errorCode: { type: "string", enum: ["E2"] } } }),
      ]),
    ).toThrow(/Beta status.errorCode: differs from the other "ErrorCode" schemas/);
  });

  it("refuses schema types it cannot translate", () => {
    expect(() => renderCrdTypes([crd("Alpha", { properties: { x: { type: "null" } } })])).toThrow(
      /Alpha spec.x: unsupported schema type null/,
    );
  });
});

describe("the rule schema generated from the CRDs", () => {
  it("has a shape and a field list for every rule kind, without the operator's own fields", () => {
    for (const kind of ["firewallRule", "natRule"] as const) {
      expect(Object.keys(RULE_SHAPES[kind])).toEqual(Object.keys(RULE_FIELDS[kind]));
      expect(Object.keys(RULE_FIELDS[kind])).not.toContain("deviceRef");
      expect(Object.keys(RULE_FIELDS[kind])).not.toContain("deletionPolicy");
    }
  });

  it.each([
    [
      "the CRD's defaults",
      { interface: "wan", action: "allow" },
      { direction: "in", protocol: "any", enabled: true, log: false, source: { cidr: "any" } },
    ],
    [
      "the CRD-only fields dropped",
      { deviceRef: { name: "d" }, deletionPolicy: "Orphan", interface: "wan", action: "deny" },
      { interface: "wan" },
    ],
  ])("canonicalises a firewall spec: %s", (_name, spec, expected) => {
    const rule = canonicalRule("firewallRule", spec) as Record<string, unknown>;
    expect(rule).toMatchObject(expected);
    expect(rule).not.toHaveProperty("deviceRef");
    expect(rule).not.toHaveProperty("deletionPolicy");
  });

  it.each([
    ["a value outside the enum", { interface: "wan", action: "permit" }, /action/],
    ["a pattern the CRD refuses", { interface: "wan", action: "allow", ruleId: "has space" }, /ruleId/],
    ["a length beyond the CRD's", { interface: "w".repeat(33), action: "allow" }, /interface/],
    ["a field the CRD does not have", { interface: "wan", action: "allow", colour: "red" }, /colour/],
    ["a bound beyond the CRD's", { interface: "wan", action: "allow", priority: 100000 }, /priority/],
    [
      "cidr and alias together",
      { interface: "wan", action: "allow", source: { cidr: "any", alias: "x" } },
      /source/,
    ],
  ])("refuses %s, naming the field", (_name, spec, field) => {
    expect(() => canonicalRule("firewallRule", spec)).toThrow(field);
  });

  it("renders the schema of an optional field added to a CRD", () => {
    const [crd] = readCrds().filter((c) => c.kind === "VnfFirewallRule");
    if (!crd?.schema.properties?.spec?.properties) throw new Error("no firewall CRD");
    const spec = crd.schema.properties.spec;
    const withTags: CrdFile = {
      ...crd,
      schema: {
        ...crd.schema,
        properties: {
          ...crd.schema.properties,
          spec: {
            ...spec,
            properties: {
              ...spec.properties,
              tags: { type: "array", maxItems: 8, items: { type: "string", maxLength: 32 } },
            },
          },
        },
      },
    };
    const text = renderRuleSchema([withTags]);
    expect(text).toContain("tags: z.array(z.string().max(32)).max(8).optional(),");
    expect(text).toContain('"tags":[]');
    expect(text).toContain('tags: "array"');
  });
});
