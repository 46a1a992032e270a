// The run-time half of "templates are data, not code". Nunjucks compiles a template to JavaScript
// whose every member lookup, call, variable lookup and loop step goes through a `runtime` object;
// that object is replaced by a hardened one (sandbox-runtime.ts), so even a template that never
// went through template-check.ts (the static half, run by `validate` and by every load) cannot reach
// a function of the host:
//   - member lookups refuse `constructor`, `__proto__`, `prototype` and their kin, and never hand out
//     a function except a short list of string/list/regex methods (bound, with plain-value arguments);
//   - only functions the sandbox created can be called: the whitelisted globals, those methods;
//   - only whitelisted filters and tests exist, in prototype-less tables; there is no loader, so
//     include/import/extends reach no file;
//   - names are checked before code generation (a name is pasted into the generated JavaScript);
//   - a render has bounds: output and string size, loop iterations, wall time.
// Regular expressions run on V8's linear-time engine once they backtrack too much (the static check
// refuses the constructs that engine lacks), so no pattern can hang the operator.
// This module builds sandboxed templates: the environment they see (whitelisted filters, tests and
// globals) and their compiled code bound to the hardened runtime. What is allowed lives in
// sandbox-policy.ts; the run-time guards and the render budget in sandbox-runtime.ts.
import nunjucks from "nunjucks";
import { BUILTIN_FILTERS, BUILTIN_TESTS, IDENTIFIER, isForbiddenName } from "./sandbox-policy.ts";
import {
  allowCall,
  BoundedFrame,
  budget,
  type RenderLimits,
  SandboxViolation,
  sandboxRuntime,
  violation,
  withRenderBudget,
} from "./sandbox-runtime.ts";

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
    if (typeof value === "function") allowCall(value as (...args: never[]) => unknown);
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
        return withRenderBudget(limits, (b) => {
          const text = template.render(context);
          b.checkLength(text, "the rendered text");
          return text;
        });
      },
    };
  });
}
