// Requests, asynchronous jobs and operations (a request or a sequence of named steps): compiled, and
// their templates checked against the samples of the operation's scope (a step's `when` decides which
// samples its request is checked with).

import {
  type CompileContext,
  compileErrorRules,
  compileExtractor,
  compilePredicateAt,
  jsonPathAt,
  templateAt,
  type Validator,
} from "./compile-context.ts";
import type {
  BodyFormat,
  CompiledExtractor,
  CompiledJob,
  CompiledOperation,
  CompiledRequest,
  CompiledStep,
} from "./compiled.ts";
import { type DocPath, LocatedError } from "./located.ts";
import { compilePredicate } from "./predicates.ts";
import { type Scope, sampleContexts } from "./samples.ts";
import type { Extractor, JobSpec, StepSpec } from "./schema.ts";
import { type CompiledStructure, compileStructure, renderStructure, StructureError } from "./structure.ts";
import { type CompiledTemplate, type Escaping, TemplateError } from "./templates.ts";

export type RequestSpecLike = Omit<StepSpec, "name" | "when" | "job" | "items" | "method" | "path"> & {
  method?: StepSpec["method"];
  path?: string;
};

export function compileRequest(
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

export function compileJob(
  spec: JobSpec,
  path: DocPath,
  scope: Scope,
  cc: CompileContext,
): CompiledJob | undefined {
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

export type OperationSpecLike = RequestSpecLike & {
  steps?: StepSpec[];
  when?: string;
  job?: JobSpec;
  items?: StepSpec["items"];
  assignVendorRef?: string;
  vendorRef?: Extractor;
  vendorRefAfter?: string;
  object?: string;
};

export function compileOperation(
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
    vendorRefAfter: afterSource,
    object: objectPath,
    ...requestPart
  } = spec;
  const stepSpecs: [StepSpec, DocPath][] = inline
    ? [[requestPart as StepSpec, path]]
    : (spec.steps ?? []).map((s, i) => [s, [...path, "steps", i]]);

  let assignVendorRef: CompiledTemplate | undefined;
  let scope: Scope = { ...baseScope, steps: { ...baseScope.steps } };
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
    const moved = problems.at(() => compilePredicateAt(stepSpec.moved, [...stepPath, "moved"]));
    problems.at(() => validator.predicate(moved, scope));
    if (request) {
      const step: CompiledStep = { ...request, index };
      steps.push(
        Object.assign(
          step,
          stepSpec.name === undefined ? {} : { name: stepSpec.name },
          when === undefined ? {} : { when },
          job === undefined ? {} : { job },
          items === undefined ? {} : { items },
          moved === undefined ? {} : { moved },
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
  let vendorRefAfter: CompiledTemplate | undefined;
  if (afterSource !== undefined) {
    vendorRefAfter = problems.at(() => templateAt([...path, "vendorRefAfter"], afterSource));
    problems.at(() => validator.template([...path, "vendorRefAfter"], vendorRefAfter, scope));
  }
  const object =
    objectPath === undefined ? undefined : problems.at(() => jsonPathAt([...path, "object"], objectPath));
  if (steps.length !== stepSpecs.length) return undefined;
  const op: CompiledOperation = { name, docPath: path, steps };
  return Object.assign(
    op,
    assignVendorRef === undefined ? {} : { assignVendorRef },
    vendorRef === undefined ? {} : { vendorRef },
    vendorRefAfter === undefined ? {} : { vendorRefAfter },
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
