// The run-time guards of the template sandbox (sandbox.ts assembles them): Nunjucks' generated code
// does every member lookup, call, variable lookup and loop step through a `runtime` object, and this
// module supplies a hardened one, plus the budget (output and string size, loop iterations, wall
// time) each render is held to.
import nunjucks from "nunjucks";
import { isForbiddenName, SAFE_METHOD_NAMES, SAFE_METHODS } from "./sandbox-policy.ts";

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

// ---- the render budget ----------------------------------------------------------------------------

export class Budget {
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
export function budget(): Budget {
  return current ?? new Budget(DEFAULT_RENDER_LIMITS);
}

// The last violation thrown, remembered because Nunjucks re-wraps errors as text.
let lastViolation: SandboxViolation | undefined;
export function violation(message: string): never {
  lastViolation = new SandboxViolation(message);
  throw lastViolation;
}

/** Runs one render under a fresh budget, then restores the budget of any enclosing render. */
export function withRenderBudget<T>(limits: Partial<RenderLimits> | undefined, render: (b: Budget) => T): T {
  const previous = current;
  current = new Budget({ ...DEFAULT_RENDER_LIMITS, ...limits });
  try {
    return render(current);
  } finally {
    current = previous;
  }
}

/** The violation behind the last render error, if one was (Nunjucks re-wraps errors as text). */
export function takeViolation(): SandboxViolation | undefined {
  const found = lastViolation;
  lastViolation = undefined;
  return found;
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

export class BoundedFrame extends base.Frame {
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
export const sandboxRuntime: Record<string, unknown> = Object.freeze({
  ...base,
  Frame: BoundedFrame,
  memberLookup,
  callWrap,
  contextOrFrameLookup,
  makeMacro,
});
