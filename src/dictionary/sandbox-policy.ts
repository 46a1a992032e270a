// What a template may use, in one place: the names that lead to the host, the methods, filters and
// tests on the whitelist, and the regular expressions that cannot hang. Both halves of the sandbox
// read these tables: the static check (template-check.ts) and the hardened runtime
// (sandbox-runtime.ts), so they cannot drift apart.
import { setFlagsFromString } from "node:v8";

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
