// Bodies, normalisations and maps are written as YAML structures whose leaf strings are templates.
// Rendering builds a JS value (never a text to be re-parsed), so a user value lands in exactly one
// leaf whatever characters it holds. Directives (keys starting with `$`):
//   {$if: "{{ cond }}", ...rest}   the map (or its `$value`) only when cond is truthy, else omitted
//   {$xml: "<a>{{ x }}</a>"}        a string whose outputs are XML-escaped
//   {$json: <structure>}            the JSON text of the rendered structure (e.g. a form field)
//   {$$key: ...}                    a literal key "$key"

import { type DocPath, LocatedError } from "./located.ts";
import {
  type CompiledTemplate,
  compileTemplate,
  type Escaping,
  OMIT,
  type RenderOptions,
  TemplateError,
} from "./templates.ts";

export type StructurePath = DocPath;

export type CompiledStructure =
  | { kind: "literal"; value: unknown }
  | { kind: "template"; template: CompiledTemplate }
  | { kind: "list"; items: CompiledStructure[] }
  | { kind: "map"; entries: [string, CompiledStructure][] }
  | { kind: "if"; condition: CompiledTemplate; value: CompiledStructure }
  | { kind: "json"; inner: CompiledStructure };

/** A template problem at a place inside a structure (the loader turns the path into a line). */
export class StructureError extends LocatedError {
  readonly templateError: TemplateError;
  constructor(path: StructurePath, cause: TemplateError) {
    super(path, cause.message);
    this.name = "StructureError";
    this.templateError = cause;
  }
}

function compileLeaf(source: string, escaping: Escaping, path: StructurePath): CompiledTemplate {
  try {
    return compileTemplate(source, escaping);
  } catch (error) {
    throw new StructureError(path, error instanceof TemplateError ? error : new TemplateError(String(error)));
  }
}

const DIRECTIVES = new Set(["$if", "$value", "$xml", "$json"]);

/** Compiles a structure; `escaping` applies to string leaves (e.g. "xml" for an XML body template). */
export function compileStructure(
  value: unknown,
  escaping: Escaping = "none",
  path: StructurePath = [],
): CompiledStructure {
  if (typeof value === "string") return { kind: "template", template: compileLeaf(value, escaping, path) };
  if (Array.isArray(value)) {
    return { kind: "list", items: value.map((item, i) => compileStructure(item, escaping, [...path, i])) };
  }
  if (value === null || typeof value !== "object") return { kind: "literal", value };

  const map = value as Record<string, unknown>;
  const keys = Object.keys(map);
  for (const key of keys) {
    if (key.startsWith("$") && !key.startsWith("$$") && !DIRECTIVES.has(key)) {
      throw new StructureError(
        [...path, key],
        new TemplateError(`unknown directive ${key} (known: ${[...DIRECTIVES].join(", ")})`),
      );
    }
  }
  if ("$xml" in map || "$json" in map) {
    const key = "$xml" in map ? "$xml" : "$json";
    if (keys.length !== 1) {
      throw new StructureError(path, new TemplateError(`${key} must be the only key of its map`));
    }
    if (key === "$xml") {
      if (typeof map.$xml !== "string")
        throw new StructureError([...path, key], new TemplateError("$xml takes a template string"));
      return { kind: "template", template: compileLeaf(map.$xml, "xml", [...path, key]) };
    }
    return { kind: "json", inner: compileStructure(map.$json, "none", [...path, key]) };
  }
  if ("$if" in map) {
    if (typeof map.$if !== "string")
      throw new StructureError([...path, "$if"], new TemplateError("$if takes a template string"));
    const condition = compileLeaf(map.$if, "none", [...path, "$if"]);
    const rest = Object.fromEntries(Object.entries(map).filter(([k]) => k !== "$if" && k !== "$value"));
    if ("$value" in map && Object.keys(rest).length > 0) {
      throw new StructureError(path, new TemplateError("$value cannot be combined with other keys"));
    }
    const inner =
      "$value" in map
        ? compileStructure(map.$value, escaping, [...path, "$value"])
        : compileStructure(rest, escaping, path);
    return { kind: "if", condition, value: inner };
  }
  if ("$value" in map)
    throw new StructureError([...path, "$value"], new TemplateError("$value is only allowed next to $if"));
  return {
    kind: "map",
    entries: keys.map((key) => [
      key.startsWith("$$") ? key.slice(1) : key,
      compileStructure(map[key], escaping, [...path, key]),
    ]),
  };
}

function truthy(value: unknown): boolean {
  if (Array.isArray(value)) return value.length > 0;
  return Boolean(value) && value !== OMIT;
}

/** Renders a structure; OMIT values remove their key or element. Errors carry the structure path. */
export function renderStructure(
  node: CompiledStructure,
  context: Record<string, unknown>,
  options?: RenderOptions,
  path: StructurePath = [],
): unknown {
  switch (node.kind) {
    case "literal":
      return node.value;
    case "template":
      try {
        const value = node.template.evaluate(context, options);
        return value === undefined && options?.allowUndefined ? OMIT : value;
      } catch (error) {
        throw error instanceof TemplateError ? new StructureError(path, error) : error;
      }
    case "list":
      return node.items
        .map((item, i) => renderStructure(item, context, options, [...path, i]))
        .filter((v) => v !== OMIT);
    case "map": {
      const out: Record<string, unknown> = {};
      for (const [key, child] of node.entries) {
        const v = renderStructure(child, context, options, [...path, key]);
        if (v !== OMIT) out[key] = v;
      }
      return out;
    }
    case "if": {
      let condition: unknown;
      try {
        condition = node.condition.evaluate(context, { ...options, allowUndefined: true });
      } catch (error) {
        throw error instanceof TemplateError ? new StructureError([...path, "$if"], error) : error;
      }
      return truthy(condition) ? renderStructure(node.value, context, options, path) : OMIT;
    }
    case "json": {
      const inner = renderStructure(node.inner, context, options, [...path, "$json"]);
      return inner === OMIT ? OMIT : JSON.stringify(inner);
    }
  }
}

/** Every template in a structure, with its path (for validation). */
export function* structureTemplates(
  node: CompiledStructure,
  path: StructurePath = [],
): Generator<[StructurePath, CompiledTemplate]> {
  switch (node.kind) {
    case "template":
      yield [path, node.template];
      return;
    case "list":
      for (const [i, item] of node.items.entries()) yield* structureTemplates(item, [...path, i]);
      return;
    case "map":
      for (const [key, child] of node.entries) yield* structureTemplates(child, [...path, key]);
      return;
    case "if":
      yield [[...path, "$if"], node.condition];
      yield* structureTemplates(node.value, path);
      return;
    case "json":
      yield* structureTemplates(node.inner, [...path, "$json"]);
      return;
    case "literal":
      return;
  }
}
