// One ApplianceSession per VnfDevice: every appliance call of the operator goes through it. It owns
// the device's HTTP agent, credentials and token cache, its concurrency and rate limits, and runs the
// dictionary's operations. It is not the retry owner: an answer with an error code (429, 503, 500…) goes
// straight back to the caller — the controller, which requeues after the appliance's Retry-After or its
// backoff, without holding a worker. Only a short transport failure (a connection refused or reset
// before any answer) is re-sent within the call, a couple of times within a few hundred ms. Creates are
// never duplicated by that re-send: before it, and on a conflict, the session looks for an object
// carrying the rule's ownership marker and adopts it.

import pRetry from "p-retry";
import type { Logger } from "pino";
import { applianceText } from "../dictionary/appliance-text.ts";
import type {
  CompiledDictionary,
  CompiledOperation,
  CompiledResource,
  OperationName,
} from "../dictionary/compiled.ts";
import { type ErrorCode, VnfError } from "../dictionary/errors.ts";
import {
  Executor,
  type OperationInput,
  type OperationResult,
  type Position,
  type RawResponse,
  resolveParameters,
  type Transport,
} from "../dictionary/executor.ts";
import { type ApplianceObject, diffCanonical, markersOf, normalizeItem } from "../dictionary/normalize.ts";
import { type HashableOperation, opHash } from "../dictionary/op-hash.ts";
import { applyAuth, type RenderedRequest, redactRequest } from "../dictionary/render.ts";
import { type Reversed, reverseObject } from "../dictionary/reverse.ts";
import {
  canonicalRule,
  MARKER_ID_PATTERN,
  type ResourceKind,
  type RuleSpec,
} from "../dictionary/rule-input.ts";
import { satisfies } from "../dictionary/semver.ts";
import { checkAborted, untilAborted } from "../runtime/abort.ts";
import { AuthManager } from "./auth.ts";
import type { EndpointGuard } from "./guarded-connect.ts";
import { HttpClient, type TlsOptions } from "./http.ts";
import { RateLimiter, Semaphore } from "./limits.ts";
import { type ApplianceMetrics, noopMetrics } from "./metrics.ts";

export interface SessionLimits {
  maxConcurrentRequests?: number;
  requestsPerSecond?: number;
  /** Per-request timeout (headers and body), overriding the dictionary's. */
  requestTimeoutMs?: number;
}

/** How a call is re-sent after a transport failure (connection refused or reset, no answer). */
export interface TransportRetry {
  /** Total attempts, including the first. */
  attempts: number;
  minDelayMs: number;
  maxDelayMs: number;
}

/** Three attempts, 50 then about 100 ms apart (jittered): a reset connection, not an outage. */
export const TRANSPORT_RETRY: TransportRetry = { attempts: 3, minDelayMs: 50, maxDelayMs: 150 };

export interface ApplianceSessionOptions {
  dictionary: CompiledDictionary;
  endpoint: string;
  credentials: Record<string, string>;
  tls?: TlsOptions;
  parameters?: Record<string, string>;
  limits?: SessionLimits;
  logger?: Logger;
  metrics?: ApplianceMetrics;
  /** The `vendor` metric label (default: the dictionary's vendor). */
  vendorLabel?: string;
  /** Overrides TRANSPORT_RETRY (tests). */
  transportRetry?: Partial<TransportRetry>;
  clock?: { now?: () => number; sleep?: (ms: number) => Promise<void> };
  /** Where credentials may be sent, checked on every connection (the operator always passes one). */
  endpointGuard?: EndpointGuard;
}

export interface HealthResult {
  version?: string;
  serial?: string;
  /** Whether the reported version is inside the dictionary's firmware range (undefined: no version). */
  compatible?: boolean;
  /** Every value the health check extracted. */
  outputs: Record<string, unknown>;
}

export interface ActivationResult {
  /** False when the dictionary has no activation (writes are live). */
  activated: boolean;
  /** Asynchronous job ids waited for (e.g. a PAN-OS commit job). */
  jobs: string[];
  outputs: Record<string, unknown>;
}

export interface WriteInput {
  /** The rule's spec (a CRD spec; defaults are applied here). */
  rule: unknown;
  /** The owner id written as ownership marker (e.g. the resource's uid). */
  marker: string;
  /** The client-allocated number, for dictionaries that declare `ruleNumbers`. */
  ruleNumber?: number;
}

export interface CreateResult {
  vendorRef: string;
  /** True when an existing object carrying the marker was found and adopted instead of created. */
  adopted: boolean;
}

/** The exact requests an operation would send (credentials masked as ***), and their opHash. */
export interface RenderedOperation extends HashableOperation {
  kind: ResourceKind;
  operation: OperationName;
  requests: RenderedRequest[];
  opHash: string;
  /** The same requests with every secret masked (render never holds credentials: identical). */
  redacted(): RenderedRequest[];
}

type RenderInput = Partial<WriteInput> & { vendorRef?: string; position?: Position };

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class ApplianceSession {
  readonly dictionary: CompiledDictionary;
  readonly endpoint: string;
  private readonly executor: Executor;
  private readonly http: HttpClient;
  private readonly auth: AuthManager;
  private readonly slots: Semaphore;
  private readonly rate: RateLimiter;
  private readonly logger: Logger | undefined;
  private readonly metrics: ApplianceMetrics;
  private readonly vendor: string;
  private readonly retry: TransportRetry;
  private readonly requestTimeoutMs: number | undefined;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private closed = false;

  constructor(options: ApplianceSessionOptions) {
    const { dictionary } = options;
    this.dictionary = dictionary;
    this.endpoint = options.endpoint;
    this.now = options.clock?.now ?? Date.now;
    this.sleep = options.clock?.sleep ?? defaultSleep;
    const parameters = resolveParameters(dictionary, options.parameters ?? {});
    this.executor = new Executor(dictionary, parameters, { now: this.now, sleep: this.sleep });
    this.auth = new AuthManager(dictionary, options.credentials, parameters, { now: this.now });
    const connection = dictionary.connection;
    const maxConcurrent = options.limits?.maxConcurrentRequests ?? connection.maxConcurrentRequests;
    this.slots = new Semaphore(maxConcurrent);
    this.rate = new RateLimiter(options.limits?.requestsPerSecond ?? connection.requestsPerSecond, {
      now: this.now,
      sleep: this.sleep,
    });
    this.requestTimeoutMs = options.limits?.requestTimeoutMs;
    this.http = new HttpClient({
      endpoint: options.endpoint,
      connections: maxConcurrent,
      connectTimeoutMs: connection.timeouts.connectMs,
      headersTimeoutMs: this.requestTimeoutMs ?? connection.timeouts.headersMs,
      bodyTimeoutMs: this.requestTimeoutMs ?? connection.timeouts.bodyMs,
      ...(options.tls ? { tls: options.tls } : {}),
      ...(options.endpointGuard ? { guard: options.endpointGuard } : {}),
    });
    this.endpoint = this.http.endpoint;
    this.logger = options.logger?.child({ vendor: dictionary.vendor, dictionary: dictionary.name });
    this.metrics = options.metrics ?? noopMetrics;
    this.vendor = options.vendorLabel ?? dictionary.vendor;
    this.retry = { ...TRANSPORT_RETRY, ...options.transportRetry };
  }

  /** Whether writes need activate() (the dictionary has activation steps). */
  get needsActivation(): boolean {
    return this.dictionary.activation !== undefined;
  }

  // ---- public operations ---------------------------------------------------------------------

  async health(signal?: AbortSignal): Promise<HealthResult> {
    const result = await this.perform(
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
    const masked = this.auth.maskedMaterial();
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
    return this.render(kind, "create", input).opHash;
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
      return await this.perform(
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
    const result = await this.perform(
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

  async list(kind: ResourceKind, signal?: AbortSignal): Promise<ApplianceObject[]> {
    const resource = this.resource(kind);
    const op = this.operation(kind, "list");
    const result = await this.perform(
      `${kind}.list`,
      (transport) => this.executor.run(op, this.executor.context(kind), transport, `${kind}.list`),
      { signal },
    );
    const ctx = this.executor.context(kind);
    return result.items.map((item) => normalizeItem(resource, item.vendorRef, item.raw, ctx));
  }

  async update(
    kind: ResourceKind,
    vendorRef: string,
    input: WriteInput,
    signal?: AbortSignal,
  ): Promise<void> {
    const op = this.operation(kind, "update");
    const ctx = this.executor.context(kind, { ...this.operationInput(kind, input), vendorRef });
    const result = await this.perform(
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
  }

  /** Deletes by vendorRef; an object that is already absent counts as deleted. */
  async delete(kind: ResourceKind, vendorRef: string, signal?: AbortSignal): Promise<void> {
    const op = this.operation(kind, "delete");
    const ctx = this.executor.context(kind, { vendorRef });
    await this.perform(
      `${kind}.delete`,
      (transport) => this.executor.run(op, ctx, transport, `${kind}.delete`),
      { signal },
    );
  }

  async move(kind: ResourceKind, vendorRef: string, position: Position, signal?: AbortSignal): Promise<void> {
    const op = this.operation(kind, "move");
    const ctx = this.executor.context(kind, { vendorRef, position });
    const result = await this.perform(
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

  /**
   * The object carrying this owner marker, for adoption after a crash. More than one is an error
   * (VNF_CONFLICT): the session never guesses which one is ours.
   */
  async findByMarker(
    kind: ResourceKind,
    marker: string,
    signal?: AbortSignal,
  ): Promise<ApplianceObject | undefined> {
    if (!MARKER_ID_PATTERN.test(marker)) {
      throw new VnfError(
        "BROKER_INVALID_REQUEST",
        `invalid ownership marker id (must match ${MARKER_ID_PATTERN})`,
      );
    }
    const resource = this.resource(kind);
    const op = resource.operations.findByMarker ?? resource.operations.list;
    const label = `${kind}.${op.name}`;
    const ctx = this.executor.context(kind, op.name === "findByMarker" ? { marker } : {});
    const result = await this.perform(label, (transport) => this.executor.run(op, ctx, transport, label), {
      signal,
    });
    const base = this.executor.context(kind);
    // Server-side searches are hints (a "contains" also matches longer ids): check every candidate.
    const ours = result.items.filter((item) => markersOf(resource, item.raw, base).includes(marker));
    if (ours.length > 1) {
      throw new VnfError(
        "VNF_CONFLICT",
        `${kind}: ${ours.length} appliance objects carry the ownership marker ${marker} (${ours
          .map((o) => o.vendorRef)
          .join(", ")}); resolve by hand`,
      );
    }
    const [item] = ours;
    return item ? normalizeItem(resource, item.vendorRef, item.raw, base) : undefined;
  }

  /** Runs the dictionary's activation steps (waiting for asynchronous jobs). */
  async activate(signal?: AbortSignal): Promise<ActivationResult> {
    const activation = this.dictionary.activation;
    if (!activation) return { activated: false, jobs: [], outputs: {} };
    try {
      const result = await this.perform(
        "activation",
        (transport) =>
          this.executor.run(activation, this.executor.context(undefined), transport, "activation"),
        { signal },
      );
      this.metrics.observeActivation({ vendor: this.vendor, result: "success" });
      return { activated: true, jobs: result.jobs, outputs: result.outputs };
    } catch (error) {
      this.metrics.observeActivation({ vendor: this.vendor, result: "failure" });
      throw error;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.http.close();
  }

  // ---- machinery -----------------------------------------------------------------------------

  private resource(kind: ResourceKind): CompiledResource {
    const resource = this.dictionary.resources[kind];
    if (!resource) {
      throw new VnfError(
        "BROKER_INVALID_REQUEST",
        `dictionary ${this.dictionary.name} does not support ${kind}`,
      );
    }
    return resource;
  }

  private operation(kind: ResourceKind, name: OperationName): CompiledOperation {
    const op = this.resource(kind).operations[name];
    if (!op)
      throw new VnfError(
        "BROKER_INVALID_REQUEST",
        `dictionary ${this.dictionary.name} has no ${kind}.${name}`,
      );
    return op;
  }

  private canonical(kind: ResourceKind, spec: unknown): RuleSpec {
    try {
      return canonicalRule(kind, spec);
    } catch (error) {
      const issues = (error as { issues?: { path: PropertyKey[]; message: string }[] }).issues;
      const detail =
        issues?.map((i) => `${i.path.map(String).join(".")}: ${i.message}`).join("; ") ?? String(error);
      throw new VnfError("BROKER_INVALID_REQUEST", `invalid ${kind} spec: ${detail}`);
    }
  }

  private operationInput(kind: ResourceKind, input: RenderInput): OperationInput {
    const out: OperationInput = {};
    if (input.rule !== undefined) out.rule = this.canonical(kind, input.rule);
    if (input.marker !== undefined) {
      if (!MARKER_ID_PATTERN.test(input.marker)) {
        throw new VnfError(
          "BROKER_INVALID_REQUEST",
          `invalid ownership marker id (must match ${MARKER_ID_PATTERN})`,
        );
      }
      out.marker = input.marker;
    }
    if (input.ruleNumber !== undefined) {
      const range = this.dictionary.ruleNumbers;
      if (range && (input.ruleNumber < range.min || input.ruleNumber > range.max)) {
        throw new VnfError(
          "BROKER_INVALID_REQUEST",
          `ruleNumber ${input.ruleNumber} outside ${range.min}-${range.max}`,
        );
      }
      out.ruleNumber = input.ruleNumber;
    } else if (this.dictionary.ruleNumbers && input.rule !== undefined) {
      throw new VnfError(
        "BROKER_INVALID_REQUEST",
        `dictionary ${this.dictionary.name} needs a client-allocated ruleNumber`,
      );
    }
    if (input.vendorRef !== undefined) out.vendorRef = input.vendorRef;
    if (input.position !== undefined) out.position = input.position;
    return out;
  }

  /** Replaces every secret value in a text (error messages, vendor messages). */
  private scrub = (text: string): string => {
    let out = text;
    for (const secret of this.auth.secrets()) {
      if (secret) out = out.split(secret).join("***");
    }
    return out;
  };

  private toVnfError(error: unknown): VnfError {
    if (error instanceof VnfError && error.responseBody !== undefined) {
      // The appliance's raw answer: debug level only (status and Events get the mapped message).
      this.logger?.debug(
        { code: error.code, httpStatus: error.httpStatus, body: this.scrub(error.responseBody) },
        "appliance answer (raw, capped, control characters escaped)",
      );
    }
    if (error instanceof VnfError) return error.scrubbed(this.scrub);
    const message = error instanceof Error ? error.message : String(error);
    return new VnfError("BROKER_INTERNAL", this.scrub(`internal error: ${message}`));
  }

  /**
   * Runs one operation, re-sent only after a transport failure (see TRANSPORT_RETRY). Each attempt
   * holds one of the device's slots for its whole duration (a multi-step operation such as "look up
   * the index, then PATCH it" must not interleave with another write on pfSense), and releases it
   * while waiting to re-send.
   */
  private async perform<T>(
    operation: string,
    attempt: (transport: Transport) => Promise<T>,
    options: { beforeRetry?: () => Promise<T | undefined>; signal?: AbortSignal | undefined } = {},
  ): Promise<T> {
    const { beforeRetry, signal } = options;
    if (signal?.aborted) throw signal.reason;
    if (this.closed) throw new VnfError("VNF_UNREACHABLE", `${operation}: session closed`);
    const transport: Transport = {
      send: (request) => this.sendWithAuth(request, signal),
      ...(signal ? { signal } : {}),
    };
    let attempts = 0;
    return pRetry(
      async () => {
        attempts += 1;
        if (attempts > 1 && beforeRetry) {
          const early = await beforeRetry();
          if (early !== undefined) return early;
        }
        const release = await this.slots.acquire(signal);
        const started = this.now();
        let code: ErrorCode | "OK" | undefined = "OK";
        try {
          return await attempt(transport);
        } catch (error) {
          // Cancelled (shutdown, lost lease): the caller's reason, not an appliance failure.
          if (signal?.aborted) {
            code = undefined;
            throw signal.reason;
          }
          const vnfError = this.toVnfError(error);
          code = vnfError.code;
          throw vnfError;
        } finally {
          release();
          if (code !== undefined) {
            this.metrics.observeRequest(
              { vendor: this.vendor, operation, code },
              (this.now() - started) / 1000,
            );
          }
        }
      },
      {
        ...(signal ? { signal } : {}),
        retries: Math.max(0, this.retry.attempts - 1),
        minTimeout: this.retry.minDelayMs,
        maxTimeout: this.retry.maxDelayMs,
        factor: 2,
        randomize: true,
        shouldRetry: ({ error }) => this.shouldRetry(error),
        onFailedAttempt: ({ error, attemptNumber, retriesLeft }) => {
          const vnfError = error instanceof VnfError ? error : undefined;
          const retrying = retriesLeft > 0 && this.shouldRetry(error);
          this.logger?.warn(
            {
              operation,
              attempt: attemptNumber,
              code: vnfError?.code,
              httpStatus: vnfError?.httpStatus,
              retrying,
              retryAfterMs: vnfError?.retryAfterMs,
            },
            `appliance operation failed: ${error.message}`,
          );
        },
      },
    );
  }

  /** Only a transport failure is re-sent here; every answer with a code goes back to the controller. */
  private shouldRetry(error: Error): boolean {
    return error instanceof VnfError && error.transport && !this.closed;
  }

  /**
   * Sends with auth; on a refusal (401/403, or the dictionary's "token expired" statuses) renews the
   * credentials — a new login for a session, the same static key or password again otherwise — and
   * replays the request once. A second refusal is the answer (mapped to VNF_AUTH by the dictionary).
   */
  private async sendWithAuth(request: RenderedRequest, signal?: AbortSignal): Promise<RawResponse> {
    // A login is shared by every caller waiting for a token: one caller's cancellation stops its own
    // wait, never the login the others wait for.
    const login = (): ReturnType<AuthManager["material"]> => {
      checkAborted(signal);
      return untilAborted(
        this.auth.material((request) => this.sendRaw(request)),
        signal,
      );
    };
    const first = await login();
    const response = await this.sendRaw(applyAuth(request, first.material), signal);
    if (!this.auth.refuses(response.status)) return response;
    this.logger?.info(
      { request: request.label, status: response.status, session: this.auth.isSession },
      this.auth.isSession
        ? "credentials refused: logging in again, then one replay"
        : "credentials refused: one replay before reporting VNF_AUTH",
    );
    this.auth.invalidate(first.token);
    const second = await login();
    return this.sendRaw(applyAuth(request, second.material), signal);
  }

  private async sendRaw(request: RenderedRequest, signal?: AbortSignal): Promise<RawResponse> {
    await this.rate.take(signal);
    const timed =
      this.requestTimeoutMs !== undefined && request.timeoutMs === undefined
        ? { ...request, timeoutMs: this.requestTimeoutMs }
        : request;
    const started = this.now();
    if (this.logger?.isLevelEnabled("trace"))
      this.logger.trace({ request: redactRequest(timed) }, "appliance request (redacted)");
    try {
      const response = await this.http.send(timed, signal);
      this.logger?.debug(
        {
          request: request.label,
          method: request.method,
          path: request.path,
          status: response.status,
          ms: this.now() - started,
        },
        "appliance request",
      );
      return response;
    } catch (error) {
      this.logger?.debug(
        { request: request.label, method: request.method, path: request.path, ms: this.now() - started },
        "appliance request failed",
      );
      throw error;
    }
  }
}

export type { ApplianceObject, OperationResult, Position };
