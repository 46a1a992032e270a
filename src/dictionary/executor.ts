// Runs a compiled operation: for each step, render → send (through a Transport: the session adds
// auth, limits and HTTP) → parse → notFound / success / error mapping → extraction → job polling →
// items. Vendor knowledge lives only in the dictionary; this file is the same for every vendor.

import { untilAborted } from "../runtime/abort.ts";
import { applianceText, rawBodyForLog } from "./appliance-text.ts";
import type {
  CompiledDictionary,
  CompiledExtractor,
  CompiledJob,
  CompiledOperation,
  CompiledStep,
} from "./compiled.ts";
import { extractValue, mapResponseError } from "./error-mapping.ts";
import { VnfError } from "./errors.ts";
import { queryEntries, queryFirst } from "./jsonpath.ts";
import { type CompiledPredicate, type ResponseView, statusMatches } from "./predicates.ts";
import { type RenderedRequest, renderRequest } from "./render.ts";
import { parseBody } from "./response.ts";
import { markerToken, type ResourceKind, type RuleSpec } from "./rule-input.ts";
import { StructureError } from "./structure.ts";
import { OMIT, Placeholder, TemplateError } from "./templates.ts";

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  text: string;
}

/** Sends one rendered request. Transport failures are thrown as VnfError (VNF_UNREACHABLE...). */
export interface Transport {
  send(request: RenderedRequest): Promise<RawResponse>;
  /** The caller's cancellation: waits between requests (a job's poll interval) end when it aborts. */
  signal?: AbortSignal;
}

export interface Position {
  where: "top" | "bottom" | "before" | "after";
  /** The vendorRef of the rule to move before/after. */
  pivot?: string;
  /** Numbered ordering: the rule's new number. */
  number?: number;
  /** A create placed after `pivot`: the object that should follow it (numbered appliances fit between). */
  next?: string;
}

/** What the caller knows about the rule an operation is about. */
export interface OperationInput {
  /** The canonical rule (CRD spec with defaults): create and update. */
  rule?: RuleSpec;
  /** The owner id written as the ownership marker: create, update, findByMarker. */
  marker?: string;
  vendorRef?: string;
  /** The client-allocated rule number, for dictionaries that declare `ruleNumbers`. */
  ruleNumber?: number;
  position?: Position;
}

export interface ListedItem {
  vendorRef: string;
  raw: unknown;
}

export interface OperationResult {
  /** The addressed object does not exist (a step's notFound matched, or get's object path found nothing). */
  absent: boolean;
  /** Named step outputs. */
  steps: Record<string, Record<string, unknown>>;
  /** Every step's extracted values merged (later steps win): health's version and serial. */
  outputs: Record<string, unknown>;
  /** The last response. */
  last?: ResponseView;
  items: ListedItem[];
  vendorRef?: string;
  object?: unknown;
  jobs: string[];
}

export interface ExecutorOptions {
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

/** How many times an operation starts over when a step finds its object moved (`moved`). */
export const MOVED_RESTARTS = 3;

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The declared parameters with their defaults; refuses missing required and malformed values. */
export function resolveParameters(
  dictionary: CompiledDictionary,
  given: Record<string, string> = {},
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, spec] of Object.entries(dictionary.parameters)) {
    const value = given[name] ?? spec.default;
    if (value === undefined) {
      if (spec.required) {
        throw new VnfError(
          "BROKER_INVALID_REQUEST",
          `device parameter ${name} is required by dictionary ${dictionary.name}`,
        );
      }
      continue;
    }
    if (spec.pattern !== undefined && !new RegExp(spec.pattern).test(value)) {
      throw new VnfError("BROKER_INVALID_REQUEST", `device parameter ${name} does not match ${spec.pattern}`);
    }
    out[name] = value;
  }
  return out;
}

function asInvalidRequest(error: unknown, label: string): unknown {
  if (error instanceof StructureError || error instanceof TemplateError) {
    return new VnfError("BROKER_INVALID_REQUEST", `${label}: ${error.message}`);
  }
  if (error instanceof Error && error.name === "TemplateRefusal") {
    return new VnfError("BROKER_INVALID_REQUEST", `${label}: ${error.message}`);
  }
  return error;
}

function truthy(value: unknown): boolean {
  if (Array.isArray(value)) return value.length > 0;
  return Boolean(value) && value !== OMIT;
}

function refText(value: unknown): string | undefined {
  if (value === undefined || value === null || value === OMIT) return undefined;
  if (typeof value === "string") return value === "" ? undefined : value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return undefined;
}

export class Executor {
  readonly dictionary: CompiledDictionary;
  readonly parameters: Record<string, string>;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => number;

  constructor(
    dictionary: CompiledDictionary,
    parameters: Record<string, string>,
    options: ExecutorOptions = {},
  ) {
    this.dictionary = dictionary;
    this.parameters = parameters;
    this.sleep = options.sleep ?? defaultSleep;
    this.now = options.now ?? Date.now;
  }

  /** The template context of an operation. */
  context(kind: ResourceKind | undefined, input: OperationInput = {}): Record<string, unknown> {
    const ctx: Record<string, unknown> = {
      device: { parameters: { ...this.parameters } },
      steps: {},
      __valueMaps: this.dictionary.valueMaps,
      __reverseValueMaps: this.dictionary.reverseValueMaps,
    };
    if (kind !== undefined) ctx.kind = kind;
    if (input.rule !== undefined) ctx.rule = input.rule;
    if (input.marker !== undefined) {
      ctx.marker = markerToken(input.marker);
      ctx.markerId = input.marker;
    }
    if (input.vendorRef !== undefined) ctx.vendorRef = input.vendorRef;
    if (input.ruleNumber !== undefined) ctx.ruleNumber = input.ruleNumber;
    if (input.position !== undefined) ctx.position = input.position;
    return ctx;
  }

  /** Renders the requests an operation would send, with `{steps.x.y}` placeholders for step outputs. */
  renderOffline(op: CompiledOperation, ctx: Record<string, unknown>, labelPrefix: string): RenderedRequest[] {
    const context = { ...ctx, steps: {} as Record<string, Record<string, unknown>> };
    this.assignVendorRef(op, context, labelPrefix);
    const out: RenderedRequest[] = [];
    for (const step of op.steps) {
      const label = stepLabel(labelPrefix, op, step);
      try {
        if (step.when && !truthy(step.when.evaluate(context, { allowUndefined: true }))) continue;
        out.push(renderRequest(this.dictionary, step, context, label));
      } catch (error) {
        throw asInvalidRequest(error, label);
      }
      if (step.name) {
        const steps = context.steps as Record<string, Record<string, unknown>>;
        steps[step.name] = Object.fromEntries(
          step.extract.map(([key]) => [key, new Placeholder(`steps.${step.name}.${key}`)]),
        );
      }
    }
    return out;
  }

  private assignVendorRef(op: CompiledOperation, ctx: Record<string, unknown>, label: string): void {
    if (!op.assignVendorRef) return;
    let value: unknown;
    try {
      value = op.assignVendorRef.evaluate(ctx);
    } catch (error) {
      throw asInvalidRequest(error, `${label} assignVendorRef`);
    }
    const ref = refText(value);
    if (ref === undefined)
      throw new VnfError("BROKER_INVALID_REQUEST", `${label}: assignVendorRef rendered empty`);
    ctx.vendorRef = ref;
  }

  /**
   * Runs every step of an operation through the transport. A step whose `moved` predicate holds (the
   * object is no longer where an earlier step found it: another client's write shifted an index in
   * between) starts the operation over, at most MOVED_RESTARTS times.
   */
  async run(
    op: CompiledOperation,
    ctx: Record<string, unknown>,
    transport: Transport,
    labelPrefix: string,
  ): Promise<OperationResult> {
    for (let restarts = 0; ; restarts++) {
      const outcome = await this.attempt(op, ctx, transport, labelPrefix);
      if (outcome !== "moved") return outcome;
      if (restarts >= MOVED_RESTARTS) {
        throw new VnfError(
          "VNF_CAPACITY",
          `${labelPrefix}: the object moved under other clients' writes ${restarts + 1} times between looking it up and writing it`,
        );
      }
    }
  }

  private async attempt(
    op: CompiledOperation,
    ctx: Record<string, unknown>,
    transport: Transport,
    labelPrefix: string,
  ): Promise<OperationResult | "moved"> {
    // Steps given in the context (a safe apply's prepare outputs) are seen as if run before.
    const steps: Record<string, Record<string, unknown>> = {
      ...((ctx.steps as Record<string, Record<string, unknown>> | undefined) ?? {}),
    };
    const context: Record<string, unknown> = { ...ctx, steps };
    this.assignVendorRef(op, context, labelPrefix);
    const result: OperationResult = { absent: false, steps, outputs: {}, items: [], jobs: [] };

    for (const step of op.steps) {
      const label = stepLabel(labelPrefix, op, step);
      if (step.when) {
        let holds: boolean;
        try {
          holds = truthy(step.when.evaluate(context, { allowUndefined: true }));
        } catch (error) {
          throw asInvalidRequest(error, `${label} when`);
        }
        if (!holds) continue;
      }
      const outcome = await this.exchange(step, context, transport, label);
      if (outcome === "moved") return "moved";
      if (outcome === "absent") {
        result.absent = true;
        return result;
      }
      const view = outcome;
      result.last = view;
      const outputs: Record<string, unknown> = {};
      for (const [name, extractor] of step.extract) {
        outputs[name] = this.required(extractor, view, context, `${label}: extract.${name}`);
      }
      if (step.name) steps[step.name] = outputs;
      Object.assign(result.outputs, outputs);
      if (step.job) {
        const id = refText(this.optional(step.job.id, view, context));
        if (id !== undefined) {
          result.jobs.push(id);
          await this.waitForJob(step.job, id, context, transport, label);
        }
      }
      if (step.items) {
        for (const { key, value: item } of queryEntries(step.items.path, view.body)) {
          const vendorRef = refText(this.itemValue(step.items.vendorRef, item, { ...context, itemKey: key }));
          // Items without a vendorRef are not addressable (e.g. objects without our marker).
          if (vendorRef !== undefined) result.items.push({ vendorRef, raw: item });
        }
      }
    }

    if (op.name === "update" && op.vendorRef) {
      // An update that moves the object (a VyOS renumber) says where it is now.
      result.vendorRef = refText(result.last ? this.optional(op.vendorRef, result.last, context) : undefined);
    }
    if (op.name === "create") {
      const ref = op.vendorRef
        ? refText(result.last ? this.optional(op.vendorRef, result.last, context) : undefined)
        : refText(context.vendorRef);
      if (ref === undefined) {
        throw new VnfError(
          "VNF_UPSTREAM",
          `${labelPrefix}: the response carries no vendorRef (${op.vendorRef?.describe ?? "assignVendorRef"})`,
        );
      }
      result.vendorRef = ref;
    }
    if (op.name === "update" && op.vendorRefAfter) {
      // An update that renamed the object (a vendorRef made of the marker it rewrote) says its name.
      let ref: string | undefined;
      try {
        ref = refText(op.vendorRefAfter.evaluate(context));
      } catch (error) {
        throw asInvalidRequest(error, `${labelPrefix} vendorRefAfter`);
      }
      if (ref !== undefined) result.vendorRef = ref;
    }
    if (op.name === "get") {
      const object = op.object ? queryFirst(op.object, result.last?.body) : result.last?.body;
      if (object === undefined || object === null) result.absent = true;
      else result.object = object;
    }
    return result;
  }

  /** One request/response exchange with the appliance: the parsed response, "absent" or "moved". */
  private async exchange(
    step: CompiledStep | CompiledJob["poll"],
    context: Record<string, unknown>,
    transport: Transport,
    label: string,
  ): Promise<ResponseView | "absent" | "moved"> {
    let rendered: RenderedRequest;
    try {
      rendered = renderRequest(this.dictionary, step, context, label);
    } catch (error) {
      throw asInvalidRequest(error, label);
    }
    const raw = await transport.send(rendered);
    const parsed = parseBody(raw.text, step.responseFormat, {
      xmlLists: this.dictionary.connection.xmlLists,
    });
    const view: ResponseView = { status: raw.status, headers: raw.headers, body: parsed.value };
    const testSafe = (p: CompiledPredicate) => {
      try {
        return p.test(view, context);
      } catch {
        return false;
      }
    };
    if ("moved" in step && step.moved && testSafe(step.moved)) return "moved";
    if (step.notFound && testSafe(step.notFound)) return "absent";
    const success = step.success ? testSafe(step.success) : statusMatches(raw.status, "2xx");
    if (success && parsed.parseError !== undefined) {
      // Neither the body nor the parser's message (which quotes the body) goes into the message.
      throw new VnfError(
        "VNF_UPSTREAM",
        `${label}: HTTP ${raw.status} with a body that is not ${step.responseFormat.toUpperCase()} (logged at debug level)`,
        { httpStatus: raw.status, responseBody: `${parsed.parseError}: ${rawBodyForLog(raw.text)}` },
      );
    }
    if (!success) {
      throw mapResponseError({
        response: view,
        rules: [...step.errors, ...this.dictionary.errors],
        context,
        label,
        now: this.now(),
        rawText: raw.text,
      });
    }
    return view;
  }

  private async waitForJob(
    job: CompiledJob,
    id: string,
    context: Record<string, unknown>,
    transport: Transport,
    label: string,
  ): Promise<void> {
    const deadline = this.now() + job.timeoutMs;
    const pollContext = { ...context, job: { id } };
    for (;;) {
      await untilAborted(this.sleep(job.intervalMs), transport.signal);
      const view = await this.exchange(job.poll, pollContext, transport, `${label} job ${id}`);
      if (view === "absent" || view === "moved")
        throw new VnfError("VNF_UPSTREAM", `${label}: job ${id} disappeared`);
      if (job.failed?.test(view, pollContext)) {
        const message = job.message
          ? applianceText(refText(this.optional(job.message, view, pollContext)))
          : undefined;
        const options =
          message === undefined
            ? { httpStatus: view.status }
            : { httpStatus: view.status, vendorMessage: message };
        throw new VnfError(
          job.failureCode,
          `${label}: job ${id} failed${message ? `: ${message}` : ""}`,
          options,
        );
      }
      if (job.done.test(view, pollContext)) return;
      if (this.now() >= deadline) {
        throw new VnfError("VNF_TIMEOUT", `${label}: job ${id} not done after ${job.timeoutMs} ms`);
      }
    }
  }

  private optional(
    extractor: CompiledExtractor,
    view: ResponseView,
    context: Record<string, unknown>,
  ): unknown {
    try {
      const value = extractValue(extractor, view, context);
      return value === OMIT ? undefined : value;
    } catch {
      return undefined;
    }
  }

  private required(
    extractor: CompiledExtractor,
    view: ResponseView,
    context: Record<string, unknown>,
    what: string,
  ): unknown {
    const value = this.optional(extractor, view, context);
    if ((value === undefined || value === null) && !extractor.optional) {
      throw new VnfError("VNF_UPSTREAM", `${what}: the response has nothing at ${extractor.describe}`, {
        httpStatus: view.status,
      });
    }
    return value;
  }

  /** An item's value: a JSONPath relative to the item, or a template over `item`. */
  private itemValue(extractor: CompiledExtractor, item: unknown, context: Record<string, unknown>): unknown {
    try {
      if (extractor.path !== undefined) return queryFirst(extractor.path, item);
      const value = extractor.template?.evaluate({ ...context, item }, { allowUndefined: true });
      return value === OMIT ? undefined : value;
    } catch {
      return undefined;
    }
  }
}

function stepLabel(prefix: string, op: CompiledOperation, step: CompiledStep): string {
  if (op.steps.length === 1) return prefix;
  return `${prefix} step ${step.name ?? step.index + 1}`;
}
