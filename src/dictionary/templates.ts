// Nunjucks templates with escaping decided by WHERE the output lands, not by the dictionary author
// remembering a filter. Each template is parsed to an AST and every `{{ }}` output is wrapped in an
// escaping filter for its target (percent-encoding in paths, XML escaping in XML). A template that is
// exactly one `{{ expression }}` is evaluated "natively": its value keeps its type (number, boolean,
// null, list, object), so JSON bodies are built as structures and a value can never break out of a
// JSON string. User values are data, never template source: they are rendered once, never re-parsed.
import { createHash } from "node:crypto";
import { isIP } from "node:net";
import nunjucks from "nunjucks";
import { TemplateRefusal } from "./errors.ts";
import { markerToken, readMarkers, stripMarkers } from "./rule-input.ts";

export type Escaping = "none" | "url" | "xml";

/** Removes the key (or list element) it is the whole value of. */
export const OMIT: unique symbol = Symbol("omit");

/** Stands for a value only known at run time (a previous step's output) in an offline render. */
export class Placeholder {
  readonly label: string;
  constructor(label: string) {
    this.label = label;
  }
  toString(): string {
    return `{${this.label}}`;
  }
  toJSON(): string {
    return this.toString();
  }
}

/** A template refers to a variable that does not exist in its context (caught when a dictionary loads). */
export class UnknownVariableError extends Error {
  constructor(name: string) {
    super(`unknown variable ${name}`);
    this.name = "UnknownVariable";
  }
}

export class TemplateError extends Error {
  /** Line/column inside the template source (1-based), when Nunjucks knows them. */
  readonly templateLine?: number;
  readonly refusal: boolean;
  readonly unknownVariable: boolean;
  constructor(
    message: string,
    options: { templateLine?: number; refusal?: boolean; unknownVariable?: boolean } = {},
  ) {
    super(message);
    this.name = "TemplateError";
    if (options.templateLine !== undefined) this.templateLine = options.templateLine;
    this.refusal = options.refusal ?? false;
    this.unknownVariable = options.unknownVariable ?? false;
  }
}

// Errors thrown from our filters and proxies, remembered because Nunjucks re-wraps them as text.
// Rendering is synchronous, so one slot is enough.
let lastCause: Error | undefined;
function raise(error: Error): never {
  lastCause = error;
  throw error;
}

// CR, LF and TAB travel as character references: XML parsers turn a literal CR (or CR LF) in text
// into LF, and each of them in an attribute value into a space, so only a reference round-trips.
const XML_ENTITIES: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&apos;",
  "\r": "&#13;",
  "\n": "&#10;",
  "\t": "&#9;",
};

// Characters XML 1.0 cannot represent even as references: refused rather than silently dropped.
function xmlForbidden(text: string): boolean {
  for (const ch of text) {
    const c = ch.codePointAt(0) ?? 0;
    if (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return true;
    // Lone surrogates iterate as themselves; paired ones as one astral code point.
    if ((c >= 0xd800 && c <= 0xdfff) || c === 0xfffe || c === 0xffff) return true;
  }
  return false;
}

/** Escapes text for an XML element body or attribute value (either quote style). */
export function escapeXml(value: string): string {
  return value.replace(/[&<>"'\r\n\t]/g, (c) => XML_ENTITIES[c] ?? c);
}

/** An XPath 1.0 string literal for any text (XPath has no escapes inside literals: concat() quotes). */
export function xpathLiteral(value: string): string {
  if (!value.includes("'")) return `'${value}'`;
  if (!value.includes('"')) return `"${value}"`;
  return `concat(${value
    .split("'")
    .map((part) => `'${part}'`)
    .join(`, "'", `)})`;
}

function stringOf(value: unknown, where: string): string {
  if (value === undefined || value === null)
    raise(new Error(`attempted to output ${value === null ? "a null" : "an undefined"} value (${where})`));
  if (value === OMIT)
    raise(new Error(`omit can only be the whole value of a key or list element (${where})`));
  if (typeof value === "object" && !(value instanceof Placeholder) && typeof value.toString !== "function") {
    return JSON.stringify(value);
  }
  return String(value);
}

type ValueMaps = Readonly<Record<string, Readonly<Record<string, unknown>>>>;
interface FilterThis {
  ctx: Record<string, unknown>;
}

function valueMapsOf(self: FilterThis, key: "__valueMaps" | "__reverseValueMaps"): ValueMaps {
  return (self.ctx[key] as ValueMaps | undefined) ?? {};
}

function registerFilters(env: nunjucks.Environment): void {
  const escapers: Record<Exclude<Escaping, "none">, (s: string) => string> = {
    url: encodeURIComponent,
    xml: (s) => {
      if (xmlForbidden(s)) raise(new TemplateRefusal("the value contains a character XML cannot carry"));
      return escapeXml(s);
    },
  };
  for (const [name, escapeFn] of Object.entries(escapers)) {
    env.addFilter(`__esc_${name}`, (value: unknown) =>
      value instanceof Placeholder ? value.toString() : escapeFn(stringOf(value, `${name} output`)),
    );
  }
  env.addFilter("__esc_none", (value: unknown) => stringOf(value, "output"));
  env.addFilter("__capture", function (this: FilterThis, value: unknown) {
    const capture = this.ctx.__capture as { value: unknown; allowUndefined: boolean };
    if (value === undefined && !capture.allowUndefined)
      raise(new Error("attempted to output an undefined value"));
    capture.value = value;
    return "";
  });
  env.addFilter("mapValue", function (this: FilterThis, value: unknown, mapName: string) {
    const map = valueMapsOf(this, "__valueMaps")[mapName];
    if (!map) raise(new Error(`no value map named ${mapName}`));
    const key = String(value);
    if (!Object.hasOwn(map, key)) {
      raise(
        new TemplateRefusal(
          `value ${JSON.stringify(key)} is not supported by this dictionary (valueMaps.${mapName})`,
        ),
      );
    }
    return map[key];
  });
  env.addFilter("unmapValue", function (this: FilterThis, value: unknown, mapName: string) {
    const reverse = valueMapsOf(this, "__reverseValueMaps")[mapName];
    if (!reverse) raise(new Error(`no value map named ${mapName}`));
    const key = value === null ? "null" : String(value);
    // An unknown vendor value is kept as is, so drift shows what the appliance really has.
    return Object.hasOwn(reverse, key) ? reverse[key] : value;
  });
  env.addFilter("stripMarker", (value: unknown) => stripMarkers(value));
  env.addFilter("markerToken", (value: unknown) => markerToken(stringOf(value, "markerToken")));
  env.addFilter("isCidr", (value: unknown) => typeof value === "string" && isCidrOrAny(value));
  env.addFilter("markerOf", (value: unknown) => readMarkers(value)[0]);
  env.addFilter("b64", (value: unknown) => Buffer.from(stringOf(value, "b64"), "utf8").toString("base64"));
  env.addFilter("url", (value: unknown) => encodeURIComponent(stringOf(value, "url")));
  env.addFilter("xml", (value: unknown) => escapeXml(stringOf(value, "xml")));
  env.addFilter("xpathLiteral", (value: unknown) => xpathLiteral(stringOf(value, "xpathLiteral")));
  env.addFilter("json", (value: unknown) => JSON.stringify(value === undefined ? null : value));
  env.addFilter("bool", (value: unknown) =>
    typeof value === "string"
      ? !["", "0", "false", "no", "off", "disable", "disabled"].includes(value.toLowerCase())
      : Boolean(value),
  );
  env.addFilter("hash", (value: unknown, length = 16) =>
    createHash("sha256").update(stringOf(value, "hash")).digest("hex").slice(0, Number(length)),
  );
}

/** "any", an IP address, or a network in CIDR notation (what the CRDs call a cidr). */
export function isCidrOrAny(value: string): boolean {
  if (value === "any") return true;
  const [address = "", prefix, extra] = value.split("/");
  const family = isIP(address);
  if (family === 0 || extra !== undefined) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

function fail(message: unknown): never {
  raise(new TemplateRefusal(String(message)));
}

const GLOBALS: Record<string, unknown> = { omit: OMIT, fail };

function makeEnvironment(globals: Record<string, unknown>): nunjucks.Environment {
  // No loader: {% include %}, {% import %} and {% extends %} cannot reach the file system.
  const env = new nunjucks.Environment([], { autoescape: false, throwOnUndefined: true });
  registerFilters(env);
  for (const [k, v] of Object.entries(globals)) env.addGlobal(k, v);
  return env;
}

const runtimeEnv = makeEnvironment(GLOBALS);
// The validation environment resolves every name that is not in the context through its globals,
// which throw for anything that is not a real global: an unknown top-level variable is an error.
const validationEnv = makeEnvironment(GLOBALS);
(validationEnv as unknown as { globals: Record<string, unknown> }).globals = new Proxy(
  { ...(validationEnv as unknown as { globals: Record<string, unknown> }).globals },
  {
    has: () => true,
    get: (target, key) => {
      if (typeof key === "symbol" || Object.hasOwn(target, key)) return Reflect.get(target, key);
      return raise(new UnknownVariableError(key));
    },
  },
);

// ---- compilation -------------------------------------------------------------------------------

type NjNode = {
  lineno: number;
  colno: number;
  children?: NjNode[];
  fields?: string[];
  [key: string]: unknown;
};
const nodes = (nunjucks as unknown as { nodes: unknown }).nodes as Record<
  string,
  new (
    lineno: number,
    colno: number,
    ...args: unknown[]
  ) => NjNode
>;
const { parser, compiler } = nunjucks as unknown as {
  parser: { parse(src: string, extensions: unknown[], opts: unknown): NjNode };
  compiler: {
    Compiler: new (
      name: string,
      throwOnUndefined: boolean,
    ) => { compile(ast: NjNode): void; getCode(): string };
  };
};

function isNode(value: unknown, kind: string): value is NjNode {
  const ctor = nodes[kind];
  return ctor !== undefined && value instanceof ctor;
}

function wrapInFilter(node: NjNode, filter: string): NjNode {
  const Filter = nodes.Filter as (typeof nodes)[string];
  const SymbolNode = nodes.Symbol as (typeof nodes)[string];
  const NodeList = nodes.NodeList as (typeof nodes)[string];
  return new Filter(
    node.lineno,
    node.colno,
    new SymbolNode(node.lineno, node.colno, filter),
    new NodeList(node.lineno, node.colno, [node]),
  );
}

/** Wraps every output expression in the escaping filter, recursively (inside if/for bodies too). */
function wrapOutputs(node: NjNode, filter: string): void {
  if (isNode(node, "Output") && node.children) {
    node.children = node.children.map((c) => (isNode(c, "TemplateData") ? c : wrapInFilter(c, filter)));
    return;
  }
  for (const field of node.fields ?? []) {
    const value = node[field];
    if (value && typeof value === "object" && "lineno" in (value as object))
      wrapOutputs(value as NjNode, filter);
  }
  if (Array.isArray(node.children)) for (const c of node.children) wrapOutputs(c, filter);
}

function isSingleExpression(root: NjNode): boolean {
  const only = root.children?.length === 1 ? root.children[0] : undefined;
  return (
    only !== undefined &&
    isNode(only, "Output") &&
    only.children?.length === 1 &&
    !isNode(only.children[0], "TemplateData")
  );
}

interface TemplatePair {
  runtime: nunjucks.Template;
  validation: nunjucks.Template;
}

function toTemplates(ast: NjNode, name: string): TemplatePair {
  const c = new compiler.Compiler(name, true);
  c.compile(ast);
  // The same compiled code is bound to both environments (as Nunjucks' precompiled templates are).
  const props = new Function(c.getCode())();
  const make = (env: nunjucks.Environment) =>
    new nunjucks.Template({ type: "code", obj: props } as unknown as string, env, name, true);
  return { runtime: make(runtimeEnv), validation: make(validationEnv) };
}

export interface RenderOptions {
  /** Render in the validation environment: unknown top-level variables throw. */
  validation?: boolean;
  /**
   * A single-expression template may evaluate to undefined (conditions, read-backs of vendor
   * objects that lack a field). Request templates leave this off: an undefined value there is an error.
   */
  allowUndefined?: boolean;
}

export interface CompiledTemplate {
  readonly source: string;
  readonly escaping: Escaping;
  /** True when the template is one `{{ expression }}`: evaluate() keeps the value's type. */
  readonly native: boolean;
  /** Whether the source contains any template syntax at all. */
  readonly dynamic: boolean;
  /** The value: native for a single expression, else the rendered text. May be OMIT. */
  evaluate(context: Record<string, unknown>, options?: RenderOptions): unknown;
  /** The rendered text (native values stringified). */
  render(context: Record<string, unknown>, options?: RenderOptions): string;
}

function cleanMessage(raw: string): { message: string; line?: number } {
  // Nunjucks messages look like "(unknown path) [Line 1, Column 5]\n  Error: text".
  const pos = /\[Line (\d+), Column (\d+)\]/.exec(raw);
  const text = raw
    .replace(/^\([^)]*\)\s*(\[Line \d+, Column \d+\])?\s*/, "")
    .replace(/^(Template render error: )+/, "")
    .replace(/^\s*(Error|UnknownVariable|TemplateRefusal|Template render error): /, "")
    .trim();
  const line = pos ? Number(pos[1]) : undefined;
  return line === undefined
    ? { message: text }
    : { message: `${text} (template line ${line}, column ${pos?.[2]})`, line };
}

function toTemplateError(error: unknown, cause: Error | undefined): TemplateError {
  const raw = error instanceof Error ? error.message : String(error);
  const { message, line } = cleanMessage(raw);
  const options: { templateLine?: number; refusal?: boolean; unknownVariable?: boolean } = {
    refusal: cause instanceof TemplateRefusal,
    unknownVariable: cause instanceof UnknownVariableError,
  };
  if (line !== undefined) options.templateLine = line;
  const text =
    cause instanceof TemplateRefusal || cause instanceof UnknownVariableError ? cause.message : message;
  return new TemplateError(text, options);
}

/** Compiles a template; throws TemplateError on a syntax error. */
export function compileTemplate(
  source: string,
  escaping: Escaping = "none",
  name = "template",
): CompiledTemplate {
  const dynamic = source.includes("{{") || source.includes("{%") || source.includes("{#");
  if (!dynamic) {
    return {
      source,
      escaping,
      native: false,
      dynamic,
      evaluate: () => source,
      render: () => source,
    };
  }
  let ast: NjNode;
  try {
    ast = parser.parse(source, [], (runtimeEnv as unknown as { opts: unknown }).opts);
  } catch (error) {
    throw toTemplateError(error, undefined);
  }
  const native = isSingleExpression(ast);
  wrapOutputs(ast, native ? "__capture" : `__esc_${escaping}`);
  let pair: TemplatePair;
  try {
    pair = toTemplates(ast, name);
  } catch (error) {
    throw toTemplateError(error, undefined);
  }

  const run = (context: Record<string, unknown>, options: RenderOptions | undefined): unknown => {
    const capture = { value: undefined as unknown, allowUndefined: options?.allowUndefined === true };
    lastCause = undefined;
    try {
      const template = options?.validation ? pair.validation : pair.runtime;
      const text = template.render({ ...context, __capture: capture });
      return native ? capture.value : text;
    } catch (error) {
      throw toTemplateError(error, lastCause);
    } finally {
      lastCause = undefined;
    }
  };
  return {
    source,
    escaping,
    native,
    dynamic,
    evaluate: run,
    render: (context, options) => {
      const value = run(context, options);
      if (value === OMIT)
        throw new TemplateError("omit can only be the whole value of a key or list element");
      if (value instanceof Placeholder) return value.toString();
      if (typeof value === "object" && value !== null) return JSON.stringify(value);
      return String(value);
    },
  };
}

/** Compiles `expr` as the single expression `{{ expr }}` (for predicates). */
export function compileExpression(expr: string, name = "expression"): CompiledTemplate {
  return compileTemplate(`{{ ${expr} }}`, "none", name);
}

// ---- strict samples for validation -------------------------------------------------------------

/**
 * Wraps `value` so that reading a key that is not in `shape` (the full sample at the same place)
 * throws UnknownVariableError naming the full path: `rule.descripton` is caught at load time.
 * Keys present in `shape` but absent in `value` read as undefined (optional fields).
 */
export function strictView(value: unknown, shape: unknown, path: string): unknown {
  if (value === null || typeof value !== "object" || Array.isArray(value) || value instanceof Placeholder)
    return value;
  const known = shape !== null && typeof shape === "object" ? (shape as Record<string, unknown>) : {};
  return new Proxy(value as Record<string, unknown>, {
    get(target, key, receiver) {
      if (typeof key === "symbol" || key in Object.prototype || key === "toJSON" || key === "then") {
        return Reflect.get(target, key, receiver);
      }
      if (Object.hasOwn(target, key)) return strictView(target[key], known[key], `${path}.${key}`);
      if (Object.hasOwn(known, key)) return undefined;
      return raise(new UnknownVariableError(`${path}.${key}`));
    },
  });
}
