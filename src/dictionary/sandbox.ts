// The run-time half of "templates are data, not code". Nunjucks compiles a template to JavaScript
// whose every member lookup, call, variable lookup and loop step goes through a `runtime` object;
// here that object is replaced by a hardened one, so even a template that never went through
// template-check.ts (the static half, run by `validate` and by every load) cannot reach a function
// of the host:
//   - member lookups refuse `constructor`, `__proto__`, `prototype` and their kin, and never hand out
//     a function except a short list of string/list/regex methods (bound, with plain-value arguments);
//   - only functions the sandbox created can be called: the whitelisted globals, those methods;
//   - only whitelisted filters and tests exist, in prototype-less tables; there is no loader, so
//     include/import/extends reach no file;
//   - names are checked before code generation (a name is pasted into the generated JavaScript);
//   - a render has bounds: output and string size, loop iterations, wall time.
// Regular expressions run on V8's linear-time engine once they backtrack too much (the static check
// refuses the constructs that engine lacks), so no pattern can hang the operator.
import { setFlagsFromString } from "node:v8";
import nunjucks from "nunjucks";

/** A template tried to leave the sandbox or to exceed a render bound. */
export class SandboxViolation extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SandboxViolation";
  }
}

export interface RenderLimits {
  /** Longest text one render may produce, and longest string it may build on the way. */
  maxOutputChars: number;
  /** Loop iterations (all loops of one render together). */
  maxLoopIterations: number;
  /** Wall-clock time of one render. */
  maxRenderMs: number;
}

export const DEFAULT_RENDER_LIMITS: Readonly<RenderLimits> = {
  maxOutputChars: 1024 * 1024,
  maxLoopIterations: 100_000,
  maxRenderMs: 1_000,
};

// ---- what a template may name ---------------------------------------------------------------------

/** Member and variable names that lead from a value to the host's functions and prototypes. */
const FORBIDDEN_NAMES: ReadonlySet<string> = new Set([
  "constructor",
  "prototype",
  "__proto__",
  "__defineGetter__",
  "__defineSetter__",
  "__lookupGetter__",
  "__lookupSetter__",
  "caller",
  "callee",
  "arguments",
]);

/** Names no template may use: the prototype chain, and `__`-names (the engine's own variables). */
export function isForbiddenName(name: string): boolean {
  return FORBIDDEN_NAMES.has(name) || name.startsWith("__");
}

/** A name the compiler may paste into generated code. */
export const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The methods a template may call, by the type of the value they are looked up on. */
export const SAFE_METHODS = {
  string: new Set([
    "split",
    "startsWith",
    "endsWith",
    "slice",
    "substring",
    "trim",
    "trimStart",
    "trimEnd",
    "replace",
    "replaceAll",
    "toLowerCase",
    "toUpperCase",
    "includes",
    "indexOf",
    "lastIndexOf",
    "charAt",
  ]),
  array: new Set(["includes", "indexOf", "join", "slice"]),
  regexp: new Set(["test"]),
} as const;

export const SAFE_METHOD_NAMES: ReadonlySet<string> = new Set([
  ...SAFE_METHODS.string,
  ...SAFE_METHODS.array,
  ...SAFE_METHODS.regexp,
]);

/** Nunjucks' own filters that stay: pure, bounded by their input. */
export const BUILTIN_FILTERS = [
  "abs",
  "capitalize",
  "default",
  "d",
  "dictsort",
  "dump",
  "first",
  "float",
  "int",
  "join",
  "last",
  "length",
  "list",
  "lower",
  "reject",
  "rejectattr",
  "replace",
  "reverse",
  "round",
  "select",
  "selectattr",
  "sort",
  "string",
  "sum",
  "title",
  "trim",
  "truncate",
  "upper",
  "urlencode",
  "wordcount",
] as const;

/** Nunjucks' tests (`x is defined`): all pure predicates. */
export const BUILTIN_TESTS = [
  "callable",
  "defined",
  "divisibleby",
  "escaped",
  "equalto",
  "eq",
  "sameas",
  "even",
  "falsy",
  "ge",
  "greaterthan",
  "gt",
  "le",
  "lessthan",
  "lt",
  "lower",
  "ne",
  "null",
  "number",
  "odd",
  "string",
  "truthy",
  "undefined",
  "iterable",
  "mapping",
  "upper",
] as const;

// ---- regular expressions --------------------------------------------------------------------------

// Past this many backtracks a regex runs on V8's linear-time engine instead (same result).
setFlagsFromString("--enable-experimental-regexp-engine-on-excessive-backtracks");

/**
 * Why a regular expression could hang (backreferences and lookaround are what the linear-time
 * engine cannot run), or undefined when it is fine.
 */
export function regexProblem(source: string): string | undefined {
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === "\\") {
      const next = source[i + 1] ?? "";
      if (!inClass && (/[1-9]/.test(next) || next === "k")) return "backreferences are not supported";
      i++;
      continue;
    }
    if (inClass) {
      if (c === "]") inClass = false;
      continue;
    }
    if (c === "[") inClass = true;
    else if (c === "(" && source[i + 1] === "?") {
      const kind = source.slice(i + 2, i + 4);
      if (kind.startsWith("=") || kind.startsWith("!") || kind === "<=" || kind === "<!")
        return "lookahead and lookbehind are not supported";
    }
  }
  return undefined;
}

// ---- the render budget ----------------------------------------------------------------------------

class Budget {
  readonly limits: RenderLimits;
  readonly #deadline: number;
  #iterations = 0;
  #ticks = 0;
  constructor(limits: RenderLimits) {
    this.limits = limits;
    this.#deadline = performance.now() + limits.maxRenderMs;
  }
  tick(): void {
    if ((++this.#ticks & 0xff) === 0 && performance.now() > this.#deadline) {
      violation(`the template ran longer than ${this.limits.maxRenderMs} ms`);
    }
  }
  iteration(): void {
    if (++this.#iterations > this.limits.maxLoopIterations) {
      violation(`the template looped more than ${this.limits.maxLoopIterations} times`);
    }
    this.tick();
  }
  checkLength(value: unknown, what: string): void {
    if (typeof value === "string" && value.length > this.limits.maxOutputChars) {
      violation(`${what} would be longer than ${this.limits.maxOutputChars} characters`);
    }
  }
}

// Rendering is synchronous, so one slot holds the budget of the render in progress. Outside a render
// (a filter called directly) each call gets a fresh default budget.
let current: Budget | undefined;
function budget(): Budget {
  return current ?? new Budget(DEFAULT_RENDER_LIMITS);
}

// The last violation thrown, remembered because Nunjucks re-wraps errors as text.
let lastViolation: SandboxViolation | undefined;
function violation(message: string): never {
  lastViolation = new SandboxViolation(message);
  throw lastViolation;
}

// ---- the hardened runtime -------------------------------------------------------------------------

const base = (nunjucks as unknown as { runtime: Record<string, unknown> }).runtime as {
  Frame: new (
    parent?: unknown,
    isolateWrites?: boolean,
  ) => { set(name: string, value: unknown, resolveUp?: boolean): void; topLevel: boolean };
  makeMacro: (argNames: string[], kwargNames: string[], fn: (...args: unknown[]) => unknown) => unknown;
  [key: string]: unknown;
};

/** Functions a template may call: the sandbox's globals, bound safe methods, its own macros. */
const callables = new WeakSet<object>();

/** Registers a function as callable from templates (the whitelisted globals). */
export function allowCall<F extends (...args: never[]) => unknown>(fn: F): F {
  callables.add(fn);
  return fn;
}

class BoundedFrame extends base.Frame {
  override set(name: string, value: unknown, resolveUp?: boolean): void {
    // Every loop iteration sets loop.index first.
    const b = budget();
    if (name === "loop.index") b.iteration();
    else b.tick();
    // A {% set %} block captures output without a filter in between.
    b.checkLength(value, `variable ${name}`);
    super.set(name, value, resolveUp);
  }
  push(isolateWrites?: boolean): BoundedFrame {
    return new BoundedFrame(this, isolateWrites);
  }
}

function methodKind(value: unknown): keyof typeof SAFE_METHODS | undefined {
  if (typeof value === "string" || value instanceof String) return "string";
  if (Array.isArray(value)) return "array";
  if (value instanceof RegExp) return "regexp";
  return undefined;
}

function plainArgument(value: unknown, method: string): void {
  if (value === null || value === undefined) return;
  const type = typeof value;
  if (type === "string" || type === "number" || type === "boolean") return;
  if (value instanceof RegExp && (method === "split" || method === "replace" || method === "replaceAll"))
    return;
  violation(`${method}() takes plain values (strings, numbers) as arguments`);
}

/** The largest string a method can return, when it can be known before running it. */
function projectedLength(target: unknown, method: string, args: unknown[]): number {
  if ((method === "replace" || method === "replaceAll") && typeof target === "string") {
    const replacement = typeof args[1] === "string" ? args[1].length : 0;
    return target.length + (target.length + 1) * replacement;
  }
  if (method === "join" && Array.isArray(target)) {
    const separator = typeof args[0] === "string" ? args[0].length : 1;
    return Math.max(0, target.length - 1) * separator;
  }
  return 0;
}

function boundMethod(target: unknown, name: string): (...args: unknown[]) => unknown {
  const fn = (target as Record<string, (...a: unknown[]) => unknown>)[name] as (...a: unknown[]) => unknown;
  return allowCall((...args: unknown[]) => {
    const b = budget();
    b.tick();
    for (const arg of args) plainArgument(arg, name);
    if (projectedLength(target, name, args) > b.limits.maxOutputChars) {
      violation(`${name}() would build a string longer than ${b.limits.maxOutputChars} characters`);
    }
    const result = fn.apply(target, args);
    b.checkLength(result, `the result of ${name}()`);
    return result;
  });
}

function memberLookup(obj: unknown, key: unknown): unknown {
  if (obj === undefined || obj === null) return undefined;
  budget().tick();
  if (typeof key !== "string" && typeof key !== "number") violation("a member name must be text or a number");
  const name = String(key);
  if (isForbiddenName(name)) violation(`member "${name}" is not accessible in templates`);
  if (typeof obj === "function") violation(`functions have no members in templates ("${name}")`);
  const value = (obj as Record<string, unknown>)[name];
  if (typeof value !== "function") return value;
  const kind = methodKind(obj);
  if (kind !== undefined && SAFE_METHODS[kind].has(name)) return boundMethod(obj, name);
  return violation(
    `"${name}" is a function of the host: templates may only call ${[...SAFE_METHOD_NAMES].join(", ")} on strings, lists and regular expressions`,
  );
}

function callWrap(obj: unknown, name: string, context: unknown, args: unknown[]): unknown {
  if (typeof obj !== "function") {
    throw new Error(`Unable to call \`${name}\`, which is ${obj ? "not a function" : "undefined or falsey"}`);
  }
  if (!callables.has(obj)) {
    violation(`${name} cannot be called: templates may only call fail(), range() and the string methods`);
  }
  budget().tick();
  return (obj as (...a: unknown[]) => unknown).apply(context, args);
}

interface LookupContext {
  lookup(name: string): unknown;
}
interface LookupFrame {
  lookup(name: string): unknown;
}

function contextOrFrameLookup(context: LookupContext, frame: LookupFrame, name: string): unknown {
  if (isForbiddenName(name)) violation(`the name "${name}" is not accessible in templates`);
  budget().tick();
  const fromFrame = frame.lookup(name);
  const value = fromFrame !== undefined ? fromFrame : context.lookup(name);
  if (typeof value === "function" && !callables.has(value)) {
    violation(`"${name}" is a function of the host, not a template value`);
  }
  return value;
}

function makeMacro(argNames: string[], kwargNames: string[], fn: (...args: unknown[]) => unknown): unknown {
  const macro = base.makeMacro(argNames, kwargNames, fn);
  if (typeof macro === "function") callables.add(macro);
  return macro;
}

/** The object generated template code receives as `runtime`. */
const sandboxRuntime: Record<string, unknown> = Object.freeze({
  ...base,
  Frame: BoundedFrame,
  memberLookup,
  callWrap,
  contextOrFrameLookup,
  makeMacro,
});

// ---- the environment ------------------------------------------------------------------------------

type FilterFn = (this: unknown, ...args: unknown[]) => unknown;

function checkFilterArgument(value: unknown, filter: string): void {
  if (typeof value === "function") violation(`filter ${filter} takes values, not functions`);
  if (value instanceof RegExp && filter !== "replace")
    violation(`filter ${filter} takes no regular expression`);
  // Attribute arguments (sort, selectattr, join, sum...) are looked up without memberLookup.
  if (typeof value === "string" && value.split(".").some(isForbiddenName)) {
    violation(`filter ${filter} cannot read "${value}"`);
  }
}

function guardedFilter(name: string, fn: FilterFn): FilterFn {
  return function (this: unknown, ...args: unknown[]) {
    const b = budget();
    b.tick();
    for (const arg of args.slice(1)) checkFilterArgument(arg, name);
    const result = fn.apply(this, args);
    b.checkLength(result, `the result of filter ${name}`);
    return result;
  };
}

// `+` and `~` are rewritten into these (see compileSandboxed) so that no string grows unbounded.
const INTERNAL_FILTERS: Record<string, FilterFn> = {
  __sandbox_add: (left: unknown, right: unknown) => {
    const result = (left as number) + (right as number);
    budget().checkLength(result, "a string built by +");
    return result;
  },
  __sandbox_concat: (left: unknown, right: unknown) => {
    const result = `${left}${right}`;
    budget().checkLength(result, "a string built by ~");
    return result;
  },
};

export interface SandboxEnvironmentOptions {
  /** The engine's own filters (escapers, value maps...), added to the whitelisted builtins. */
  filters: Record<string, FilterFn>;
  /** Every global a template may read; functions among them become callable. */
  globals: Record<string, unknown>;
}

/** A Nunjucks environment with no loader, whitelisted filters/tests/globals in prototype-less tables. */
export function createSandboxEnvironment(options: SandboxEnvironmentOptions): nunjucks.Environment {
  // No loader: {% include %}, {% import %} and {% extends %} cannot reach the file system.
  const env = new nunjucks.Environment([], { autoescape: false, throwOnUndefined: true });
  const raw = env as unknown as {
    filters: Record<string, FilterFn>;
    tests: Record<string, unknown>;
    globals: Record<string, unknown>;
    getTemplate: unknown;
  };
  const builtinFilters = raw.filters;
  const builtinTests = raw.tests;
  const filters: Record<string, FilterFn> = Object.create(null);
  for (const name of BUILTIN_FILTERS) {
    const fn = builtinFilters[name];
    if (fn) filters[name] = guardedFilter(name, fn);
  }
  for (const [name, fn] of Object.entries(options.filters)) filters[name] = guardedFilter(name, fn);
  Object.assign(filters, INTERNAL_FILTERS);
  const tests: Record<string, unknown> = Object.create(null);
  for (const name of BUILTIN_TESTS) if (builtinTests[name]) tests[name] = builtinTests[name];
  const globals: Record<string, unknown> = Object.create(null);
  for (const [name, value] of Object.entries(options.globals)) {
    if (typeof value === "function") callables.add(value);
    globals[name] = value;
  }
  raw.filters = filters;
  raw.tests = tests;
  raw.globals = globals;
  raw.getTemplate = () => violation("templates cannot include, import or extend other templates");
  return env;
}

/** range() without its endless loops and unbounded lists. */
export const boundedRange = allowCall((start: unknown, stop?: unknown, step?: unknown): number[] => {
  let from = Number(start);
  let to = Number(stop);
  const by = step === undefined ? 1 : Number(step);
  if (stop === undefined) {
    to = from;
    from = 0;
  }
  if (![from, to, by].every(Number.isFinite) || by === 0)
    violation("range() needs finite numbers and a non-zero step");
  const count = Math.max(0, Math.ceil((to - from) / by));
  const limit = budget().limits.maxLoopIterations;
  if (count > limit) violation(`range() of ${count} numbers (at most ${limit})`);
  const out: number[] = [];
  for (let i = 0; i < count; i++) out.push(from + i * by);
  return out;
});

// ---- compilation ----------------------------------------------------------------------------------

export type AstNode = {
  typename: string;
  lineno: number;
  colno: number;
  value?: unknown;
  children?: AstNode[];
  fields?: string[];
  [key: string]: unknown;
};

const nodeTypes = (nunjucks as unknown as { nodes: Record<string, unknown> }).nodes as Record<
  string,
  new (
    lineno: number,
    colno: number,
    ...args: unknown[]
  ) => AstNode
>;
const { compiler } = nunjucks as unknown as {
  compiler: {
    Compiler: new (
      name: string,
      throwOnUndefined: boolean,
    ) => { compile(ast: unknown): void; getCode(): string };
  };
};

function isAstNode(value: unknown): value is AstNode {
  return value !== null && typeof value === "object" && "typename" in value && "lineno" in value;
}

/** Visits every node of a tree (children before their parent's next sibling). */
export function* walkAst(node: AstNode): Generator<AstNode> {
  yield node;
  for (const child of childNodes(node)) yield* walkAst(child);
}

/** A node's direct children: node-valued fields, node lists in fields (Set targets, Compare ops). */
export function childNodes(node: AstNode): AstNode[] {
  const out: AstNode[] = [];
  // A NodeList's only field is `children`.
  for (const field of node.fields ?? []) {
    if (field === "children") continue;
    const value = node[field];
    if (isAstNode(value)) out.push(value);
    else if (Array.isArray(value)) out.push(...value.filter(isAstNode));
  }
  if (Array.isArray(node.children)) out.push(...node.children);
  return out;
}

/** Rewrites `a + b` and `a ~ b` into the length-checking filters. */
function boundConcatenations(node: AstNode): AstNode {
  for (const field of node.fields ?? []) {
    if (field === "children") continue;
    const value = node[field];
    if (isAstNode(value)) node[field] = boundConcatenations(value);
    else if (Array.isArray(value))
      node[field] = value.map((v) => (isAstNode(v) ? boundConcatenations(v) : v));
  }
  if (Array.isArray(node.children)) node.children = node.children.map(boundConcatenations);
  if (node.typename !== "Add" && node.typename !== "Concat") return node;
  const Filter = nodeTypes.Filter as (typeof nodeTypes)[string];
  const SymbolNode = nodeTypes.Symbol as (typeof nodeTypes)[string];
  const NodeList = nodeTypes.NodeList as (typeof nodeTypes)[string];
  const name = node.typename === "Add" ? "__sandbox_add" : "__sandbox_concat";
  return new Filter(
    node.lineno,
    node.colno,
    new SymbolNode(node.lineno, node.colno, name),
    new NodeList(node.lineno, node.colno, [node.left, node.right]),
  );
}

export interface SandboxedTemplate {
  render(context: Record<string, unknown>, limits?: Partial<RenderLimits>): string;
}

/**
 * Generates and binds the code of a parsed template. Refuses names that are not identifiers (the
 * code generator pastes them into JavaScript) and extension calls; everything else is guarded at run
 * time, whatever the static check said.
 */
export function compileSandboxed(
  ast: unknown,
  name: string,
  environments: nunjucks.Environment[],
): SandboxedTemplate[] {
  const root = ast as AstNode;
  for (const node of walkAst(root)) {
    if (node.typename === "Symbol" && !(typeof node.value === "string" && IDENTIFIER.test(node.value))) {
      throw new SandboxViolation(`"${String(node.value)}" is not a name (letters, digits and _ only)`);
    }
    if (node.typename.startsWith("CallExtension")) throw new SandboxViolation("extension tags are refused");
  }
  const c = new compiler.Compiler(name, true);
  c.compile(boundConcatenations(root));
  const factory = new Function(c.getCode()) as () => { root: (...args: unknown[]) => unknown };
  return environments.map((env) => {
    const props = factory();
    const generated = props.root;
    props.root = (e: unknown, context: unknown, _frame: unknown, _runtime: unknown, cb: unknown) => {
      const frame = new BoundedFrame();
      frame.topLevel = true;
      return generated(e, context, frame, sandboxRuntime, cb);
    };
    const template = new nunjucks.Template(
      { type: "code", obj: props } as unknown as string,
      env,
      name,
      true,
    );
    return {
      render(context, limits) {
        const previous = current;
        current = new Budget({ ...DEFAULT_RENDER_LIMITS, ...limits });
        try {
          const text = template.render(context);
          current.checkLength(text, "the rendered text");
          return text;
        } finally {
          current = previous;
        }
      },
    };
  });
}

/** The violation behind the last render error, if one was (Nunjucks re-wraps errors as text). */
export function takeViolation(): SandboxViolation | undefined {
  const found = lastViolation;
  lastViolation = undefined;
  return found;
}
