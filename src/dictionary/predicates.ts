// Predicates over a response: status codes, JSONPath comparisons and template expressions, combined
// with all/any/not. Compiled once when the dictionary loads (paths and regexes checked there).
import { checkJsonPath, queryAll } from "./jsonpath.ts";
import { type DocPath, LocatedError } from "./located.ts";
import { regexProblem } from "./sandbox-policy.ts";
import type { Predicate } from "./schema.ts";
import {
  type CompiledTemplate,
  compileExpression,
  type RenderOptions,
  type TemplateError,
} from "./templates.ts";

export interface ResponseView {
  status: number;
  headers: Readonly<Record<string, string>>;
  /** The parsed body (JSON value, parsed XML, or text). */
  body: unknown;
}

export type StatusSpec = number | string;

export function statusMatches(status: number, specs: StatusSpec | StatusSpec[]): boolean {
  const list = Array.isArray(specs) ? specs : [specs];
  return list.some((spec) =>
    typeof spec === "number" ? spec === status : Math.floor(status / 100) === Number(spec.slice(0, 1)),
  );
}

export interface CompiledPredicate {
  readonly source: Predicate;
  test(response: ResponseView, context: Record<string, unknown>, options?: RenderOptions): boolean;
  /** The expression templates inside (for validation renders). */
  readonly expressions: [DocPath, CompiledTemplate][];
}

function isEmpty(value: unknown): boolean {
  if (value === undefined || value === null || value === "") return true;
  if (Array.isArray(value)) return value.length === 0;
  if (typeof value === "object") return Object.keys(value).length === 0;
  return false;
}

function sameScalar(a: unknown, b: unknown): boolean {
  // Parsed XML and some JSON APIs carry numbers as strings: compare 19 and "19" as equal.
  if (a === b) return true;
  if ((typeof a === "number" && typeof b === "string") || (typeof a === "string" && typeof b === "number")) {
    return String(a) === String(b);
  }
  return false;
}

export function compilePredicate(p: Predicate, path: DocPath): CompiledPredicate {
  const expressions: [DocPath, CompiledTemplate][] = [];
  if (p.path !== undefined) {
    try {
      checkJsonPath(p.path);
    } catch (error) {
      throw new LocatedError([...path, "path"], (error as Error).message);
    }
  }
  const hasComparison =
    p.equals !== undefined ||
    p.notEquals !== undefined ||
    p.in !== undefined ||
    p.exists !== undefined ||
    p.empty !== undefined ||
    p.matches !== undefined;
  if (hasComparison && p.path === undefined) {
    throw new LocatedError(path, "equals/notEquals/in/exists/empty/matches need a `path`");
  }
  let regex: RegExp | undefined;
  if (p.matches !== undefined) {
    // Appliance answers are untrusted input: no pattern may backtrack without bound.
    const problem = regexProblem(p.matches);
    if (problem) throw new LocatedError([...path, "matches"], `regular expression: ${problem}`);
    try {
      regex = new RegExp(p.matches);
    } catch (error) {
      throw new LocatedError(
        [...path, "matches"],
        (error as Error).message.replace(/^Invalid regular expression/, "invalid regular expression"),
      );
    }
  }
  let expr: CompiledTemplate | undefined;
  if (p.expr !== undefined) {
    try {
      expr = compileExpression(p.expr);
    } catch (error) {
      throw new LocatedError([...path, "expr"], `template error: ${(error as TemplateError).message}`);
    }
    expressions.push([[...path, "expr"], expr]);
  }
  const all = (p.all ?? []).map((q, i) => compilePredicate(q, [...path, "all", i]));
  const any = (p.any ?? []).map((q, i) => compilePredicate(q, [...path, "any", i]));
  const not = p.not === undefined ? undefined : compilePredicate(p.not, [...path, "not"]);
  for (const sub of [...all, ...any, ...(not ? [not] : [])]) expressions.push(...sub.expressions);

  return {
    source: p,
    expressions,
    test(response, context, options) {
      if (p.status !== undefined && !statusMatches(response.status, p.status)) return false;
      if (p.path !== undefined) {
        const matches = queryAll(p.path, response.body);
        const value = matches[0];
        const exists = matches.length > 0 && value !== undefined;
        if (!hasComparison && !exists) return false;
        if (p.exists !== undefined && exists !== p.exists) return false;
        if (p.empty !== undefined && isEmpty(value) !== p.empty) return false;
        if (p.equals !== undefined && !sameScalar(value, p.equals)) return false;
        if (p.notEquals !== undefined && sameScalar(value, p.notEquals)) return false;
        if (p.in !== undefined && !p.in.some((candidate) => sameScalar(value, candidate))) return false;
        if (regex !== undefined && !(typeof value === "string" && regex.test(value))) return false;
      }
      if (expr !== undefined) {
        const value = expr.evaluate({ ...context, response }, { ...options, allowUndefined: true });
        if (!value) return false;
      }
      if (!all.every((q) => q.test(response, context, options))) return false;
      if (any.length > 0 && !any.some((q) => q.test(response, context, options))) return false;
      if (not?.test(response, context, options)) return false;
      return true;
    },
  };
}
