// Generates, from the CRD YAML in crds/ (the source of truth), everything that must not drift from
// what the API server validates:
//   - src/api/types.generated.ts: TypeScript interfaces with the schema descriptions as JSDoc;
//   - src/dictionary/rule-schema.generated.ts: the rules' input schema (zod: types, enums, patterns,
//     lengths, bounds, defaults) that the engine canonicalises a spec with, the rule shapes template
//     checks read against, and the field list of each rule kind (the shim lays request fields over a
//     spec with it);
//   - charts/vnf-operator/crds/: the chart's copies of the CRDs.
// It translates the subset of OpenAPI v3 the CRDs use (object, array, map, string, integer, number,
// boolean, enum). Cross-field rules (the CRDs' CEL) are not translated: the API server enforces them,
// and src/dictionary/rule-input.ts adds the few the engine relies on.
//
//   hack/gen-crd-types           rewrite the files
//   hack/gen-crd-types --check   exit 1 when a committed file is stale
// test/unit/api/types-generated.test.ts runs the same generator in memory.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";

export interface SchemaNode {
  type?: string;
  description?: string;
  properties?: Record<string, SchemaNode>;
  required?: string[];
  items?: SchemaNode;
  additionalProperties?: SchemaNode | boolean;
  enum?: unknown[];
  default?: unknown;
  format?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean;
  exclusiveMaximum?: boolean;
  minItems?: number;
  maxItems?: number;
  maxProperties?: number;
}

export interface CrdFile {
  /** Path relative to the repository root, for the header. */
  file: string;
  kind: string;
  listKind: string;
  apiVersion: string;
  schema: SchemaNode;
}

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const CRD_DIR = path.join(ROOT, "crds");
export const OUTPUT_FILE = path.join(ROOT, "src/api/types.generated.ts");
export const RULE_SCHEMA_FILE = path.join(ROOT, "src/dictionary/rule-schema.generated.ts");
export const CHART_CRD_DIR = path.join(ROOT, "charts/vnf-operator/crds");

/** The rule CRDs and the engine's name for each kind. */
const RULE_KINDS: Record<string, string> = { VnfFirewallRule: "firewallRule", VnfNatRule: "natRule" };
/** Spec fields that are the operator's business, not the appliance's: accepted, never templated. */
const CRD_ONLY_FIELDS = ["deviceRef", "deletionPolicy"];

/**
 * Friendly names (and their doc) for schema nodes shared by several kinds, keyed by their path below
 * the kind (`[]` = array items). Every occurrence must be structurally identical (descriptions of the
 * node itself aside), or generation fails.
 */
const NAMED_NODES: Record<string, { name: string; doc: string }> = {
  "status.conditions[]": {
    name: "Condition",
    doc: "One aspect of an object's state, in the shape of Kubernetes' metav1.Condition.",
  },
  "status.conditions[].status": { name: "ConditionStatus", doc: "The status of a Condition." },
  "status.errorCode": {
    name: "ErrorCode",
    doc: "The ten codes every appliance failure is reported as (the original broker's codes).",
  },
  "status.pendingOperation": {
    name: "PendingOperation",
    doc: "Write-ahead record of the appliance call in progress (the operation journal's intent).",
  },
  "status.pendingOperation.operation": { name: "PendingOperationKind", doc: "What a pending call does." },
  "status.drift": { name: "RuleDrift", doc: "The last difference found between the appliance and a rule." },
  "status.lastActivation": { name: "Activation", doc: "An activation (commit, apply) of staged changes." },
  "spec.deviceRef": { name: "DeviceRef", doc: "Names the VnfDevice (same namespace) a rule is applied to." },
  "spec.deletionPolicy": {
    name: "DeletionPolicy",
    doc: "What deleting a rule object does on the appliance.",
  },
};

/** The CRD files as committed: name → text (the chart's copies must be byte-identical). */
export function readCrdTexts(dir: string = CRD_DIR): Map<string, string> {
  return new Map(
    readdirSync(dir)
      .filter((name) => name.endsWith(".yaml"))
      .sort()
      .map((name) => [name, readFileSync(path.join(dir, name), "utf8")]),
  );
}

export function readCrds(dir: string = CRD_DIR): CrdFile[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith(".yaml"))
    .sort()
    .map((name) => crdFromYaml(`crds/${name}`, readFileSync(path.join(dir, name), "utf8")));
}

export function crdFromYaml(file: string, text: string): CrdFile {
  const doc = parse(text) as {
    kind?: string;
    spec?: {
      group?: string;
      names?: { kind?: string; listKind?: string };
      versions?: { name: string; storage?: boolean; schema?: { openAPIV3Schema?: SchemaNode } }[];
    };
  };
  const spec = doc.spec;
  const version = spec?.versions?.find((v) => v.storage) ?? spec?.versions?.[0];
  const schema = version?.schema?.openAPIV3Schema;
  const kind = spec?.names?.kind;
  if (doc.kind !== "CustomResourceDefinition" || !spec?.group || !version || !schema || !kind)
    throw new Error(`${file}: not a CustomResourceDefinition with a storage version schema`);
  return {
    file,
    kind,
    listKind: spec.names?.listKind ?? `${kind}List`,
    apiVersion: `${spec.group}/${version.name}`,
    schema,
  };
}

export function renderCrdTypes(crds: readonly CrdFile[]): string {
  const out = new Emitter();
  for (const crd of crds) out.resource(crd);
  const header = [
    "// Code generated by hack/gen-crd-types from the CRDs; DO NOT EDIT.",
    `// Sources: ${crds.map((c) => c.file).join(", ")}`,
    "// Change the YAML, then run hack/gen-crd-types (test/unit/api/types-generated.test.ts checks it).",
    // Objects are kept as the API server's JSON (timestamps stay RFC 3339 strings), so the metadata type
    // is the runtime's, not client-node's V1ObjectMeta (whose timestamps are Date objects).
    'import type { ObjectMeta } from "../runtime/resource.ts";',
    "",
  ];
  return `${[...header, ...out.declarations].join("\n")}\n`;
}

/** src/dictionary/rule-schema.generated.ts: the rule kinds' input schemas, shapes and fields. */
export function renderRuleSchema(crds: readonly CrdFile[]): string {
  const rules = crds.filter((crd) => RULE_KINDS[crd.kind] !== undefined);
  const lines = [
    "// Code generated by hack/gen-crd-types from the CRDs; DO NOT EDIT.",
    `// Sources: ${rules.map((c) => c.file).join(", ")}`,
    "// Change the YAML, then run hack/gen-crd-types (test/unit/api/types-generated.test.ts checks it).",
    'import { z } from "zod";',
    "",
    "/**",
    " * Each rule kind's spec as the CRD declares it: types, enums, patterns, lengths, bounds and defaults",
    " * (cross-field rules are the CRD's CEL, enforced by the API server). Fields that are the operator's",
    ` * business (${CRD_ONLY_FIELDS.join(", ")}) are accepted whatever they hold; they never reach a template.`,
    " */",
    "export const RULE_SPEC_SCHEMAS = {",
  ];
  for (const crd of rules) {
    const spec = crd.schema.properties?.spec;
    if (!spec) throw new Error(`${crd.file}: no spec schema`);
    lines.push(`  ${RULE_KINDS[crd.kind]}: ${zodOf(spec, `${crd.kind} spec`, 1, true)},`);
  }
  lines.push("} as const;", "");
  lines.push(
    "/**",
    " * Every key a rule of each kind can carry into a template (CRD-only fields excluded), with a sample",
    " * value of its type: template checks read against these shapes, so a template that names a field the",
    " * CRD lacks fails when the dictionary loads.",
    " */",
    "export const RULE_SHAPES = {",
  );
  for (const crd of rules) {
    const spec = crd.schema.properties?.spec as SchemaNode;
    lines.push(`  ${RULE_KINDS[crd.kind]}: ${JSON.stringify(shapeOf(spec, true))},`);
  }
  lines.push("} as const satisfies Record<string, Record<string, unknown>>;", "");
  lines.push(
    "/** Each rule kind's appliance fields (CRD-only fields excluded) and their JSON type. */",
    "export const RULE_FIELDS = {",
  );
  for (const crd of rules) {
    const spec = crd.schema.properties?.spec as SchemaNode;
    const fields = Object.entries(spec.properties ?? {})
      .filter(([key]) => !CRD_ONLY_FIELDS.includes(key))
      .map(([key, node]) => `${propertyKey(key)}: ${JSON.stringify(node.type ?? "string")}`);
    lines.push(`  ${RULE_KINDS[crd.kind]}: { ${fields.join(", ")} },`);
  }
  lines.push("} as const;", "");
  return `${lines.join("\n")}`;
}

/** The zod expression for a schema node (`top`: the spec itself, whose CRD-only fields are lenient). */
function zodOf(node: SchemaNode, where: string, depth: number, top = false): string {
  const indent = "  ".repeat(depth + 1);
  let out: string;
  if (node.enum) {
    out = `z.enum(${JSON.stringify(node.enum)})`;
  } else {
    switch (node.type) {
      case "string": {
        out = "z.string()";
        if (node.minLength !== undefined) out += `.min(${node.minLength})`;
        if (node.maxLength !== undefined) out += `.max(${node.maxLength})`;
        if (node.pattern !== undefined) out += `.regex(new RegExp(${JSON.stringify(node.pattern)}))`;
        break;
      }
      case "integer":
      case "number": {
        out = node.type === "integer" ? "z.number().int()" : "z.number()";
        if (node.minimum !== undefined)
          out += node.exclusiveMinimum ? `.gt(${node.minimum})` : `.min(${node.minimum})`;
        if (node.maximum !== undefined)
          out += node.exclusiveMaximum ? `.lt(${node.maximum})` : `.max(${node.maximum})`;
        break;
      }
      case "boolean":
        out = "z.boolean()";
        break;
      case "array": {
        if (!node.items) throw new Error(`${where}: array without items`);
        out = `z.array(${zodOf(node.items, `${where}[]`, depth)})`;
        if (node.minItems !== undefined) out += `.min(${node.minItems})`;
        if (node.maxItems !== undefined) out += `.max(${node.maxItems})`;
        break;
      }
      case "object": {
        if (node.properties) {
          const required = new Set(node.required ?? []);
          const fields = Object.entries(node.properties).map(([key, child]) => {
            if (top && CRD_ONLY_FIELDS.includes(key))
              return `${indent}${propertyKey(key)}: z.unknown().optional(),`;
            let field = zodOf(child, `${where}.${key}`, depth + 1);
            if (child.default !== undefined) field += `.default(${JSON.stringify(child.default)})`;
            else if (!required.has(key)) field += ".optional()";
            return `${indent}${propertyKey(key)}: ${field},`;
          });
          out = `z.strictObject({\n${fields.join("\n")}\n${"  ".repeat(depth)}})`;
        } else if (typeof node.additionalProperties === "object") {
          out = `z.record(z.string(), ${zodOf(node.additionalProperties, `${where}{}`, depth)})`;
          if (node.maxProperties !== undefined)
            out += `.refine((m) => Object.keys(m).length <= ${node.maxProperties}, "at most ${node.maxProperties} entries")`;
        } else {
          out = "z.record(z.string(), z.unknown())";
        }
        break;
      }
      default:
        throw new Error(`${where}: unsupported schema type ${String(node.type)}`);
    }
  }
  return out;
}

/** A sample value of every key of `node` (objects recursively; CRD-only fields left out at the top). */
function shapeOf(node: SchemaNode, top = false): unknown {
  if (node.enum) return typeof node.enum[0] === "string" ? "" : node.enum[0];
  switch (node.type) {
    case "object":
      if (!node.properties) return {};
      return Object.fromEntries(
        Object.entries(node.properties)
          .filter(([key]) => !(top && CRD_ONLY_FIELDS.includes(key)))
          .map(([key, child]) => [key, shapeOf(child)]),
      );
    case "array":
      return [];
    case "boolean":
      return true;
    case "integer":
    case "number":
      return 0;
    default:
      return "";
  }
}

class Emitter {
  readonly declarations: string[] = [];
  /** name -> canonical schema JSON, for named or deduplicated declarations. */
  private readonly byName = new Map<string, string>();
  /** canonical schema JSON -> first name declared for it. */
  private readonly byShape = new Map<string, string>();

  resource(crd: CrdFile): void {
    const props = crd.schema.properties ?? {};
    const lines = [...jsDoc(crd.schema.description, ""), `export interface ${crd.kind} {`];
    lines.push(`  apiVersion: "${crd.apiVersion}";`, `  kind: "${crd.kind}";`, "  metadata: ObjectMeta;");
    const slot = this.reserve();
    for (const key of ["spec", "status"] as const) {
      const node = props[key];
      if (!node) continue;
      const optional = !(crd.schema.required ?? []).includes(key);
      const typeName = this.declareNode(node, `${crd.kind}${pascal(key)}`, key, crd.kind);
      lines.push(...jsDoc(node.description, "  "), `  ${key}${optional ? "?" : ""}: ${typeName};`);
    }
    lines.push("}", "");
    this.declarations[slot] = lines.join("\n");
    this.declarations.push(
      [
        `/** A list of ${crd.kind} objects, as the API server returns it. */`,
        `export interface ${crd.listKind} {`,
        `  apiVersion: "${crd.apiVersion}";`,
        `  kind: "${crd.listKind}";`,
        "  metadata: { resourceVersion?: string; continue?: string; remainingItemCount?: number };",
        `  items: ${crd.kind}[];`,
        "}",
        "",
      ].join("\n"),
    );
  }

  private reserve(): number {
    this.declarations.push("");
    return this.declarations.length - 1;
  }

  /** Declares `node` under `name` (or reuses an identical declaration) and returns the type name. */
  private declareNode(node: SchemaNode, suggested: string, nodePath: string, kind: string): string {
    const named = NAMED_NODES[nodePath];
    const name = named?.name ?? suggested;
    const doc = named?.doc ?? node.description;
    const shape = canonical(node);
    const existing = this.byName.get(name);
    if (existing !== undefined) {
      if (existing !== shape)
        throw new Error(`${kind} ${nodePath}: differs from the other "${name}" schemas`);
      return name;
    }
    this.byName.set(name, shape);
    const twin = this.byShape.get(shape);
    if (twin !== undefined && named === undefined) {
      this.declarations.push(`${jsDoc(doc, "").join("\n")}\nexport type ${name} = ${twin};\n`);
      return name;
    }
    this.byShape.set(shape, name);
    if (node.enum) {
      this.declarations.push(
        `${jsDoc(doc, "").join("\n")}\nexport type ${name} = ${enumUnion(node.enum)};\n`,
      );
      return name;
    }
    const slot = this.reserve();
    const lines = [...jsDoc(doc, ""), `export interface ${name} {`];
    const required = new Set(node.required ?? []);
    for (const [key, child] of Object.entries(node.properties ?? {})) {
      const type = this.typeOf(child, `${name}${pascal(key)}`, `${nodePath}.${key}`, kind);
      lines.push(...propertyDoc(child), `  ${propertyKey(key)}${required.has(key) ? "" : "?"}: ${type};`);
    }
    lines.push("}", "");
    this.declarations[slot] = lines.join("\n");
    return name;
  }

  private typeOf(node: SchemaNode, suggested: string, nodePath: string, kind: string): string {
    if (NAMED_NODES[nodePath] !== undefined) return this.declareNode(node, suggested, nodePath, kind);
    if (node.enum) return enumUnion(node.enum);
    switch (node.type) {
      case "string":
        return "string";
      case "integer":
      case "number":
        return "number";
      case "boolean":
        return "boolean";
      case "array": {
        if (!node.items) throw new Error(`${kind} ${nodePath}: array without items`);
        const item = this.typeOf(node.items, `${suggested}Item`, `${nodePath}[]`, kind);
        return /^[A-Za-z0-9_]+$/.test(item) ? `${item}[]` : `(${item})[]`;
      }
      case "object": {
        if (node.properties) return this.declareNode(node, suggested, nodePath, kind);
        const extra = node.additionalProperties;
        if (typeof extra === "object") {
          return `Record<string, ${this.typeOf(extra, `${suggested}Value`, `${nodePath}{}`, kind)}>`;
        }
        return "Record<string, unknown>";
      }
      default:
        throw new Error(`${kind} ${nodePath}: unsupported schema type ${String(node.type)}`);
    }
  }
}

/** The schema without its own description (so fields documented differently can share a type). */
function canonical(node: SchemaNode): string {
  const { description: _description, ...rest } = node;
  return JSON.stringify(rest, sortedKeys);
}

function sortedKeys(_key: string, value: unknown): unknown {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return value;
  return Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function enumUnion(values: readonly unknown[]): string {
  return values.map((v) => JSON.stringify(v)).join(" | ");
}

function pascal(key: string): string {
  return key
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((part) => part[0]!.toUpperCase() + part.slice(1))
    .join("");
}

function propertyKey(key: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key) ? key : JSON.stringify(key);
}

function propertyDoc(node: SchemaNode): string[] {
  const extra: string[] = [];
  if (node.format === "date-time") extra.push("RFC 3339 date-time.");
  if (node.default !== undefined) extra.push(`@default ${JSON.stringify(node.default)}`);
  return jsDoc(node.description, "  ", extra);
}

function jsDoc(description: string | undefined, indent: string, extra: readonly string[] = []): string[] {
  const paragraphs = [...(description ? [description] : []), ...extra];
  if (paragraphs.length === 0) return [];
  const lines: string[] = [];
  for (const paragraph of paragraphs) lines.push(...wrap(paragraph.replaceAll("*/", "*\\/"), 100));
  if (lines.length === 1) return [`${indent}/** ${lines[0]} */`];
  return [`${indent}/**`, ...lines.map((l) => `${indent} * ${l}`), `${indent} */`];
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(line);
  return lines;
}

/** Every generated file, as it should be: path → text. */
export function generatedFiles(): Map<string, string> {
  const crds = readCrds();
  const files = new Map<string, string>([
    [OUTPUT_FILE, renderCrdTypes(crds)],
    [RULE_SCHEMA_FILE, renderRuleSchema(crds)],
  ]);
  for (const [name, text] of readCrdTexts()) files.set(path.join(CHART_CRD_DIR, name), text);
  return files;
}

function main(args: readonly string[]): number {
  let stale = 0;
  for (const [file, generated] of generatedFiles()) {
    const relative = path.relative(ROOT, file);
    let current: string | undefined;
    try {
      current = readFileSync(file, "utf8");
    } catch {
      current = undefined;
    }
    if (args.includes("--check")) {
      if (current !== generated) {
        process.stderr.write(`${relative} is stale: run hack/gen-crd-types and commit the result\n`);
        stale++;
      }
      continue;
    }
    if (current !== generated) writeFileSync(file, generated);
    process.stderr.write(`${relative} ${current === generated ? "already up to date" : "written"}\n`);
  }
  return stale === 0 ? 0 : 1;
}

if (import.meta.main) process.exitCode = main(process.argv.slice(2));
