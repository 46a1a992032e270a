// From a structurally valid dictionary document to the compiled form the executor runs: every
// template compiled AND test-rendered against sample contexts, every JSONPath and regex checked.
// Problems are collected (with their place in the document) so one load reports all of them.
// The concerns live in compiled.ts (the compiled types), compile-context.ts (problems, validation against
// samples), compile-request.ts (requests, jobs, operations), compile-resource.ts and compile-auth.ts.

import { compileAuth } from "./compile-auth.ts";
import {
  type CompileContext,
  compileErrorRules,
  Problems,
  templateAt,
  Validator,
} from "./compile-context.ts";
import { compileOperation, type OperationSpecLike } from "./compile-request.ts";
import { compileResource } from "./compile-resource.ts";
import type { CompiledDictionary, CompiledResource } from "./compiled.ts";
import { LocatedError } from "./located.ts";
import type { ResourceKind } from "./rule-input.ts";
import type { Scope } from "./samples.ts";
import { regexProblem } from "./sandbox-policy.ts";
import type { DictionarySpec } from "./schema.ts";
import { parseRange } from "./semver.ts";
import { type CompiledTemplate, releaseAfter } from "./templates.ts";

function reverseMaps(spec: DictionarySpec, problems: Problems): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const [name, map] of Object.entries(spec.valueMaps)) {
    const explicit = spec.reverseValueMaps[name];
    if (explicit) {
      out[name] = { ...explicit };
      continue;
    }
    const reverse: Record<string, unknown> = {};
    for (const [canonical, vendor] of Object.entries(map)) {
      const key = vendor === null ? "null" : String(vendor);
      if (Object.hasOwn(reverse, key)) {
        problems.list.push(
          new LocatedError(
            ["valueMaps", name, canonical],
            `value map ${name} is not one-to-one (${JSON.stringify(vendor)} twice): add reverseValueMaps.${name}`,
          ),
        );
      }
      reverse[key] = canonical;
    }
    out[name] = reverse;
  }
  for (const name of Object.keys(spec.reverseValueMaps)) {
    if (!Object.hasOwn(spec.valueMaps, name)) {
      problems.list.push(new LocatedError(["reverseValueMaps", name], `no valueMaps.${name} to reverse`));
    }
  }
  return out;
}

export class DictionaryCompileError extends Error {
  readonly problems: LocatedError[];
  constructor(problems: LocatedError[]) {
    super(problems.map((p) => p.message).join("; "));
    this.name = "DictionaryCompileError";
    this.problems = problems;
  }
}

/** Compiles a validated document; throws DictionaryCompileError listing every located problem. */
export function compileDictionary(spec: DictionarySpec, name: string, source: string): CompiledDictionary {
  return releaseAfter(() => compileChecked(spec, name, source));
}

function compileChecked(spec: DictionarySpec, name: string, source: string): CompiledDictionary {
  const problems = new Problems();
  const firmwareRange = problems.at(() => {
    try {
      return parseRange(spec.firmware);
    } catch (error) {
      throw new LocatedError(
        ["firmware"],
        `invalid firmware range ${JSON.stringify(spec.firmware)}: ${(error as Error).message}`,
      );
    }
  });
  for (const [pname, param] of Object.entries(spec.parameters)) {
    if (param.pattern !== undefined) {
      const pattern = param.pattern;
      problems.at(() => {
        const problem = regexProblem(pattern);
        if (problem)
          throw new LocatedError(["parameters", pname, "pattern"], `regular expression: ${problem}`);
        try {
          new RegExp(pattern);
        } catch (error) {
          throw new LocatedError(
            ["parameters", pname, "pattern"],
            `invalid regular expression: ${(error as Error).message}`,
          );
        }
      });
    }
  }
  const reverseValueMaps = reverseMaps(spec, problems);
  const sampleParameters = Object.fromEntries(
    Object.entries(spec.parameters).map(([k, p]) => [k, p.default ?? `sample-${k}`]),
  );
  const credentialReads = new Set<string>();
  const validator = new Validator({
    parameters: sampleParameters,
    valueMaps: spec.valueMaps,
    reverseValueMaps,
    credentialReads,
  });
  const cc: CompileContext = { problems, validator, defaultResponseFormat: spec.connection.responseFormat };

  const headerTemplates: [string, CompiledTemplate][] = [];
  for (const [header, source] of Object.entries(spec.connection.headers)) {
    const compiled = problems.at(() => templateAt(["connection", "headers", header], source));
    if (compiled) {
      problems.at(() => validator.template(["connection", "headers", header], compiled, { steps: {} }));
      headerTemplates.push([header, compiled]);
    }
  }
  const auth = compileAuth(spec.auth, cc);
  const errors = compileErrorRules(spec.errors, ["errors"], problems);
  for (const rule of errors) problems.at(() => validator.predicate(rule.when, { steps: {} }));
  const health = compileOperation("health", spec.health as OperationSpecLike, ["health"], { steps: {} }, cc);
  const activationSpec = spec.activation;
  const prepare =
    activationSpec?.prepare === undefined
      ? undefined
      : compileOperation(
          "prepare",
          { steps: activationSpec.prepare },
          ["activation", "prepare"],
          { steps: {} },
          cc,
        );
  // The activation and its confirm/rollback see what prepare's named steps extracted.
  const prepared: Scope = {
    steps: Object.fromEntries(
      (activationSpec?.prepare ?? []).flatMap((step) =>
        step.name === undefined ? [] : [[step.name, Object.keys(step.extract ?? {})]],
      ),
    ),
  };
  const activation =
    activationSpec === undefined
      ? undefined
      : compileOperation("activation", { steps: activationSpec.steps }, ["activation"], prepared, cc);
  const confirm =
    activationSpec?.confirm === undefined
      ? undefined
      : compileOperation(
          "confirm",
          { steps: activationSpec.confirm },
          ["activation", "confirm"],
          prepared,
          cc,
        );
  const rollback =
    activationSpec?.rollback === undefined
      ? undefined
      : compileOperation(
          "rollback",
          { steps: activationSpec.rollback },
          ["activation", "rollback"],
          prepared,
          cc,
        );
  const resources: Partial<Record<ResourceKind, CompiledResource>> = {};
  for (const kind of ["firewallRule", "natRule"] as const) {
    const resourceSpec = spec.resources[kind];
    if (resourceSpec === undefined) continue;
    const compiled = compileResource(
      kind,
      resourceSpec,
      ["resources", kind],
      cc,
      spec.ruleNumbers !== undefined,
    );
    if (compiled) resources[kind] = compiled;
  }
  if (problems.list.length > 0 || !firmwareRange || !auth || !health) {
    const seen = new Set<string>();
    const unique = problems.list.filter((p) => {
      const key = `${JSON.stringify(p.path)} ${p.message}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
    throw new DictionaryCompileError(unique);
  }
  const dictionary: CompiledDictionary = {
    name,
    vendor: spec.vendor,
    firmware: spec.firmware,
    firmwareRange,
    displayName: spec.displayName,
    source,
    spec,
    parameters: spec.parameters,
    connection: { ...spec.connection, headerTemplates },
    auth,
    credentialKeys: [...credentialReads].sort(),
    valueMaps: spec.valueMaps,
    reverseValueMaps,
    errors,
    health,
    resources,
  };
  return Object.assign(
    dictionary,
    spec.description === undefined ? {} : { description: spec.description },
    spec.ruleNumbers === undefined ? {} : { ruleNumbers: spec.ruleNumbers },
    activation === undefined ? {} : { activation },
    spec.activation?.namesCulprits ? { activationNamesCulprits: true } : {},
    prepare === undefined ? {} : { activationPrepare: prepare },
    confirm === undefined ? {} : { activationConfirm: confirm },
    rollback === undefined ? {} : { activationRollback: rollback },
  );
}
