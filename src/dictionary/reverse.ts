// The reverse mapping (`resources.<kind>.import`): a vendor object an administrator made → the spec of
// a rule manifest that describes it, or the reason it cannot be described. It builds on `normalize`
// (vendor object → canonical fields, which the drift check already relies on) and adds what import
// alone needs: the text a manifest name is derived from, the vendor constructs no rule can express
// (each with a reason a human can act on), and spec fields normalize does not read back. The result
// must be a valid rule of the kind (the CRD's own schema decides), so a vendor value a value map
// lacks, or a field the appliance left empty, is reported, never written into a manifest.
import type { ZodError } from "zod";
import { type DocPath, LocatedError } from "./located.ts";
import type { ApplianceObject } from "./normalize.ts";
import { canonicalRule, type ResourceKind } from "./rule-input.ts";
import { RULE_SHAPES } from "./rule-schema.generated.ts";
import { type CompiledStructure, compileStructure, renderStructure, StructureError } from "./structure.ts";
import { type CompiledTemplate, compileTemplate, OMIT } from "./templates.ts";

/** The YAML form (schema.ts checks its shape). */
export interface ImportSpec {
  name?: string | undefined;
  unsupported?: { when: string; reason: string }[] | undefined;
  spec?: Record<string, unknown> | undefined;
}

export interface CompiledImport {
  /** Renders the text a manifest name is derived from (default: the description). */
  readonly name?: CompiledTemplate;
  readonly unsupported: readonly { when: CompiledTemplate; reason: CompiledTemplate }[];
  /** Spec fields beyond `normalize`, merged over it. */
  readonly spec?: CompiledStructure;
}

/** The fields a reverse mapping must yield (the CRD's required spec fields besides deviceRef). */
export const REQUIRED_FIELDS: Readonly<Record<ResourceKind, readonly string[]>> = {
  firewallRule: ["interface", "action"],
  natRule: ["type", "interface"],
};

/** Spec fields the import command sets itself (not read from the appliance). */
const SET_BY_IMPORT = new Set(["priority", "ruleId"]);

export interface CompiledReverse {
  compiled: CompiledImport;
  /** Templates to check against the item scope: [path, template, isCondition]. */
  templates: [DocPath, CompiledTemplate, boolean][];
  problems: LocatedError[];
}

function templateAt(path: DocPath, source: string): CompiledTemplate {
  try {
    return compileTemplate(source);
  } catch (error) {
    throw new LocatedError(path, `template error: ${(error as Error).message}`);
  }
}

/**
 * Compiles `import` and checks it statically: together with `normalize` it must yield the kind's
 * required fields, and it may only name spec fields (a misspelt field would be dropped by the CRD).
 */
export function compileReverse(
  kind: ResourceKind,
  spec: ImportSpec,
  normalizeKeys: readonly string[],
  path: DocPath,
): CompiledReverse {
  const problems: LocatedError[] = [];
  const templates: [DocPath, CompiledTemplate, boolean][] = [];
  const at = <T>(fn: () => T): T | undefined => {
    try {
      return fn();
    } catch (error) {
      if (error instanceof LocatedError) problems.push(error);
      else throw error;
      return undefined;
    }
  };
  const name = spec.name === undefined ? undefined : at(() => templateAt([...path, "name"], spec.name ?? ""));
  if (name) templates.push([[...path, "name"], name, true]);
  const unsupported: { when: CompiledTemplate; reason: CompiledTemplate }[] = [];
  for (const [i, entry] of (spec.unsupported ?? []).entries()) {
    const when = at(() => templateAt([...path, "unsupported", i, "when"], entry.when));
    const reason = at(() => templateAt([...path, "unsupported", i, "reason"], entry.reason));
    if (when) templates.push([[...path, "unsupported", i, "when"], when, true]);
    if (reason) templates.push([[...path, "unsupported", i, "reason"], reason, true]);
    if (when && reason) unsupported.push({ when, reason });
  }
  let structure: CompiledStructure | undefined;
  if (spec.spec !== undefined) {
    structure = at(() => {
      try {
        return compileStructure(spec.spec, "none", [...path, "spec"]);
      } catch (error) {
        if (error instanceof StructureError)
          throw new LocatedError(error.path, `template error: ${error.message}`);
        throw error;
      }
    });
  }
  if (structure?.kind === "map") {
    for (const [key, child] of structure.entries) {
      if (child.kind === "template") templates.push([[...path, "spec", key], child.template, true]);
    }
  }
  const shape = RULE_SHAPES[kind];
  const specKeys = structure?.kind === "map" ? structure.entries.map(([key]) => key) : [];
  for (const key of specKeys) {
    if (!(key in shape))
      problems.push(new LocatedError([...path, "spec", key], `${key} is not a field of a ${kind} spec`));
  }
  const yielded = new Set([...normalizeKeys, ...specKeys]);
  const missing = REQUIRED_FIELDS[kind].filter((field) => !yielded.has(field));
  if (missing.length > 0) {
    problems.push(
      new LocatedError(
        path,
        `the reverse mapping (normalize and import.spec) yields no ${missing.join(", ")}: every imported rule would be invalid`,
      ),
    );
  }
  for (const key of normalizeKeys) {
    if (!(key in shape) || SET_BY_IMPORT.has(key))
      problems.push(
        new LocatedError(
          [...path.slice(0, -1), "normalize", key],
          `${key} is not a spec field import can set`,
        ),
      );
  }
  const compiled: CompiledImport = {
    ...(name ? { name } : {}),
    unsupported,
    ...(structure ? { spec: structure } : {}),
  };
  return { compiled, templates, problems };
}

/** What the reverse mapping made of one vendor object. */
export type Reversed =
  | { ok: true; spec: Record<string, unknown>; nameHint: string }
  | { ok: false; reason: string; nameHint: string };

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = out[key];
    out[key] = isPlainObject(current) && isPlainObject(value) ? deepMerge(current, value) : value;
  }
  return out;
}

function zodReason(error: ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length > 0 ? issue.path.join(".") : "spec"}: ${issue.message}`)
    .join("; ");
}

/** A spec without the fields equal to the CRD's defaults (what a human would write). */
function withoutDefaults(kind: ResourceKind, spec: Record<string, unknown>): Record<string, unknown> {
  const out = structuredClone(spec);
  if (out.enabled === true) delete out.enabled;
  if (out.log === false) delete out.log;
  if (out.description === "") delete out.description;
  if (out.protocol === "any") delete out.protocol;
  if (kind === "firewallRule" && out.direction === "in") delete out.direction;
  for (const side of ["source", "destination", "translated"]) {
    const endpoint = out[side];
    if (!isPlainObject(endpoint)) continue;
    if (endpoint.cidr === "any" && endpoint.port === undefined && Object.keys(endpoint).length === 1) {
      delete out[side];
    }
    if (Object.keys(endpoint).length === 0) delete out[side];
  }
  return out;
}

/**
 * The reverse mapping of one listed object: its spec (CRD defaults left out), or why it cannot be a
 * rule. `context` carries `device` (parameters) and the value maps, as for normalize.
 */
export function reverseObject(
  kind: ResourceKind,
  reverse: CompiledImport,
  object: ApplianceObject,
  context: Record<string, unknown>,
): Reversed {
  const scope = { ...context, item: object.raw, vendorRef: object.vendorRef };
  const nameHint = renderNameHint(reverse, object, scope);
  const normalizeError = object.normalized.$error;
  if (normalizeError !== undefined) {
    return { ok: false, reason: `the dictionary cannot read it back: ${String(normalizeError)}`, nameHint };
  }
  try {
    for (const [i, entry] of reverse.unsupported.entries()) {
      let reason: string | undefined;
      try {
        const holds = entry.when.evaluate(scope, { allowUndefined: true });
        if (holds && holds !== OMIT) reason = entry.reason.render(scope, { allowUndefined: true });
      } catch (error) {
        reason = `an object of a shape the dictionary does not know (import.unsupported[${i}]: ${error instanceof Error ? error.message : String(error)})`;
      }
      if (reason !== undefined) return { ok: false, reason, nameHint };
    }
    let spec: Record<string, unknown> = structuredClone(object.normalized);
    if (reverse.spec) {
      const extra = renderStructure(reverse.spec, scope, { allowUndefined: true });
      if (isPlainObject(extra)) spec = deepMerge(spec, extra);
    }
    const parsed = canonicalRule(kind, spec);
    return { ok: true, spec: withoutDefaults(kind, parsed as Record<string, unknown>), nameHint };
  } catch (error) {
    if (isZodError(error)) return { ok: false, reason: `not a valid ${kind}: ${zodReason(error)}`, nameHint };
    return { ok: false, reason: error instanceof Error ? error.message : String(error), nameHint };
  }
}

function isZodError(error: unknown): error is ZodError {
  return error instanceof Error && error.name === "ZodError" && "issues" in error;
}

function renderNameHint(
  reverse: CompiledImport,
  object: ApplianceObject,
  scope: Record<string, unknown>,
): string {
  try {
    const value = reverse.name?.evaluate(scope, { allowUndefined: true });
    if (typeof value === "string" && value.trim() !== "") return value;
    if (typeof value === "number") return String(value);
  } catch {
    // A name that cannot render falls back like one that is empty.
  }
  const description = object.normalized.description;
  return typeof description === "string" && description.trim() !== "" ? description : "";
}
