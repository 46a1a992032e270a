// One ApplianceSession per VnfDevice: every appliance call of the operator goes through it. It runs
// the dictionary's operations through the device's channel (channel.ts: HTTP agent, credentials and
// token cache, concurrency and rate limits, the transport re-send). It is not the retry owner: an answer with an error code (429, 503, 500…) goes
// straight back to the caller — the controller, which requeues after the appliance's Retry-After or its
// backoff, without holding a worker. Only a short transport failure (a connection refused or reset
// before any answer) is re-sent within the call, a couple of times within a few hundred ms. Creates are
// never duplicated by that re-send: before it, and on a conflict, the session looks for an object
// carrying the rule's ownership marker and adopts it.

import { applianceText } from "../dictionary/appliance-text.ts";
import type {
  CompiledDictionary,
  CompiledOperation,
  CompiledResource,
  OperationName,
} from "../dictionary/compiled.ts";
import { VnfError } from "../dictionary/errors.ts";
import {
  Executor,
  type OperationInput,
  type OperationResult,
  type Position,
  resolveParameters,
} from "../dictionary/executor.ts";
import { type ApplianceObject, diffCanonical, normalizeItem } from "../dictionary/normalize.ts";
import { opHash } from "../dictionary/op-hash.ts";
import { numberOf, scopeOf } from "../dictionary/ordering.ts";
import { applyAuth, redactRequest } from "../dictionary/render.ts";
import { type Reversed, reverseObject } from "../dictionary/reverse.ts";
import type { ResourceKind, RuleSpec } from "../dictionary/rule-input.ts";
import { satisfies } from "../dictionary/semver.ts";
import { ActivationSteps } from "./activation-steps.ts";
import { DeviceChannel, type SessionLimits, type TransportRetry } from "./channel.ts";
import { findByMarker } from "./marker-search.ts";
import { type ApplianceMetrics, noopMetrics } from "./metrics.ts";
import { canonicalSpec, operationInput, operationOf, resourceOf } from "./operation-input.ts";
import type {
  ActivationResult,
  ApplianceSessionOptions,
  CreateResult,
  HealthResult,
  ListedObject,
  OrderingInfo,
  RenderedOperation,
  RenderInput,
  WriteInput,
} from "./session-types.ts";

export type {
  ActivationResult,
  ApplianceSessionOptions,
  CreateResult,
  HealthResult,
  ListedObject,
  OrderingInfo,
  RenderedOperation,
  WriteInput,
} from "./session-types.ts";

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class ApplianceSession {
  readonly dictionary: CompiledDictionary;
  readonly endpoint: string;
  private readonly executor: Executor;
  private readonly channel: DeviceChannel;
  private readonly metrics: ApplianceMetrics;
  private readonly vendor: string;
  /** Activation and safe apply (the savepoint a batch's prepare() took). */
  private readonly activationSteps: ActivationSteps;

  constructor(options: ApplianceSessionOptions) {
    const { dictionary } = options;
    this.dictionary = dictionary;
    this.endpoint = options.endpoint;
    const now = options.clock?.now ?? Date.now;
    const sleep = options.clock?.sleep ?? defaultSleep;
    const parameters = resolveParameters(dictionary, options.parameters ?? {});
    this.executor = new Executor(dictionary, parameters, { now, sleep });
    this.metrics = options.metrics ?? noopMetrics;
    this.vendor = options.vendorLabel ?? dictionary.vendor;
    this.channel = new DeviceChannel({
      dictionary,
      endpoint: options.endpoint,
      credentials: options.credentials,
      parameters,
      vendor: this.vendor,
      now,
      sleep,
      metrics: this.metrics,
      ...(options.tls ? { tls: options.tls } : {}),
      ...(options.limits ? { limits: options.limits } : {}),
      ...(options.transportRetry ? { transportRetry: options.transportRetry } : {}),
      ...(options.endpointGuard ? { endpointGuard: options.endpointGuard } : {}),
      ...(options.userAgent ? { userAgent: options.userAgent } : {}),
      ...(options.logger
        ? { logger: options.logger.child({ vendor: dictionary.vendor, dictionary: dictionary.name }) }
        : {}),
    });
    this.endpoint = this.channel.endpoint;
    this.activationSteps = new ActivationSteps({
      dictionary,
      executor: this.executor,
      channel: this.channel,
      metrics: this.metrics,
      vendor: this.vendor,
      health: (signal) => this.health(signal),
    });
  }

  /** Whether writes need activate() (the dictionary has activation steps). */
  get needsActivation(): boolean {
    return this.dictionary.activation !== undefined;
  }

  // ---- public operations ---------------------------------------------------------------------

  async health(signal?: AbortSignal): Promise<HealthResult> {
    const result = await this.channel.perform(
      "health",
      (transport) =>
        this.executor.run(this.dictionary.health, this.executor.context(undefined), transport, "health"),
      { signal },
    );
    const out: HealthResult = { outputs: result.outputs };
    const version = result.outputs.version;
    const serial = result.outputs.serial;
    if (version !== undefined && version !== null) {
      out.version = applianceText(String(version), 128) ?? "";
      out.compatible = satisfies(out.version, this.dictionary.firmwareRange);
    }
    if (serial !== undefined && serial !== null) out.serial = applianceText(String(serial), 128) ?? "";
    return out;
  }

  /** The requests an operation would send, offline (no login, no network). */
  render(kind: ResourceKind, operation: OperationName, input: RenderInput = {}): RenderedOperation {
    const op = this.operation(kind, operation);
    const ctx = this.executor.context(kind, this.operationInput(kind, input));
    const masked = this.channel.auth.maskedMaterial();
    const requests = this.executor
      .renderOffline(op, ctx, `${kind}.${operation}`)
      .map((request) => applyAuth(request, masked));
    return {
      kind,
      operation,
      requests,
      opHash: opHash({ requests }),
      redacted: () => requests.map(redactRequest),
    };
  }

  /** The opHash of the desired state: the create request(s) rendered offline (vendorRef-free). */
  desiredOpHash(kind: ResourceKind, input: WriteInput): string {
    // Where a create is placed is not part of what the rule is.
    const { position: _position, ...desired } = input;
    return this.render(kind, "create", desired).opHash;
  }

  /** How the dictionary orders this kind's rules, or undefined when it does not. */
  ordering(kind: ResourceKind): OrderingInfo | undefined {
    const resource = this.dictionary.resources[kind];
    if (!resource?.ordering) return undefined;
    const info: OrderingInfo = { movable: resource.operations.move !== undefined };
    if (resource.ordering.numbers) info.numbers = { ...resource.ordering.numbers };
    return info;
  }

  /** The ordering scope a rule spec belongs to ("" when the dictionary orders every rule together). */
  orderScope(kind: ResourceKind, spec: unknown): string {
    const resource = this.resource(kind);
    const canonical = this.canonical(kind, spec) as unknown as Record<string, unknown>;
    return scopeOf(resource, canonical, this.executor.context(kind));
  }

  /**
   * The rule fields on which an appliance object differs from the desired spec (empty: in sync).
   * Only the fields this dictionary can read back are compared.
   */
  differences(kind: ResourceKind, spec: unknown, normalized: Record<string, unknown>): string[] {
    return diffCanonical(kind, this.canonical(kind, spec) as unknown as Record<string, unknown>, normalized);
  }

  async create(kind: ResourceKind, input: WriteInput, signal?: AbortSignal): Promise<CreateResult> {
    const op = this.operation(kind, "create");
    const operationInput = this.operationInput(kind, input);
    const adopt = async (): Promise<CreateResult | undefined> => {
      const found = await this.findByMarker(kind, input.marker, signal);
      return found ? { vendorRef: found.vendorRef, adopted: true } : undefined;
    };
    try {
      return await this.channel.perform(
        `${kind}.create`,
        async (transport) => {
          const result = await this.executor.run(
            op,
            this.executor.context(kind, operationInput),
            transport,
            `${kind}.create`,
          );
          return { vendorRef: result.vendorRef as string, adopted: false };
        },
        // The previous attempt may have reached the appliance: never send the create twice.
        { beforeRetry: adopt, signal },
      );
    } catch (error) {
      if (error instanceof VnfError && error.code === "VNF_CONFLICT" && !signal?.aborted) {
        const adopted = await adopt().catch(() => undefined);
        if (adopted) return adopted;
      }
      throw error;
    }
  }

  async get(
    kind: ResourceKind,
    vendorRef: string,
    signal?: AbortSignal,
  ): Promise<ApplianceObject | undefined> {
    const resource = this.resource(kind);
    const op = this.operation(kind, "get");
    const ctx = this.executor.context(kind, { vendorRef });
    const result = await this.channel.perform(
      `${kind}.get`,
      (transport) => this.executor.run(op, ctx, transport, `${kind}.get`),
      { signal },
    );
    if (result.absent) return undefined;
    return normalizeItem(resource, vendorRef, result.object, this.executor.context(kind));
  }

  /**
   * The reverse mapping of a listed object (`vnf-operator import`): the spec of a rule that describes
   * it, or why no rule can. A dictionary without `import` for the kind says so.
   */
  reverse(kind: ResourceKind, object: ApplianceObject): Reversed {
    const reverse = this.resource(kind).reverse;
    if (!reverse) {
      return {
        ok: false,
        reason: `dictionary ${this.dictionary.name} has no reverse mapping for ${kind} (resources.${kind}.import)`,
        nameHint: "",
      };
    }
    return reverseObject(kind, reverse, object, this.executor.context(kind));
  }

  /** Every object of a kind, in the appliance's order (with scope and number when it orders rules). */
  async list(kind: ResourceKind, signal?: AbortSignal): Promise<ListedObject[]> {
    const resource = this.resource(kind);
    const op = this.operation(kind, "list");
    const result = await this.channel.perform(
      `${kind}.list`,
      (transport) => this.executor.run(op, this.executor.context(kind), transport, `${kind}.list`),
      { signal },
    );
    const ctx = this.executor.context(kind);
    return result.items.map((item) => {
      const object: ListedObject = normalizeItem(resource, item.vendorRef, item.raw, ctx);
      if (resource.ordering) {
        object.scope = scopeOf(resource, object.normalized, ctx);
        const number = numberOf(resource, item.vendorRef, item.raw, ctx);
        if (number !== undefined) object.number = number;
      }
      return object;
    });
  }

  /**
   * Updates the object; returns where it is afterwards: moved by a renumbering update (`vendorRef`),
   * or renamed when the dictionary's vendorRef is made of what the update rewrote (`vendorRefAfter`).
   */
  async update(
    kind: ResourceKind,
    vendorRef: string,
    input: WriteInput,
    signal?: AbortSignal,
  ): Promise<{ vendorRef: string }> {
    const op = this.operation(kind, "update");
    const { position: _position, ...desired } = input;
    const ctx = this.executor.context(kind, { ...this.operationInput(kind, desired), vendorRef });
    const result = await this.channel.perform(
      `${kind}.update`,
      (transport) => this.executor.run(op, ctx, transport, `${kind}.update`),
      { signal },
    );
    if (result.absent) {
      throw new VnfError(
        "VNF_CONFLICT",
        `${kind}.update: object ${vendorRef} does not exist on the appliance`,
        {
          notFound: true,
        },
      );
    }
    return { vendorRef: result.vendorRef ?? vendorRef };
  }

  /** The vendorRef an update of this request would leave the object at (a renumber), if it says. */
  updatedVendorRef(kind: ResourceKind, input: WriteInput): string | undefined {
    const op = this.operation(kind, "update");
    if (!op.vendorRef?.template) return undefined;
    const { position: _position, ...desired } = input;
    const ctx = this.executor.context(kind, this.operationInput(kind, desired));
    try {
      const value = op.vendorRef.template.evaluate({
        ...ctx,
        response: { status: 200, headers: {}, body: {} },
      });
      return value === undefined || value === null ? undefined : String(value);
    } catch {
      return undefined;
    }
  }

  /**
   * Deletes by vendorRef; an object that is already absent counts as deleted. `input` is the rule
   * being deleted, when there is one: its spec lets a dictionary skip lookups it does not need.
   */
  async delete(
    kind: ResourceKind,
    vendorRef: string,
    signal?: AbortSignal,
    input?: WriteInput,
  ): Promise<void> {
    const op = this.operation(kind, "delete");
    let rule: RuleSpec | undefined;
    try {
      rule = input === undefined ? undefined : this.canonical(kind, input.rule);
    } catch {
      rule = undefined; // a spec we cannot read: delete as for an orphan (the dictionary looks first)
    }
    const ctx = this.executor.context(kind, rule === undefined ? { vendorRef } : { vendorRef, rule });
    await this.channel.perform(
      `${kind}.delete`,
      (transport) => this.executor.run(op, ctx, transport, `${kind}.delete`),
      { signal },
    );
  }

  async move(kind: ResourceKind, vendorRef: string, position: Position, signal?: AbortSignal): Promise<void> {
    const op = this.operation(kind, "move");
    const ctx = this.executor.context(kind, { vendorRef, position });
    const result = await this.channel.perform(
      `${kind}.move`,
      (transport) => this.executor.run(op, ctx, transport, `${kind}.move`),
      { signal },
    );
    if (result.absent) {
      throw new VnfError(
        "VNF_CONFLICT",
        `${kind}.move: object ${vendorRef} does not exist on the appliance`,
        {
          notFound: true,
        },
      );
    }
  }

  /** Whether this kind's uncommitted changes can be withdrawn (the dictionary's `revert`). */
  canRevert(kind: ResourceKind): boolean {
    return this.dictionary.resources[kind]?.operations.revert !== undefined;
  }

  /** Whether a failed activation's message names the objects at fault by vendorRef. */
  get activationNamesCulprits(): boolean {
    return this.dictionary.activationNamesCulprits === true;
  }

  /**
   * Withdraws the object's change that is not activated yet: it becomes what the last activation
   * left (removed when it did not exist then). Used to isolate a failed batch.
   */
  async revert(kind: ResourceKind, vendorRef: string, signal?: AbortSignal): Promise<void> {
    const op = this.operation(kind, "revert");
    const ctx = this.executor.context(kind, { vendorRef });
    await this.channel.perform(
      `${kind}.revert`,
      (transport) => this.executor.run(op, ctx, transport, `${kind}.revert`),
      { signal },
    );
  }

  /**
   * The object carrying one of these owner markers (a rule's marker, and the older form it may still
   * carry), for adoption. More than one is an error (VNF_CONFLICT): the session never guesses which
   * one is ours. A marker counts only where the dictionary writes it (the end of the ownership field).
   */
  findByMarker(
    kind: ResourceKind,
    markers: string | readonly string[],
    signal?: AbortSignal,
  ): Promise<ApplianceObject | undefined> {
    const { executor, channel, dictionary } = this;
    return findByMarker({ executor, channel, dictionary }, kind, markers, signal);
  }

  /** Whether the dictionary takes a savepoint before a batch's writes (`activation.prepare`). */
  get preparesWrites(): boolean {
    return this.dictionary.activationPrepare !== undefined;
  }

  /**
   * Safe apply, before a batch's writes: runs `activation.prepare` (a savepoint) and keeps what it
   * extracted for the batch's activation, confirm and rollback.
   */
  prepare(signal?: AbortSignal): Promise<void> {
    return this.activationSteps.prepare(signal);
  }

  /**
   * Runs the dictionary's activation steps (waiting for asynchronous jobs). Safe apply: then the health
   * check; passing, `confirm` keeps the batch; failing, `rollback` returns to the savepoint prepare()
   * took before the writes, and the activation fails saying so.
   */
  activate(signal?: AbortSignal): Promise<ActivationResult> {
    return this.activationSteps.activate(signal);
  }

  async close(): Promise<void> {
    await this.channel.close();
  }

  // ---- machinery -----------------------------------------------------------------------------

  private resource(kind: ResourceKind): CompiledResource {
    return resourceOf(this.dictionary, kind);
  }

  private operation(kind: ResourceKind, name: OperationName): CompiledOperation {
    return operationOf(this.dictionary, kind, name);
  }

  private canonical(kind: ResourceKind, spec: unknown): RuleSpec {
    return canonicalSpec(kind, spec);
  }

  private operationInput(kind: ResourceKind, input: RenderInput): OperationInput {
    return operationInput(this.dictionary, kind, input);
  }
}

export { TRANSPORT_RETRY } from "./channel.ts";
export type { ApplianceObject, OperationResult, Position, SessionLimits, TransportRetry };
