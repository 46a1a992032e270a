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
import { cidrToRange, rangeToCidr } from "./ip-ranges.ts";
import { markerToken, readMarker, stripMarker } from "./rule-input.ts";
import {
  type AstNode,
  boundedRange,
  childNodes,
  compileSandboxed,
  createSandboxEnvironment,
  type SandboxedTemplate,
} from "./sandbox.ts";
import { BUILTIN_FILTERS } from "./sandbox-policy.ts";
import { type RenderLimits, SandboxViolation, takeViolation } from "./sandbox-runtime.ts";
import { checkTemplateAst } from "./template-check.ts";
import { escapeXml, xmlForbidden, xpathLiteral } from "./xml-escape.ts";

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

export interface TemplateErrorOptions {
  templateLine?: number;
  refusal?: boolean;
  unknownVariable?: boolean;
  forbidden?: boolean;
}

export class TemplateError extends Error {
  /** Line/column inside the template source (1-based), when Nunjucks knows them. */
  readonly templateLine?: number;
  readonly refusal: boolean;
  readonly unknownVariable: boolean;
  /** The template tried to leave the sandbox or to exceed a render bound (always a dictionary bug). */
  readonly forbidden: boolean;
  constructor(message: string, options: TemplateErrorOptions = {}) {
    super(message);
    this.name = "TemplateError";
    if (options.templateLine !== undefined) this.templateLine = options.templateLine;
    this.refusal = options.refusal ?? false;
    this.unknownVariable = options.unknownVariable ?? false;
    this.forbidden = options.forbidden ?? false;
  }
}

// Errors thrown from our filters and proxies, remembered because Nunjucks re-wraps them as text.
// Rendering is synchronous, so one slot is enough.
let lastCause: Error | undefined;
function raise(error: Error): never {
  lastCause = error;
  throw error;
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

type Filter = (this: FilterThis, ...args: never[]) => unknown;

function engineFilters(): Record<string, Filter> {
  const filters: Record<string, Filter> = {};
  const add = (name: string, fn: Filter) => {
    filters[name] = fn;
  };
  const escapers: Record<Exclude<Escaping, "none">, (s: string) => string> = {
    url: encodeURIComponent,
    xml: (s) => {
      if (xmlForbidden(s)) raise(new TemplateRefusal("the value contains a character XML cannot carry"));
      return escapeXml(s);
    },
  };
  for (const [name, escapeFn] of Object.entries(escapers)) {
    add(`__esc_${name}`, (value: unknown) =>
      value instanceof Placeholder ? value.toString() : escapeFn(stringOf(value, `${name} output`)),
    );
  }
  add("__esc_none", (value: unknown) => stringOf(value, "output"));
  add("__capture", function (this: FilterThis, value: unknown) {
    const capture = this.ctx.__capture as { value: unknown; allowUndefined: boolean };
    if (value === undefined && !capture.allowUndefined)
      raise(new Error("attempted to output an undefined value"));
    capture.value = value;
    return "";
  });
  add("mapValue", function (this: FilterThis, value: unknown, mapName: string) {
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
  add("unmapValue", function (this: FilterThis, value: unknown, mapName: string) {
    const reverse = valueMapsOf(this, "__reverseValueMaps")[mapName];
    if (!reverse) raise(new Error(`no value map named ${mapName}`));
    const key = value === null ? "null" : String(value);
    // An unknown vendor value is kept as is, so drift shows what the appliance really has.
    return Object.hasOwn(reverse, key) ? reverse[key] : value;
  });
  add("stripMarker", (value: unknown) => stripMarker(value));
  add("markerToken", (value: unknown) => markerToken(stringOf(value, "markerToken")));
  add("isCidr", (value: unknown) => typeof value === "string" && isCidrOrAny(value));
  add("ipRange", (value: unknown) => cidrToRange(stringOf(value, "ipRange")));
  add("rangeCidr", (value: unknown) => rangeToCidr(stringOf(value, "rangeCidr")));
  add("markerOf", (value: unknown) => readMarker(value));
  add("b64", (value: unknown) => Buffer.from(stringOf(value, "b64"), "utf8").toString("base64"));
  add("url", (value: unknown) => encodeURIComponent(stringOf(value, "url")));
  add("xml", (value: unknown) => escapeXml(stringOf(value, "xml")));
  add("xpathLiteral", (value: unknown) => xpathLiteral(stringOf(value, "xpathLiteral")));
  add("json", (value: unknown) => JSON.stringify(value === undefined ? null : value));
  add("bool", (value: unknown) =>
    typeof value === "string"
      ? !["", "0", "false", "no", "off", "disable", "disabled"].includes(value.toLowerCase())
      : Boolean(value),
  );
  add("hash", (value: unknown, length = 16) =>
    createHash("sha256").update(stringOf(value, "hash")).digest("hex").slice(0, Number(length)),
  );
  return filters;
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

const GLOBALS: Record<string, unknown> = { omit: OMIT, fail, range: boundedRange };
const FILTERS = engineFilters();

/** What a template may use: the static check (template-check.ts) refuses everything else. */
const POLICY = {
  filters: new Set<string>([...BUILTIN_FILTERS, ...Object.keys(FILTERS).filter((f) => !f.startsWith("__"))]),
  callableGlobals: new Set(["fail", "range"]),
};

function makeEnvironment(): nunjucks.Environment {
  return createSandboxEnvironment({
    filters: FILTERS as Record<string, (this: unknown, ...args: unknown[]) => unknown>,
    globals: GLOBALS,
  });
}

const runtimeEnv = makeEnvironment();
// The validation environment resolves every name that is not in the context through its globals,
// which throw for anything that is not a real global: an unknown top-level variable is an error.
const validationEnv = makeEnvironment();
(validationEnv as unknown as { globals: Record<string, unknown> }).globals = new Proxy(
  Object.assign(Object.create(null), (validationEnv as unknown as { globals: object }).globals),
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
const { parser } = nunjucks as unknown as {
  parser: { parse(src: string, extensions: unknown[], opts: unknown): NjNode };
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
  for (const child of childNodes(node as unknown as AstNode)) wrapOutputs(child as unknown as NjNode, filter);
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
  runtime: SandboxedTemplate;
  validation: SandboxedTemplate;
}

function toTemplates(ast: NjNode, name: string): TemplatePair {
  // The same generated code is bound to both environments (as Nunjucks' precompiled templates are).
  const [runtime, validation] = compileSandboxed(ast, name, [runtimeEnv, validationEnv]);
  if (!runtime || !validation) throw new Error("sandbox compiled no template");
  return { runtime, validation };
}

export interface RenderOptions {
  /** Render in the validation environment: unknown top-level variables throw. */
  validation?: boolean;
  /**
   * A single-expression template may evaluate to undefined (conditions, read-backs of vendor
   * objects that lack a field). Request templates leave this off: an undefined value there is an error.
   */
  allowUndefined?: boolean;
  /** Overrides the render bounds (tests). */
  limits?: Partial<RenderLimits>;
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
  /** Drops the compiled code; the next render compiles it again (releaseAfter). */
  release(): void;
}

/** Templates compiled while releaseAfter runs its task. */
let compiledDuring: CompiledTemplate[] | undefined;

/**
 * Runs `task` (a dictionary's compilation: every template compiled, then rendered once against
 * samples by the load-time checks), then drops the compiled code of every template it compiled; each
 * is compiled again on its first real render. An installation renders the templates of one or two
 * vendors' dictionaries, one or two rule kinds: kept compiled, the six built-in dictionaries' templates
 * held about 20 MiB resident that nothing used (docs/performance.md).
 */
export function releaseAfter<T>(task: () => T): T {
  const outer = compiledDuring;
  const compiled: CompiledTemplate[] = [];
  compiledDuring = compiled;
  try {
    return task();
  } finally {
    compiledDuring = outer;
    for (const template of compiled) template.release();
  }
}

function cleanMessage(raw: string): { message: string; line?: number } {
  // Nunjucks messages look like "(unknown path) [Line 1, Column 5]\n  Error: text".
  const pos = /\[Line (\d+), Column (\d+)\]/.exec(raw);
  const text = raw
    .replace(/^\([^)]*\)\s*(\[Line \d+, Column \d+\])?\s*/, "")
    .replace(/^(Template render error: )+/, "")
    .replace(/^\s*(Error|UnknownVariable|TemplateRefusal|SandboxViolation|Template render error): /, "")
    .trim();
  const line = pos ? Number(pos[1]) : undefined;
  return line === undefined
    ? { message: text }
    : { message: `${text} (template line ${line}, column ${pos?.[2]})`, line };
}

function toTemplateError(error: unknown, cause: Error | undefined): TemplateError {
  const raw = error instanceof Error ? error.message : String(error);
  const { message, line } = cleanMessage(raw);
  const options: TemplateErrorOptions = {
    refusal: cause instanceof TemplateRefusal,
    unknownVariable: cause instanceof UnknownVariableError,
    forbidden: cause instanceof SandboxViolation,
  };
  if (line !== undefined) options.templateLine = line;
  const located = (text: string) =>
    line === undefined ? text : `${text} (template line ${line}, column ${/Column (\d+)/.exec(raw)?.[1]})`;
  const text =
    cause instanceof TemplateRefusal || cause instanceof UnknownVariableError
      ? cause.message
      : cause instanceof SandboxViolation
        ? located(cause.message)
        : message;
  return new TemplateError(text, options);
}

/** The static check's verdict as one TemplateError (every violation, each with its line). */
function refuseStatically(ast: NjNode): void {
  const violations = checkTemplateAst(ast, POLICY);
  const [first] = violations;
  if (!first) return;
  const text = violations.map((v) => `${v.message} (template line ${v.line}, column ${v.column})`).join("; ");
  throw new TemplateError(text, { templateLine: first.line, forbidden: true });
}

/**
 * Compiles a template; throws TemplateError on a syntax error or on anything the static check
 * (template-check.ts) refuses.
 */
export function compileTemplate(
  source: string,
  escaping: Escaping = "none",
  name = "template",
): CompiledTemplate {
  return compile(source, escaping, name, true);
}

/**
 * The same without the static check: only the sandbox's run-time guards stand between the template
 * and the host. For the tests that prove those guards hold on their own; never for dictionaries.
 */
export function compileTemplateWithoutStaticCheck(
  source: string,
  escaping: Escaping = "none",
): CompiledTemplate {
  return compile(source, escaping, "template", false);
}

function compile(source: string, escaping: Escaping, name: string, staticCheck: boolean): CompiledTemplate {
  const dynamic = source.includes("{{") || source.includes("{%") || source.includes("{#");
  if (!dynamic) {
    return {
      source,
      escaping,
      native: false,
      dynamic,
      evaluate: () => source,
      render: () => source,
      release: () => undefined,
    };
  }
  let ast: NjNode;
  try {
    ast = parser.parse(source, [], (runtimeEnv as unknown as { opts: unknown }).opts);
  } catch (error) {
    throw toTemplateError(error, undefined);
  }
  if (staticCheck) refuseStatically(ast);
  const native = isSingleExpression(ast);
  const output = native ? "__capture" : `__esc_${escaping}`;
  wrapOutputs(ast, output);
  // Compiled now in any case: a template the sandbox refuses fails here, at load.
  let pair: TemplatePair | undefined;
  try {
    pair = toTemplates(ast, name);
  } catch (error) {
    if (error instanceof SandboxViolation) throw new TemplateError(error.message, { forbidden: true });
    throw toTemplateError(error, undefined);
  }
  /** The compiled pair, compiled again (the same source, the same steps) after a release. */
  const compiled = (): TemplatePair => {
    if (pair) return pair;
    const again = parser.parse(source, [], (runtimeEnv as unknown as { opts: unknown }).opts);
    wrapOutputs(again, output);
    pair = toTemplates(again, name);
    return pair;
  };

  const run = (context: Record<string, unknown>, options: RenderOptions | undefined): unknown => {
    const capture = { value: undefined as unknown, allowUndefined: options?.allowUndefined === true };
    lastCause = undefined;
    takeViolation();
    try {
      const template = options?.validation ? compiled().validation : compiled().runtime;
      const text = template.render({ ...context, __capture: capture }, options?.limits);
      return native ? capture.value : text;
    } catch (error) {
      throw toTemplateError(
        error,
        error instanceof SandboxViolation ? error : (takeViolation() ?? lastCause),
      );
    } finally {
      lastCause = undefined;
    }
  };
  const template: CompiledTemplate = {
    source,
    escaping,
    native,
    dynamic,
    release: () => {
      pair = undefined;
    },
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
  compiledDuring?.push(template);
  return template;
}

/** Compiles `expr` as the single expression `{{ expr }}` (for predicates). */
export function compileExpression(expr: string, name = "expression"): CompiledTemplate {
  return compileTemplate(`{{ ${expr} }}`, "none", name);
}
