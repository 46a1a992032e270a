// HTTP to one appliance: ONE undici Agent per device (keep-alive, a connection cap, connect/headers/
// body timeouts, the device's CA bundle, optional SNI name, certificate checks off only when asked).
// Transport failures become VnfErrors; messages name the request's label, never its URL or headers
// (a query-string API key must not leak into an error).
import { Agent, request } from "undici";
import { VnfError } from "../dictionary/errors.ts";
import type { RawResponse } from "../dictionary/executor.ts";
import { encodeQuery, type RenderedRequest } from "../dictionary/render.ts";
import { type EndpointGuard, endpointRefusal, guardedConnector } from "./guarded-connect.ts";

export interface TlsOptions {
  /** PEM CA bundle (or the appliance's self-signed certificate) to trust instead of the system CAs. */
  caPem?: string;
  /** Skip certificate verification. For labs only. */
  insecureSkipVerify?: boolean;
  /** Name to verify the certificate against and send as SNI (when the endpoint is an IP address). */
  serverName?: string;
}

export interface HttpClientOptions {
  endpoint: string;
  tls?: TlsOptions;
  /** Connections the Agent may open to the appliance. */
  connections: number;
  connectTimeoutMs: number;
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
  /** Biggest response accepted (default 32 MiB). */
  maxResponseBytes?: number;
  /** The endpoint policy, checked on every connection (the operator always passes one). */
  guard?: EndpointGuard;
  /** User-Agent for requests whose headers name none. */
  userAgent?: string;
}

const TLS_IDENTITY_CODES = new Set([
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_UNTRUSTED",
  "CERT_REJECTED",
  "ERR_TLS_CERT_ALTNAME_INVALID",
  "HOSTNAME_MISMATCH",
]);

function errorCode(error: unknown): string {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current && typeof current === "object"; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string" && code !== "") return code;
    current = (current as { cause?: unknown }).cause;
  }
  return "";
}

/** Maps a transport failure to a code. Exported for the unit tests' table. */
export function transportError(error: unknown, label: string): VnfError {
  if (error instanceof VnfError) return error;
  const refused = endpointRefusal(error);
  if (refused) {
    // Not retryable: only a change of the endpoint (or of the operator's policy) helps.
    const hint = refused.overridable
      ? "if the appliance really is there, allow it with --endpoint-allow-cidrs (VNF_ENDPOINT_ALLOW_CIDRS, chart value endpointPolicy.allowCidrs)"
      : "the operator's --endpoint-deny-cidrs list covers it";
    return new VnfError("BROKER_INVALID_REQUEST", `${label}: ${refused.message}; ${hint}`, {
      reason: "EndpointNotAllowed",
    });
  }
  const code = errorCode(error);
  const reason = code || (error instanceof Error ? error.name : "error");
  if (code === "UND_ERR_HEADERS_TIMEOUT" || code === "UND_ERR_BODY_TIMEOUT") {
    return new VnfError("VNF_TIMEOUT", `${label}: no response in time (${reason})`);
  }
  if (TLS_IDENTITY_CODES.has(code) || code.startsWith("ERR_TLS_CERT")) {
    // Not retryable: a certificate that does not verify will not verify on the next try either,
    // and sending credentials to an unverified server is exactly what must not happen.
    return new VnfError("VNF_AUTH", `${label}: the appliance's TLS certificate was not accepted (${reason})`);
  }
  if (code === "UND_ERR_ABORTED" || (error instanceof Error && error.name === "AbortError")) {
    return new VnfError("VNF_UNREACHABLE", `${label}: request aborted (session closed)`);
  }
  return new VnfError("VNF_UNREACHABLE", `${label}: cannot reach the appliance (${reason})`, {
    transport: true,
  });
}

export class HttpClient {
  readonly endpoint: string;
  private readonly agent: Agent;
  private readonly options: HttpClientOptions;
  private readonly aborter = new AbortController();

  constructor(options: HttpClientOptions) {
    this.options = options;
    this.endpoint = options.endpoint.replace(/\/+$/, "");
    const url = new URL(this.endpoint);
    if (url.username || url.password) {
      throw new VnfError("BROKER_INVALID_REQUEST", "the endpoint must not carry credentials");
    }
    const tls = options.tls ?? {};
    const connect: Record<string, unknown> & { timeout: number } = {
      timeout: options.connectTimeoutMs,
      rejectUnauthorized: tls.insecureSkipVerify !== true,
    };
    if (tls.caPem) connect.ca = tls.caPem;
    if (tls.serverName) connect.servername = tls.serverName;
    this.agent = new Agent({
      connections: options.connections,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      headersTimeout: options.headersTimeoutMs,
      bodyTimeout: options.bodyTimeoutMs,
      connect: options.guard ? guardedConnector(connect, options.guard) : connect,
    });
  }

  /** Sends one request; `signal` (the caller's cancellation) aborts it, rejecting with its reason. */
  async send(rendered: RenderedRequest, signal?: AbortSignal): Promise<RawResponse> {
    if (signal?.aborted) throw signal.reason;
    const base = new URL(this.endpoint);
    const qs = encodeQuery(rendered.query);
    const path = `${base.pathname.replace(/\/+$/, "")}${rendered.path}${qs === "" ? "" : `?${qs}`}`;
    // Credentials go to the device's endpoint and nowhere else: a path that does not start with "/"
    // ("@host/x", ".host/x") would move the request to another host (the loader refuses such paths).
    if (!path.startsWith("/") || new URL(`${base.origin}${path}`).origin !== base.origin)
      throw new VnfError(
        "BROKER_INVALID_REQUEST",
        'the request path must start with "/": it would leave the endpoint',
      );
    const timeout = rendered.timeoutMs;
    // undici checks its own timeouts on a coarse clock (about a second); an explicit deadline makes a
    // short per-request timeout exact and bounds headers + body together.
    const deadline = AbortSignal.timeout(
      timeout ?? this.options.headersTimeoutMs + this.options.bodyTimeoutMs,
    );
    try {
      const response = await request(`${base.origin}${path}`, {
        method: rendered.method,
        headers: this.#headers(rendered.headers),
        body: rendered.body?.text,
        dispatcher: this.agent,
        signal: AbortSignal.any(
          signal ? [this.aborter.signal, deadline, signal] : [this.aborter.signal, deadline],
        ),
        headersTimeout: timeout ?? this.options.headersTimeoutMs,
        bodyTimeout: timeout ?? this.options.bodyTimeoutMs,
      });
      const text = await readLimited(
        response.body,
        this.options.maxResponseBytes ?? 32 * 1024 * 1024,
        rendered.label,
      );
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(response.headers)) {
        if (value === undefined) continue;
        headers[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : value;
      }
      return { status: response.statusCode, headers, text };
    } catch (error) {
      // Cancelled by the caller: not an appliance failure, and not worth a retry.
      if (signal?.aborted) throw signal.reason;
      if (deadline.aborted && !this.aborter.signal.aborted) {
        throw new VnfError(
          "VNF_TIMEOUT",
          `${rendered.label}: no complete response within ${timeout ?? this.options.headersTimeoutMs + this.options.bodyTimeoutMs} ms`,
        );
      }
      throw transportError(error, rendered.label);
    }
  }

  #headers(headers: Record<string, string>): Record<string, string> {
    const userAgent = this.options.userAgent;
    if (!userAgent || Object.keys(headers).some((name) => name.toLowerCase() === "user-agent"))
      return headers;
    return { "user-agent": userAgent, ...headers };
  }

  /** Aborts requests in flight and closes the connections. */
  async close(): Promise<void> {
    this.aborter.abort();
    await this.agent.destroy().catch(() => undefined);
  }
}

async function readLimited(
  body: AsyncIterable<Uint8Array> & { destroy?: () => void },
  max: number,
  label: string,
): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.byteLength;
    if (size > max) {
      body.destroy?.();
      throw new VnfError("VNF_UPSTREAM", `${label}: response larger than ${max} bytes`);
    }
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks).toString("utf8");
}
