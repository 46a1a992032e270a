// The TypeScript types are generated from the CRD YAML; this fails when someone changed one without
// regenerating the other.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { type CrdFile, OUTPUT_FILE, readCrds, renderCrdTypes } from "../../../hack/gen-crd-types.ts";

describe("src/api/types.generated.ts", () => {
  it("is what hack/gen-crd-types generates from crds/*.yaml", () => {
    const committed = readFileSync(OUTPUT_FILE, "utf8");
    const fresh = renderCrdTypes(readCrds());
    expect(
      committed === fresh,
      "src/api/types.generated.ts is stale: run hack/gen-crd-types and commit the result",
    ).toBe(true);
  });

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
