// The runtime's own HTTP to the API server (undici), authenticated from a kubeconfig (kube-auth.ts).
// We own list/watch ourselves (client-node's informer stops on errors and stalls silently), and every
// request is counted for rest_client_requests_total. Error messages carry the API server's Status,
// never request headers.

import { Agent, type Dispatcher, ProxyAgent, request } from "undici";
import { type KubeAuth, kubeAuth } from "./kube-auth.ts";
import type { KubeConfigSource } from "./kubeconfig.ts";

export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

export interface KubeRequest {
  method: HttpMethod;
  /** Path below the server URL, e.g. /api/v1/namespaces/ns/configmaps. */
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  /** Serialised as JSON. */
  body?: unknown;
  /** Content-Type of the body; default application/json. */
  contentType?: string;
  signal?: AbortSignal;
  /** Whole-request timeout for non-streaming calls; default 30 s. */
  timeoutMs?: number;
}

/** Receives one record per finished request (for rest_client_requests_total). */
export type RequestObserver = (info: { method: string; host: string; code: string; seconds: number }) => void;

/** An error answer of the API server (or a network failure, status 0). */
export class KubeApiError extends Error {
  readonly status: number;
  /** metav1.Status reason, e.g. NotFound, Conflict, Expired, Gone, Forbidden. */
  readonly reason: string;
  readonly details: unknown;

  constructor(status: number, reason: string, message: string, details?: unknown) {
    super(message);
    this.name = "KubeApiError";
    this.status = status;
    this.reason = reason;
    this.details = details;
  }
}

export function isNotFound(error: unknown): boolean {
  return error instanceof KubeApiError && error.status === 404;
}

export function isConflict(error: unknown): boolean {
  return error instanceof KubeApiError && error.status === 409;
}

/** 410 Gone / reason Expired: the resourceVersion is too old; relist. */
export function isGone(error: unknown): boolean {
  return (
    error instanceof KubeApiError &&
    (error.status === 410 || error.reason === "Expired" || error.reason === "Gone")
  );
}

/** What the informer and the leader elector need from a client (tests substitute a scripted fake). */
export type KubeClient = Pick<KubeHttp, "request" | "stream">;

/** What reconcilers need from a client: single requests (status writes, finalizers). */
export type KubeRequester = Pick<KubeHttp, "request">;

const memo = new WeakMap<KubeConfigSource, KubeHttp>();

export class KubeHttp {
  readonly kubeConfig: KubeConfigSource;
  readonly server: string;
  readonly host: string;
  readonly #auth: KubeAuth;
  readonly #dispatcher: Dispatcher;
  #observers: RequestObserver[] = [];

  /** One shared client per kubeconfig, so the helpers in kube.ts and the manager count alike. */
  static for(kubeConfig: KubeConfigSource): KubeHttp {
    let http = memo.get(kubeConfig);
    if (!http) {
      http = new KubeHttp(kubeConfig);
      memo.set(kubeConfig, http);
    }
    return http;
  }

  constructor(kubeConfig: KubeConfigSource) {
    this.kubeConfig = kubeConfig;
    this.#auth = kubeAuth(kubeConfig);
    this.server = this.#auth.server;
    this.host = new URL(this.server).host;
    // One dispatcher for the client's life: connections (and TLS sessions) are reused.
    const connect = { ...this.#auth.tls };
    this.#dispatcher = this.#auth.proxyUrl
      ? new ProxyAgent({ uri: this.#auth.proxyUrl, requestTls: connect })
      : new Agent({ connect });
  }

  /** Adds an observer of finished requests; returns a function that removes it. */
  observe(observer: RequestObserver): () => void {
    this.#observers.push(observer);
    return () => {
      this.#observers = this.#observers.filter((o) => o !== observer);
    };
  }

  /** Sends one request and returns the parsed JSON body; non-2xx answers throw KubeApiError. */
  async request<T = unknown>(req: KubeRequest): Promise<T> {
    const timeout = AbortSignal.timeout(req.timeoutMs ?? 30_000);
    const signal = req.signal ? AbortSignal.any([req.signal, timeout]) : timeout;
    const response = await this.#send(req, signal, false);
    const text = await response.body.text();
    if (response.statusCode >= 300) throw toApiError(req, response.statusCode, text);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /**
   * Opens a streaming GET (a watch). Resolves once the headers arrived with 2xx; the caller reads
   * `body` and aborts through its signal. Non-2xx answers throw KubeApiError.
   */
  async stream(
    req: KubeRequest,
  ): Promise<{ body: AsyncIterable<Buffer> & { destroy(error?: Error): void } }> {
    const response = await this.#send(req, req.signal, true);
    if (response.statusCode >= 300) {
      const text = await response.body.text().catch(() => "");
      throw toApiError(req, response.statusCode, text);
    }
    return { body: response.body };
  }

  async #send(req: KubeRequest, signal: AbortSignal | undefined, streaming: boolean) {
    const url = new URL(this.server + req.path);
    for (const [name, value] of Object.entries(req.query ?? {})) {
      if (value !== undefined && value !== "") url.searchParams.set(name, String(value));
    }
    const headers: Record<string, string> = { ...(await this.#auth.headers()), accept: "application/json" };
    if (req.body !== undefined) headers["content-type"] = req.contentType ?? "application/json";
    const started = performance.now();
    let code = "<error>";
    try {
      const response = await request(url, {
        method: req.method,
        headers,
        body: req.body === undefined ? undefined : JSON.stringify(req.body),
        dispatcher: this.#dispatcher,
        signal,
        // A request given a longer budget (a large list, a slow collection delete) gets it whole.
        headersTimeout: Math.max(req.timeoutMs ?? 30_000, 30_000),
        // A watch may legitimately be quiet for minutes; the informer's idle watchdog guards it.
        bodyTimeout: streaming ? 0 : Math.max(req.timeoutMs ?? 30_000, 30_000),
      });
      code = String(response.statusCode);
      return response;
    } catch (error) {
      if (signal?.aborted) throw signal.reason ?? error;
      const message = error instanceof Error ? error.message : String(error);
      throw new KubeApiError(0, "NetworkError", `${req.method} ${req.path}: ${message}`);
    } finally {
      const seconds = (performance.now() - started) / 1000;
      for (const observer of this.#observers)
        observer({ method: req.method, host: this.host, code, seconds });
    }
  }
}

function toApiError(req: KubeRequest, status: number, text: string): KubeApiError {
  let reason = "";
  let message = text.slice(0, 500);
  let details: unknown;
  try {
    const parsed = JSON.parse(text) as {
      kind?: string;
      reason?: string;
      message?: string;
      details?: unknown;
    };
    if (parsed.kind === "Status") {
      reason = parsed.reason ?? "";
      message = parsed.message ?? message;
      details = parsed.details;
    }
  } catch {
    // not JSON: keep the (truncated) text
  }
  return new KubeApiError(
    status,
    reason,
    `${req.method} ${req.path}: ${status} ${reason}: ${message}`,
    details,
  );
}
