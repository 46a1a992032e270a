// A device's channel to its appliance: the HTTP agent, credentials and token cache, the concurrency
// and rate limits, and the one re-send the session owns (a transport failure: a connection refused or
// reset before any answer). Every operation of the ApplianceSession runs through perform(), which
// holds a device slot per attempt, records the request metric and turns every failure into a scrubbed
// VnfError (no credential or token in any message).
import pRetry from "p-retry";
import type { Logger } from "pino";
import type { CompiledDictionary } from "../dictionary/compiled.ts";
import { type ErrorCode, VnfError } from "../dictionary/errors.ts";
import type { RawResponse, Transport } from "../dictionary/executor.ts";
import { applyAuth, type RenderedRequest, redactRequest } from "../dictionary/render.ts";
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

export interface ChannelOptions {
  dictionary: CompiledDictionary;
  endpoint: string;
  credentials: Record<string, string>;
  /** The dictionary's parameters, resolved for this device. */
  parameters: Record<string, string>;
  tls?: TlsOptions;
  limits?: SessionLimits;
  logger?: Logger;
  metrics?: ApplianceMetrics;
  vendor: string;
  transportRetry?: Partial<TransportRetry>;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  endpointGuard?: EndpointGuard;
  /** Sent as User-Agent unless the dictionary sets one (appliance logs tell who called). */
  userAgent?: string;
}

export class DeviceChannel {
  /** The endpoint as the HTTP client normalised it. */
  readonly endpoint: string;
  readonly auth: AuthManager;
  private readonly http: HttpClient;
  private readonly slots: Semaphore;
  private readonly rate: RateLimiter;
  private readonly logger: Logger | undefined;
  private readonly metrics: ApplianceMetrics;
  private readonly vendor: string;
  private readonly retry: TransportRetry;
  private readonly requestTimeoutMs: number | undefined;
  private readonly now: () => number;
  private closed = false;

  constructor(options: ChannelOptions) {
    const { dictionary } = options;
    this.now = options.now;
    this.auth = new AuthManager(dictionary, options.credentials, options.parameters, { now: this.now });
    const connection = dictionary.connection;
    const maxConcurrent = options.limits?.maxConcurrentRequests ?? connection.maxConcurrentRequests;
    this.slots = new Semaphore(maxConcurrent);
    this.rate = new RateLimiter(options.limits?.requestsPerSecond ?? connection.requestsPerSecond, {
      now: this.now,
      sleep: options.sleep,
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
      ...(options.userAgent ? { userAgent: options.userAgent } : {}),
    });
    this.endpoint = this.http.endpoint;
    this.logger = options.logger;
    this.metrics = options.metrics ?? noopMetrics;
    this.vendor = options.vendor;
    this.retry = { ...TRANSPORT_RETRY, ...options.transportRetry };
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.http.close();
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
  async perform<T>(
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
