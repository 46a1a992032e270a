// From a structurally valid dictionary document to the compiled form the executor runs: every
// template compiled AND test-rendered against sample contexts, every JSONPath and regex checked.
// Problems are collected (with their place in the document) so one load reports all of them.

import type { ErrorCode } from "./errors.ts";
import { checkJsonPath } from "./jsonpath.ts";
import { type DocPath, LocatedError } from "./located.ts";
import { type CompiledPredicate, compilePredicate } from "./predicates.ts";
import { type CompiledImport, compileReverse } from "./reverse.ts";
import type { ResourceKind } from "./rule-input.ts";
import { type SampleInputs, type Scope, sampleContexts } from "./samples.ts";
import { regexProblem } from "./sandbox.ts";
import type {
  AuthSpec,
  DictionarySpec,
  ErrorRule,
  Extractor,
  JobSpec,
  OperationsSpec,
  Predicate,
  ResourceSpec,
  StepSpec,
} from "./schema.ts";
import { parseRange, type Range } from "./semver.ts";
import {
  type CompiledStructure,
  compileStructure,
  renderStructure,
  StructureError,
  structureTemplates,
} from "./structure.ts";
import { type CompiledTemplate, compileTemplate, type Escaping, TemplateError } from "./templates.ts";

export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
export type BodyFormat = "json" | "form" | "xml" | "text";
export type ResponseFormat = "json" | "xml" | "text";

export interface CompiledExtractor {
  readonly describe: string;
  readonly optional: boolean;
  readonly path?: string;
  readonly template?: CompiledTemplate;
}

export interface CompiledErrorRule {
  when: CompiledPredicate;
  code: ErrorCode;
  message?: CompiledExtractor;
}

export interface CompiledRequest {
  readonly docPath: DocPath;
  readonly method: HttpMethod;
  readonly path: CompiledTemplate;
  readonly query: [string, CompiledStructure][];
  readonly headers: [string, CompiledTemplate][];
  readonly bodyFormat?: BodyFormat;
  readonly body?: CompiledStructure;
  readonly responseFormat: ResponseFormat;
  readonly success?: CompiledPredicate;
  readonly notFound?: CompiledPredicate;
  readonly errors: CompiledErrorRule[];
  readonly extract: [string, CompiledExtractor][];
  readonly timeoutMs?: number;
}

export interface CompiledJob {
  readonly id: CompiledExtractor;
  readonly poll: CompiledRequest;
  readonly done: CompiledPredicate;
  readonly failed?: CompiledPredicate;
  readonly failureCode: ErrorCode;
  readonly message?: CompiledExtractor;
  readonly intervalMs: number;
  readonly timeoutMs: number;
}

export interface CompiledStep extends CompiledRequest {
  readonly index: number;
  readonly name?: string;
  readonly when?: CompiledTemplate;
  readonly job?: CompiledJob;
  readonly items?: { path: string; vendorRef: CompiledExtractor };
}

export type OperationName = "create" | "get" | "list" | "update" | "delete" | "move" | "findByMarker";

export interface CompiledOperation {
  readonly name: OperationName | "health" | "activation";
  readonly docPath: DocPath;
  readonly steps: CompiledStep[];
  readonly assignVendorRef?: CompiledTemplate;
  readonly vendorRef?: CompiledExtractor;
  readonly object?: string;
}

export interface CompiledResource {
  readonly kind: ResourceKind;
  readonly ownershipField: CompiledTemplate;
  readonly normalize: CompiledStructure;
  /** The reverse mapping (`import`), when the dictionary declares one. */
  readonly reverse?: CompiledImport;
  readonly operations: Partial<Record<OperationName, CompiledOperation>> & {
    create: CompiledOperation;
    get: CompiledOperation;
    list: CompiledOperation;
    update: CompiledOperation;
    delete: CompiledOperation;
  };
}

export interface CompiledInject {
  headers: [string, CompiledTemplate][];
  query: [string, CompiledTemplate][];
  form: [string, CompiledTemplate][];
}

export type CompiledAuth =
  | { type: "none" }
  | { type: "basic"; username: CompiledTemplate; password: CompiledTemplate }
  | { type: "bearer"; token: CompiledTemplate; header: string; scheme: string }
  | { type: "apiKeyHeader"; header: string; value: CompiledTemplate }
  | { type: "apiKeyQuery"; param: string; value: CompiledTemplate }
  | { type: "apiKeyForm"; field: string; value: CompiledTemplate }
  | {
      type: "session";
      login: CompiledRequest;
      token: CompiledExtractor;
      expiresIn?: CompiledExtractor;
      ttlSeconds: number;
      use: CompiledInject;
      renewOn: number[];
    };

export interface CompiledDictionary {
  readonly name: string;
  readonly vendor: string;
  readonly firmware: string;
  readonly firmwareRange: Range;
  readonly displayName: string;
  readonly description?: string;
  /** Where it was loaded from (for messages). */
  readonly source: string;
  readonly spec: DictionarySpec;
  readonly parameters: DictionarySpec["parameters"];
  readonly connection: DictionarySpec["connection"] & { headerTemplates: [string, CompiledTemplate][] };
  readonly auth: CompiledAuth;
  /**
   * The keys of the credentials Secret the auth templates read (recorded while every template was
   * checked against samples): a Secret without one of them cannot work, and the device says so.
   */
  readonly credentialKeys: readonly string[];
  readonly valueMaps: Record<string, Record<string, unknown>>;
  readonly reverseValueMaps: Record<string, Record<string, unknown>>;
  readonly errors: CompiledErrorRule[];
  readonly ruleNumbers?: { min: number; max: number };
  readonly health: CompiledOperation;
  readonly activation?: CompiledOperation;
  readonly resources: Partial<Record<ResourceKind, CompiledResource>>;
}

/** Collects located problems instead of stopping at the first. */
class Problems {
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

function templateAt(path: DocPath, source: string, escaping: Escaping = "none"): CompiledTemplate {
  try {
    return compileTemplate(source, escaping);
  } catch (error) {
    throw new LocatedError(path, `template error: ${(error as Error).message}`);
  }
}

function jsonPathAt(path: DocPath, jsonPath: string): string {
  try {
    checkJsonPath(jsonPath);
  } catch (error) {
    throw new LocatedError(path, (error as Error).message);
  }
  return jsonPath;
}

function compileExtractor(spec: Extractor, path: DocPath): CompiledExtractor {
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
class Validator {
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

function compilePredicateAt(spec: Predicate | undefined, path: DocPath): CompiledPredicate | undefined {
  return spec === undefined ? undefined : compilePredicate(spec, path);
}

function compileErrorRules(
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

type RequestSpecLike = Omit<StepSpec, "name" | "when" | "job" | "items" | "method" | "path"> & {
  method?: StepSpec["method"];
  path?: string;
};

interface CompileContext {
  problems: Problems;
  validator: Validator;
  defaultResponseFormat: ResponseFormat;
}

function compileRequest(
  spec: RequestSpecLike,
  path: DocPath,
  scope: Scope,
  cc: CompileContext,
  validate = true,
): CompiledRequest | undefined {
  const { problems, validator } = cc;
  const method = spec.method ?? "GET";
  const pathTemplate = problems.at(() => {
    const source = spec.path ?? "";
    if (source !== "" && !source.startsWith("/") && !source.startsWith("{")) {
      throw new LocatedError([...path, "path"], 'path must start with "/"');
    }
    if (/[?#]/.test(source.replace(/\{\{[\s\S]*?\}\}|\{%[\s\S]*?%\}/g, ""))) {
      throw new LocatedError([...path, "path"], "path must not contain ? or # (use `query`)");
    }
    return templateAt([...path, "path"], source, "url");
  });
  const structureAt = (value: unknown, at: DocPath, escaping: Escaping): CompiledStructure | undefined =>
    problems.at(() => {
      try {
        return compileStructure(value, escaping, at);
      } catch (error) {
        if (error instanceof StructureError)
          throw new LocatedError(error.path, `template error: ${error.message}`);
        throw error;
      }
    });
  const query: [string, CompiledStructure][] = [];
  for (const [key, value] of Object.entries(spec.query ?? {})) {
    const compiled = structureAt(value, [...path, "query", key], "none");
    if (compiled) query.push([key, compiled]);
  }
  const headers: [string, CompiledTemplate][] = [];
  for (const [name, value] of Object.entries(spec.headers ?? {})) {
    const compiled = problems.at(() => templateAt([...path, "headers", name], value));
    if (compiled) headers.push([name, compiled]);
  }
  let body: CompiledStructure | undefined;
  const bodyFormat: BodyFormat | undefined =
    spec.body === undefined ? spec.bodyFormat : (spec.bodyFormat ?? "json");
  if (spec.body !== undefined) {
    if ((bodyFormat === "xml" || bodyFormat === "text") && typeof spec.body !== "string") {
      problems.list.push(
        new LocatedError([...path, "body"], `a ${bodyFormat} body must be a template string`),
      );
    } else if (
      bodyFormat === "form" &&
      (typeof spec.body !== "object" || spec.body === null || Array.isArray(spec.body))
    ) {
      problems.list.push(new LocatedError([...path, "body"], "a form body must be a map of fields"));
    } else {
      body = structureAt(spec.body, [...path, "body"], bodyFormat === "xml" ? "xml" : "none");
    }
  }
  const success = problems.at(() => compilePredicateAt(spec.success, [...path, "success"]));
  const notFound = problems.at(() => compilePredicateAt(spec.notFound, [...path, "notFound"]));
  const errors = compileErrorRules(spec.errors, [...path, "errors"], problems);
  const extract: [string, CompiledExtractor][] = [];
  for (const [name, ex] of Object.entries(spec.extract ?? {})) {
    const compiled = problems.at(() => compileExtractor(ex, [...path, "extract", name]));
    if (compiled) extract.push([name, compiled]);
  }
  if (!pathTemplate) return undefined;

  if (validate) {
    problems.at(() => validator.template([...path, "path"], pathTemplate, scope));
    for (const [key, value] of query)
      problems.at(() => validator.structure([...path, "query", key], value, scope));
    for (const [name, value] of headers)
      problems.at(() => validator.template([...path, "headers", name], value, scope));
    problems.at(() => validator.structure([...path, "body"], body, scope));
  }
  problems.at(() => validator.predicate(success, scope));
  problems.at(() => validator.predicate(notFound, scope));
  for (const rule of errors) {
    problems.at(() => validator.predicate(rule.when, scope));
  }
  for (const [name, ex] of extract)
    problems.at(() => validator.extractor([...path, "extract", name], ex, scope));

  const out: CompiledRequest = {
    docPath: path,
    method,
    path: pathTemplate,
    query,
    headers,
    responseFormat: spec.responseFormat ?? cc.defaultResponseFormat,
    errors,
    extract,
  };
  return Object.assign(
    out,
    bodyFormat === undefined ? {} : { bodyFormat },
    body === undefined ? {} : { body },
    success === undefined ? {} : { success },
    notFound === undefined ? {} : { notFound },
    spec.timeoutMs === undefined ? {} : { timeoutMs: spec.timeoutMs },
  );
}

function compileJob(spec: JobSpec, path: DocPath, scope: Scope, cc: CompileContext): CompiledJob | undefined {
  const { problems, validator } = cc;
  const id = problems.at(() => compileExtractor(spec.id, [...path, "id"]));
  const pollScope: Scope = { ...scope, job: true };
  const poll = compileRequest(spec.poll, [...path, "poll"], pollScope, cc);
  const done = problems.at(() => compilePredicate(spec.done, [...path, "done"]));
  const failed = problems.at(() => compilePredicateAt(spec.failed, [...path, "failed"]));
  const message = problems.at(() =>
    spec.message === undefined ? undefined : compileExtractor(spec.message, [...path, "message"]),
  );
  problems.at(() => validator.extractor([...path, "id"], id, scope));
  problems.at(() => validator.predicate(done, pollScope));
  problems.at(() => validator.predicate(failed, pollScope));
  if (!id || !poll || !done) return undefined;
  const job: CompiledJob = {
    id,
    poll,
    done,
    failureCode: spec.failureCode,
    intervalMs: spec.intervalMs,
    timeoutMs: spec.timeoutMs,
  };
  return Object.assign(job, failed ? { failed } : {}, message ? { message } : {});
}

type OperationSpecLike = RequestSpecLike & {
  steps?: StepSpec[];
  when?: string;
  job?: JobSpec;
  items?: StepSpec["items"];
  assignVendorRef?: string;
  vendorRef?: Extractor;
  object?: string;
};

function compileOperation(
  name: CompiledOperation["name"],
  spec: OperationSpecLike,
  path: DocPath,
  baseScope: Scope,
  cc: CompileContext,
): CompiledOperation | undefined {
  const { problems, validator } = cc;
  // An inline request is a single step at the operation's own path.
  const inline = spec.steps === undefined;
  const {
    assignVendorRef: assignSource,
    vendorRef: vendorRefSpec,
    object: objectPath,
    ...requestPart
  } = spec;
  const stepSpecs: [StepSpec, DocPath][] = inline
    ? [[requestPart as StepSpec, path]]
    : (spec.steps ?? []).map((s, i) => [s, [...path, "steps", i]]);

  let assignVendorRef: CompiledTemplate | undefined;
  let scope: Scope = { ...baseScope, steps: {} };
  if (assignSource !== undefined) {
    assignVendorRef = problems.at(() => templateAt([...path, "assignVendorRef"], assignSource));
    problems.at(() => validator.template([...path, "assignVendorRef"], assignVendorRef, scope));
    scope = { ...scope, vendorRef: true };
  }

  const steps: CompiledStep[] = [];
  const seen = new Set<string>();
  for (const [index, [stepSpec, stepPath]] of stepSpecs.entries()) {
    if (stepSpec.name !== undefined) {
      if (seen.has(stepSpec.name)) {
        problems.list.push(new LocatedError([...stepPath, "name"], `duplicate step name ${stepSpec.name}`));
      }
      seen.add(stepSpec.name);
    }
    const when = problems.at(() =>
      stepSpec.when === undefined ? undefined : templateAt([...stepPath, "when"], stepSpec.when),
    );
    problems.at(() => validator.template([...stepPath, "when"], when, scope, true));
    // Validate the request only with the samples for which `when` holds.
    const request = compileRequest(stepSpec, stepPath, scope, cc, false);
    if (request) problems.at(() => validateRequestTemplates(validator, request, scope, when));
    const job =
      stepSpec.job === undefined ? undefined : compileJob(stepSpec.job, [...stepPath, "job"], scope, cc);
    let items: CompiledStep["items"];
    if (stepSpec.items !== undefined) {
      const itemsSpec = stepSpec.items;
      const itemsPath = [...stepPath, "items"];
      items = problems.at(() => ({
        path: jsonPathAt([...itemsPath, "path"], itemsSpec.path),
        vendorRef: compileExtractor(itemsSpec.vendorRef, [...itemsPath, "vendorRef"]),
      }));
      if (items)
        problems.at(() =>
          validator.extractor([...itemsPath, "vendorRef"], items?.vendorRef, {
            ...scope,
            item: true,
            itemKey: true,
          }),
        );
    }
    if (request) {
      const step: CompiledStep = { ...request, index };
      steps.push(
        Object.assign(
          step,
          stepSpec.name === undefined ? {} : { name: stepSpec.name },
          when === undefined ? {} : { when },
          job === undefined ? {} : { job },
          items === undefined ? {} : { items },
        ),
      );
    }
    if (stepSpec.name !== undefined) {
      scope = { ...scope, steps: { ...scope.steps, [stepSpec.name]: Object.keys(stepSpec.extract ?? {}) } };
    }
  }

  let vendorRef: CompiledExtractor | undefined;
  if (vendorRefSpec !== undefined) {
    vendorRef = problems.at(() => compileExtractor(vendorRefSpec, [...path, "vendorRef"]));
    problems.at(() => validator.extractor([...path, "vendorRef"], vendorRef, scope));
  }
  const object =
    objectPath === undefined ? undefined : problems.at(() => jsonPathAt([...path, "object"], objectPath));
  if (steps.length !== stepSpecs.length) return undefined;
  const op: CompiledOperation = { name, docPath: path, steps };
  return Object.assign(
    op,
    assignVendorRef === undefined ? {} : { assignVendorRef },
    vendorRef === undefined ? {} : { vendorRef },
    object === undefined ? {} : { object },
  );
}

function validateRequestTemplates(
  validator: Validator,
  request: CompiledRequest,
  scope: Scope,
  when: CompiledTemplate | undefined,
): void {
  const path = request.docPath;
  for (const ctx of sampleContexts(scope, validator.inputs)) {
    if (!validator.whenHolds(when, ctx)) continue;
    const check = (at: DocPath, fn: () => unknown) => {
      try {
        fn();
      } catch (error) {
        const templateError = error instanceof StructureError ? error.templateError : error;
        const where = error instanceof StructureError ? error.path : at;
        if (templateError instanceof TemplateError) {
          if (templateError.refusal) return;
          throw new LocatedError(where, `template error: ${templateError.message}`);
        }
        throw error;
      }
    };
    check([...path, "path"], () => request.path.evaluate(ctx, { validation: true }));
    for (const [key, value] of request.query) {
      check([...path, "query", key], () =>
        renderStructure(value, ctx, { validation: true }, [...path, "query", key]),
      );
    }
    for (const [name, value] of request.headers) {
      check([...path, "headers", name], () => value.evaluate(ctx, { validation: true }));
    }
    if (request.body) {
      const body = request.body;
      check([...path, "body"], () => renderStructure(body, ctx, { validation: true }, [...path, "body"]));
    }
  }
}

function operationScope(kind: ResourceKind, op: OperationName, ruleNumbers: boolean): Scope {
  const base: Scope = { kind, steps: {} };
  switch (op) {
    case "create":
      return { ...base, rule: true, marker: true, ruleNumber: ruleNumbers };
    case "update":
      return { ...base, rule: true, marker: true, ruleNumber: ruleNumbers, vendorRef: true };
    case "get":
    case "delete":
      return { ...base, vendorRef: true };
    case "move":
      return { ...base, vendorRef: true, position: true };
    case "findByMarker":
      return { ...base, marker: true };
    case "list":
      return base;
  }
}

const OPERATION_ORDER: OperationName[] = [
  "create",
  "get",
  "list",
  "update",
  "delete",
  "move",
  "findByMarker",
];

function compileResource(
  kind: ResourceKind,
  spec: ResourceSpec,
  path: DocPath,
  cc: CompileContext,
  ruleNumbers: boolean,
): CompiledResource | undefined {
  const { problems, validator } = cc;
  const itemScope: Scope = { kind, item: true, vendorRef: true, steps: {} };
  const ownershipField = problems.at(() => templateAt([...path, "ownership", "field"], spec.ownership.field));
  problems.at(() => validator.template([...path, "ownership", "field"], ownershipField, itemScope));
  const normalize = problems.at(() => {
    try {
      return compileStructure(spec.normalize, "none", [...path, "normalize"]);
    } catch (error) {
      if (error instanceof StructureError)
        throw new LocatedError(error.path, `template error: ${error.message}`);
      throw error;
    }
  });
  if (normalize) {
    for (const [at, template] of structureTemplates(normalize, [...path, "normalize"])) {
      problems.at(() => validator.template(at, template, itemScope));
    }
  }
  const reverse = compileImportSection(kind, spec, normalize, path, cc, itemScope);
  const operations: Partial<Record<OperationName, CompiledOperation>> = {};
  const opsSpec = spec.operations as OperationsSpec;
  for (const name of OPERATION_ORDER) {
    const opSpec = opsSpec[name];
    if (opSpec === undefined) continue;
    const opPath = [...path, "operations", name];
    const compiled = compileOperation(
      name,
      opSpec as OperationSpecLike,
      opPath,
      operationScope(kind, name, ruleNumbers),
      cc,
    );
    if (compiled) {
      operations[name] = compiled;
      if (name === "list" || name === "findByMarker") checkListItems(opSpec as OperationSpecLike, opPath, cc);
    }
  }
  if (!ownershipField || !normalize) return undefined;
  const { create, get, list, update, delete: del } = operations;
  if (!create || !get || !list || !update || !del) return undefined;
  return {
    kind,
    ownershipField,
    normalize,
    ...(reverse ? { reverse } : {}),
    operations: { ...operations, create, get, list, update, delete: del },
  };
}

function compileImportSection(
  kind: ResourceKind,
  spec: ResourceSpec,
  normalize: CompiledStructure | undefined,
  path: DocPath,
  cc: CompileContext,
  itemScope: Scope,
): CompiledImport | undefined {
  if (spec.import === undefined || !normalize) return undefined;
  const normalizeKeys = normalize.kind === "map" ? normalize.entries.map(([key]) => key) : [];
  const reverse = compileReverse(kind, spec.import, normalizeKeys, [...path, "import"]);
  cc.problems.list.push(...reverse.problems);
  for (const [at, template, condition] of reverse.templates) {
    cc.problems.at(() => cc.validator.template(at, template, itemScope, condition));
  }
  return reverse.problems.length === 0 ? reverse.compiled : undefined;
}

/** A list's items: from the inline `items` shorthand (compiled with its step) or on the steps. */
function checkListItems(spec: OperationSpecLike, path: DocPath, cc: CompileContext): void {
  if (spec.items !== undefined && spec.steps !== undefined) {
    cc.problems.list.push(new LocatedError([...path, "items"], "with `steps`, declare `items` on the steps"));
    return;
  }
  if (spec.items === undefined && !(spec.steps ?? []).some((s) => s.items !== undefined)) {
    cc.problems.list.push(
      new LocatedError(path, "a list operation needs `items` (where the objects are in the response)"),
    );
  }
}

function compileInject(
  spec: { headers?: Record<string, string>; query?: Record<string, string>; form?: Record<string, string> },
  path: DocPath,
  scope: Scope,
  cc: CompileContext,
): CompiledInject {
  const out: CompiledInject = { headers: [], query: [], form: [] };
  for (const part of ["headers", "query", "form"] as const) {
    for (const [name, source] of Object.entries(spec[part] ?? {})) {
      const compiled = cc.problems.at(() => templateAt([...path, part, name], source));
      if (compiled) {
        cc.problems.at(() => cc.validator.template([...path, part, name], compiled, scope));
        out[part].push([name, compiled]);
      }
    }
  }
  return out;
}

function compileAuth(spec: AuthSpec, cc: CompileContext): CompiledAuth | undefined {
  const path: DocPath = ["auth"];
  const scope: Scope = { credentials: true, steps: {} };
  const tpl = (key: string, source: string) => {
    const compiled = cc.problems.at(() => templateAt([...path, key], source));
    cc.problems.at(() => cc.validator.template([...path, key], compiled, scope));
    return compiled;
  };
  switch (spec.type) {
    case "none":
      return { type: "none" };
    case "basic": {
      const username = tpl("username", spec.username);
      const password = tpl("password", spec.password);
      return username && password ? { type: "basic", username, password } : undefined;
    }
    case "bearer": {
      const token = tpl("token", spec.token);
      return token ? { type: "bearer", token, header: spec.header, scheme: spec.scheme } : undefined;
    }
    case "apiKeyHeader": {
      const value = tpl("value", spec.value);
      return value ? { type: "apiKeyHeader", header: spec.header, value } : undefined;
    }
    case "apiKeyQuery": {
      const value = tpl("value", spec.value);
      return value ? { type: "apiKeyQuery", param: spec.param, value } : undefined;
    }
    case "apiKeyForm": {
      const value = tpl("value", spec.value);
      return value ? { type: "apiKeyForm", field: spec.field, value } : undefined;
    }
    case "session": {
      const login = compileRequest(spec.login, [...path, "login"], scope, cc);
      const token = cc.problems.at(() => compileExtractor(spec.token, [...path, "token"]));
      const expiresIn = cc.problems.at(() =>
        spec.expiresIn === undefined ? undefined : compileExtractor(spec.expiresIn, [...path, "expiresIn"]),
      );
      cc.problems.at(() => cc.validator.extractor([...path, "token"], token, scope));
      const use = compileInject(
        spec.use,
        [...path, "use"],
        { session: true, credentials: true, steps: {} },
        cc,
      );
      if (use.headers.length + use.query.length + use.form.length === 0) {
        cc.problems.list.push(
          new LocatedError([...path, "use"], "say how the token is sent (headers, query or form)"),
        );
      }
      if (!login || !token) return undefined;
      const auth: CompiledAuth = {
        type: "session",
        login,
        token,
        ttlSeconds: spec.ttlSeconds,
        use,
        renewOn: spec.renewOn,
      };
      if (expiresIn) auth.expiresIn = expiresIn;
      return auth;
    }
  }
}

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
  const activation =
    spec.activation === undefined
      ? undefined
      : compileOperation("activation", { steps: spec.activation.steps }, ["activation"], { steps: {} }, cc);
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
  );
}
