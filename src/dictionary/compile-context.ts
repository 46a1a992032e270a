// What every compile step shares: the problems collected so one load reports all of them, the located
// compilers of templates, JSONPaths, extractors and error rules, and the Validator that test-renders
// each template against the sample contexts of its scope.

import type { CompiledErrorRule, CompiledExtractor, ResponseFormat } from "./compiled.ts";
import { checkJsonPath } from "./jsonpath.ts";
import { type DocPath, LocatedError } from "./located.ts";
import { type CompiledPredicate, compilePredicate } from "./predicates.ts";
import { type SampleInputs, type Scope, sampleContexts } from "./samples.ts";
import type { ErrorRule, Extractor, Predicate } from "./schema.ts";
import { type CompiledStructure, renderStructure, StructureError } from "./structure.ts";
import { type CompiledTemplate, compileTemplate, type Escaping, TemplateError } from "./templates.ts";

/** Collects located problems instead of stopping at the first. */
export class Problems {
  readonly list: LocatedError[] = [];
  at<T>(fn: () => T): T | undefined {
    try {
      return fn();
    } catch (error) {
      if (error instanceof LocatedError) this.list.push(error);
      else throw error;
      return undefined;
    }
  }
}

export function templateAt(path: DocPath, source: string, escaping: Escaping = "none"): CompiledTemplate {
  try {
    return compileTemplate(source, escaping);
  } catch (error) {
    throw new LocatedError(path, `template error: ${(error as Error).message}`);
  }
}

export function jsonPathAt(path: DocPath, jsonPath: string): string {
  try {
    checkJsonPath(jsonPath);
  } catch (error) {
    throw new LocatedError(path, (error as Error).message);
  }
  return jsonPath;
}

export function compileExtractor(spec: Extractor, path: DocPath): CompiledExtractor {
  if (typeof spec === "string") return { describe: spec, optional: false, path: jsonPathAt(path, spec) };
  if (spec.path !== undefined) {
    return {
      describe: spec.path,
      optional: spec.optional ?? false,
      path: jsonPathAt([...path, "path"], spec.path),
    };
  }
  const source = spec.template ?? "";
  return {
    describe: source,
    optional: spec.optional ?? false,
    template: templateAt([...path, "template"], source),
  };
}

/** Renders a template against every sample of its scope; a failure becomes a located problem. */
export class Validator {
  readonly inputs: SampleInputs;
  constructor(inputs: SampleInputs) {
    this.inputs = inputs;
  }

  /** Lenient scopes (over responses/items, whose shape is unknown) only fail on unknown names. */
  private fatal(error: TemplateError, lenient: boolean): boolean {
    if (error.refusal) return false;
    if (error.forbidden || error.unknownVariable || /filter not found|unknown filter/i.test(error.message))
      return true;
    return !lenient;
  }

  /** `condition`: a `when`, `$if` or read-back template, where undefined simply means false/absent. */
  template(path: DocPath, template: CompiledTemplate | undefined, scope: Scope, condition = false): void {
    if (!template?.dynamic) return;
    const lenient = scope.response === true || scope.item === true;
    const allowUndefined = condition || lenient;
    for (const ctx of sampleContexts(scope, this.inputs)) {
      try {
        template.evaluate(ctx, { validation: true, allowUndefined });
      } catch (error) {
        if (error instanceof TemplateError && this.fatal(error, lenient)) {
          throw new LocatedError(path, `template error: ${error.message}`);
        }
      }
    }
  }

  structure(path: DocPath, structure: CompiledStructure | undefined, scope: Scope): void {
    if (!structure) return;
    const lenient = scope.response === true || scope.item === true;
    for (const ctx of sampleContexts(scope, this.inputs)) {
      try {
        renderStructure(structure, ctx, { validation: true }, path);
      } catch (error) {
        if (error instanceof StructureError && this.fatal(error.templateError, lenient)) {
          throw new LocatedError(error.path, `template error: ${error.message}`);
        }
        if (!(error instanceof StructureError)) throw error;
      }
    }
  }

  /** `when` decides per sample whether the step's other templates are checked with that sample. */
  whenHolds(template: CompiledTemplate | undefined, ctx: Record<string, unknown>): boolean {
    if (!template) return true;
    try {
      return Boolean(template.evaluate(ctx, { validation: true, allowUndefined: true }));
    } catch {
      return true;
    }
  }

  extractor(path: DocPath, extractor: CompiledExtractor | undefined, scope: Scope): void {
    if (extractor?.template)
      this.template([...path, "template"], extractor.template, { ...scope, response: true });
  }

  predicate(predicate: CompiledPredicate | undefined, scope: Scope): void {
    for (const [path, expr] of predicate?.expressions ?? [])
      this.template(path, expr, { ...scope, response: true });
  }
}

export function compilePredicateAt(
  spec: Predicate | undefined,
  path: DocPath,
): CompiledPredicate | undefined {
  return spec === undefined ? undefined : compilePredicate(spec, path);
}

export function compileErrorRules(
  rules: ErrorRule[] | undefined,
  path: DocPath,
  problems: Problems,
): CompiledErrorRule[] {
  const out: CompiledErrorRule[] = [];
  for (const [i, rule] of (rules ?? []).entries()) {
    problems.at(() => {
      const compiled: CompiledErrorRule = {
        when: compilePredicate(rule.when, [...path, i, "when"]),
        code: rule.code,
      };
      if (rule.message !== undefined)
        compiled.message = compileExtractor(rule.message, [...path, i, "message"]);
      out.push(compiled);
    });
  }
  return out;
}

export interface CompileContext {
  problems: Problems;
  validator: Validator;
  defaultResponseFormat: ResponseFormat;
}
