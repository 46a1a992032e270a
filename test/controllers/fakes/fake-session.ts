// A fake device session for reconciler tests: an in-memory appliance (objects by vendorRef, with the
// rule's marker and spec) behind the controllers' port, a call log, and scripted answers — the next
// call of a verb can throw a VnfError (any of the ten codes, with a Retry-After) or return what the
// test says. What a dictionary renders is reduced to its essence: the opHash is a hash of the spec and
// rule number, and an object differs from a request when their specs differ.
import { createHash } from "node:crypto";
import type { ObservedObject, RuleKind, RuleRequest } from "../../../src/controllers/ports.ts";
import type { ActivationState, ManagedSession } from "../../../src/controllers/session-registry.ts";
import { type ErrorCode, VnfError } from "../../../src/dictionary/errors.ts";

export type Verb = "create" | "get" | "findByMarker" | "list" | "update" | "delete" | "activate" | "health";

/**
 * A scripted answer: an error to throw, a value to return (get/findByMarker/list/health), or "hang":
 * the call stays in flight until the caller's signal aborts (then it rejects with the signal's reason).
 */
export type Answer = VnfError | { value: unknown } | "hang";

export interface ApplianceObject extends ObservedObject {
  kind: RuleKind;
}

export function vnfError(
  code: ErrorCode,
  options: { retryAfterMs?: number; notFound?: boolean } = {},
): VnfError {
  return new VnfError(code, `injected ${code}`, options);
}

export class FakeSession implements ManagedSession {
  epoch: string;
  kinds: readonly RuleKind[] = ["firewallRule", "natRule"];
  ruleNumbers?: { min: number; max: number };
  /** Set to make desiredOpHash refuse to render (BROKER_INVALID_REQUEST). */
  renderError: string | undefined;
  readonly calls: string[] = [];
  /** Calls made after the caller's signal had aborted (refused: nothing sent). */
  readonly refused: string[] = [];
  readonly objects = new Map<string, ApplianceObject>();
  /** The health answer when nothing is scripted. */
  health_ = { version: "1.2.3", serial: "SN-1" };
  /** What the session says of activations (set it to model a dictionary with activation steps). */
  activation?: () => ActivationState;
  closed = false;
  readonly #script = new Map<Verb, Answer[]>();
  #nextId = 100;

  constructor(epoch = "1/10") {
    this.epoch = epoch;
  }

  /** Queues answers for the next calls of `verb` (after them, the in-memory appliance answers). */
  script(verb: Verb, ...answers: Answer[]): this {
    this.#script.set(verb, [...(this.#script.get(verb) ?? []), ...answers]);
    return this;
  }

  /** Puts an object on the appliance as if created earlier (or by hand); returns its vendorRef. */
  put(
    kind: RuleKind,
    request: { spec: unknown; marker?: string },
    vendorRef = String(this.#nextId++),
  ): string {
    this.objects.set(vendorRef, {
      kind,
      vendorRef,
      ...(request.marker === undefined ? {} : { marker: request.marker }),
      normalized: structuredClone(request.spec) as Record<string, unknown>,
    });
    return vendorRef;
  }

  desiredOpHash(_kind: RuleKind, request: RuleRequest): string {
    if (this.renderError !== undefined) throw new VnfError("BROKER_INVALID_REQUEST", this.renderError);
    return opHashOf(request);
  }

  differences(_kind: RuleKind, request: RuleRequest, object: ObservedObject): string[] {
    return JSON.stringify(stripCrdOnly(request.spec)) === JSON.stringify(stripCrdOnly(object.normalized))
      ? []
      : ["spec"];
  }

  async create(kind: RuleKind, request: RuleRequest, signal?: AbortSignal): Promise<{ vendorRef: string }> {
    this.#log(signal, "create", kind);
    await this.#scripted("create", signal);
    return { vendorRef: this.put(kind, request) };
  }

  async get(kind: RuleKind, vendorRef: string, signal?: AbortSignal): Promise<ObservedObject | undefined> {
    this.#log(signal, "get", kind, vendorRef);
    const answer = await this.#scripted("get", signal);
    if (answer) return answer.value as ObservedObject | undefined;
    const object = this.objects.get(vendorRef);
    return object?.kind === kind ? observed(object) : undefined;
  }

  async findByMarker(
    kind: RuleKind,
    markers: readonly string[],
    signal?: AbortSignal,
  ): Promise<ObservedObject | undefined> {
    this.#log(signal, "findByMarker", kind);
    const answer = await this.#scripted("findByMarker", signal);
    if (answer) return answer.value as ObservedObject | undefined;
    const found = [...this.objects.values()].filter(
      (o) => o.kind === kind && o.marker !== undefined && markers.includes(o.marker),
    );
    if (found.length > 1)
      throw new VnfError("VNF_CONFLICT", `${found.length} objects carry marker ${markers.join(" or ")}`);
    return found[0] ? observed(found[0]) : undefined;
  }

  async list(kind: RuleKind, signal?: AbortSignal): Promise<ObservedObject[]> {
    this.#log(signal, "list", kind);
    const answer = await this.#scripted("list", signal);
    if (answer) return answer.value as ObservedObject[];
    return [...this.objects.values()].filter((o) => o.kind === kind).map(observed);
  }

  async update(
    kind: RuleKind,
    vendorRef: string,
    request: RuleRequest,
    signal?: AbortSignal,
  ): Promise<{ vendorRef: string }> {
    this.#log(signal, "update", kind, vendorRef);
    await this.#scripted("update", signal);
    const object = this.objects.get(vendorRef);
    if (object?.kind !== kind) {
      throw new VnfError("VNF_CONFLICT", `object ${vendorRef} does not exist`, { notFound: true });
    }
    this.put(kind, request, vendorRef);
    return { vendorRef };
  }

  async delete(kind: RuleKind, vendorRef: string, signal?: AbortSignal): Promise<void> {
    this.#log(signal, "delete", kind, vendorRef);
    await this.#scripted("delete", signal);
    this.objects.delete(vendorRef);
  }

  async activate(signal?: AbortSignal): Promise<void> {
    this.#log(signal, "activate");
    await this.#scripted("activate", signal);
  }

  async health(signal?: AbortSignal): Promise<{ version?: string; serial?: string }> {
    this.#log(signal, "health");
    const answer = await this.#scripted("health", signal);
    return answer ? (answer.value as { version?: string; serial?: string }) : this.health_;
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  /** Throws the next scripted error of `verb`, or returns its scripted value (undefined: none left). */
  async #scripted(verb: Verb, signal: AbortSignal | undefined): Promise<{ value: unknown } | undefined> {
    const answer = this.#script.get(verb)?.shift();
    if (answer === "hang") {
      if (!signal) throw new Error(`FakeSession: ${verb} would hang forever without a signal`);
      await new Promise((_, reject) => {
        signal.addEventListener("abort", () => reject(signal.reason), { once: true });
      });
    }
    if (answer instanceof Error) throw answer;
    return answer === "hang" ? undefined : answer;
  }

  /** Logs a call. One whose signal already aborted is refused before anything is sent, as a real session does. */
  #log(signal: AbortSignal | undefined, verb: Verb, kind?: RuleKind, vendorRef?: string): void {
    if (signal?.aborted) {
      this.refused.push(verb);
      throw signal.reason;
    }
    this.calls.push([verb, kind, vendorRef].filter((x) => x !== undefined).join(" "));
  }
}

export function opHashOf(request: RuleRequest): string {
  return createHash("sha256")
    .update(JSON.stringify({ spec: stripCrdOnly(request.spec), ruleNumber: request.ruleNumber }))
    .digest("hex");
}

/** The spec as the appliance sees it: without the CRD-only fields. */
function stripCrdOnly(spec: unknown): unknown {
  if (spec === null || typeof spec !== "object") return spec;
  const { deviceRef: _d, deletionPolicy: _p, ...rest } = spec as Record<string, unknown>;
  return rest;
}

function observed(object: ApplianceObject): ObservedObject {
  return {
    vendorRef: object.vendorRef,
    ...(object.marker === undefined ? {} : { marker: object.marker }),
    normalized: object.normalized,
    ...(object.importable === undefined ? {} : { importable: object.importable }),
  };
}
