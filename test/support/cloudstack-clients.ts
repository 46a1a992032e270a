// Models of the CloudStack clients that call the shim, written from their documented decision rules:
// what each sends, and how it reads an answer. The real classes are Java inside CloudStack and cannot
// run here, so the contract tests replay each client's exact requests against the real shim and ask
// the model what the client would conclude. Each model names the client and the version it stands for.
import { randomUUID } from "node:crypto";
import { type Dispatcher, request } from "undici";

/** The CloudStack fork and commit both clients were read from. */
export const CLOUDSTACK_VERSION = "apache/cloudstack fork, branch VNFCopilot @ 2f8f0cc10c78";

export interface WireRequest {
  method: "GET" | "POST" | "PUT" | "DELETE";
  path: string;
  headers: Record<string, string>;
  body?: string;
}

/** An HTTP answer, or an I/O failure (refused, TLS, reset). */
export type WireResponse = { status: number; body: string } | { ioError: string };

export type Exchange = (request: WireRequest) => Promise<WireResponse>;

/** Sends requests to `base` (loopback) through `dispatcher` (e.g. an mTLS agent). */
export function exchangeWith(base: string, dispatcher?: Dispatcher): Exchange {
  return async (req) => {
    try {
      const response = await request(`${base}${req.path}`, {
        method: req.method,
        headers: req.headers,
        ...(req.body !== undefined ? { body: req.body } : {}),
        ...(dispatcher ? { dispatcher } : {}),
      });
      return { status: response.statusCode, body: await response.body.text() };
    } catch (error) {
      return { ioError: error instanceof Error ? error.message : String(error) };
    }
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** How Java prints a missing or null JSON member read as a String: "null". */
function javaString(value: unknown): string {
  return value === undefined || value === null ? "null" : String(value);
}

// ---- org.apache.cloudstack.vnf.client.VnfBrokerClient (VnfNetworkElement) -------------------------

/**
 * The network element's client: built with the device's broker URL and its api_credentials.jwtToken;
 * every call is a JSON POST that does not name the VNF instance.
 */
export const NETWORK_ELEMENT_CLIENT = {
  name: "org.apache.cloudstack.vnf.client.VnfBrokerClient",
  version: CLOUDSTACK_VERSION,
  /** Attempts in all, and the pauses between them (1 s, then 2 s). */
  attempts: 3,
  pausesMs: [1000, 2000],
  /** The only error codes it retries. */
  retryCodes: ["VNF_TIMEOUT", "VNF_RATE_LIMIT"],
} as const;

export type NetworkElementReading =
  | { outcome: "success"; vendorRef: string; message: string }
  | { outcome: "throws"; errorCode: string; message: string };

/**
 * One answer as it reads it: success only for exactly 200, then vendorRef and message (never
 * success or errorCode); otherwise VnfBrokerException(errorCode) from the JSON body, BROKER_INTERNAL
 * for a body that is not JSON, VNF_UNREACHABLE for an I/O error.
 */
export function readAsNetworkElement(response: WireResponse): NetworkElementReading {
  if ("ioError" in response)
    return { outcome: "throws", errorCode: "VNF_UNREACHABLE", message: response.ioError };
  const json = parseJson(response.body);
  if (json === null || typeof json !== "object")
    return { outcome: "throws", errorCode: "BROKER_INTERNAL", message: response.body.slice(0, 200) };
  const body = json as Record<string, unknown>;
  if (response.status === 200)
    return { outcome: "success", vendorRef: javaString(body.vendorRef), message: javaString(body.message) };
  return { outcome: "throws", errorCode: javaString(body.errorCode), message: javaString(body.message) };
}

export interface ClientRun<R> {
  /** What the client concluded after its retries. */
  reading: R;
  /** Requests sent, and the answers, in order. */
  attempts: number;
  statuses: Array<number | "io">;
  /** The pauses it would have taken (recorded, not waited: the shim's answers do not depend on them). */
  pausesMs: number[];
}

/** A whole call: the request, then the client's retries on VNF_TIMEOUT / VNF_RATE_LIMIT. */
export async function callAsNetworkElement(
  exchange: Exchange,
  req: WireRequest,
): Promise<ClientRun<NetworkElementReading>> {
  const statuses: Array<number | "io"> = [];
  const pausesMs: number[] = [];
  for (let attempt = 1; ; attempt++) {
    const response = await exchange(req);
    statuses.push("ioError" in response ? "io" : response.status);
    const reading = readAsNetworkElement(response);
    const retry =
      reading.outcome === "throws" &&
      (NETWORK_ELEMENT_CLIENT.retryCodes as readonly string[]).includes(reading.errorCode) &&
      attempt < NETWORK_ELEMENT_CLIENT.attempts;
    if (!retry) return { reading, attempts: attempt, statuses, pausesMs };
    pausesMs.push(NETWORK_ELEMENT_CLIENT.pausesMs[attempt - 1] ?? 0);
  }
}

/** The network element's request: POST, JSON, Bearer token, to the device's broker URL. */
export function networkElementRequest(path: string, payload: object, token: string): WireRequest {
  return {
    method: "POST",
    path,
    headers: {
      "content-type": "application/json",
      accept: "application/json",
      authorization: `Bearer ${token}`,
    },
    body: JSON.stringify(payload),
  };
}

/** Its firewall body as Jackson writes it (null members kept). */
export function networkElementFirewall(rule: {
  ruleId: string;
  action: string;
  protocol: string;
  sourceAddressing: string;
  destinationAddressing: string;
  sourcePorts?: string | null;
  destinationPorts?: string | null;
  description?: string | null;
}): Record<string, unknown> {
  return {
    ruleId: rule.ruleId,
    action: rule.action,
    protocol: rule.protocol,
    sourceAddressing: rule.sourceAddressing,
    destinationAddressing: rule.destinationAddressing,
    sourcePorts: rule.sourcePorts ?? null,
    destinationPorts: rule.destinationPorts ?? null,
    description: rule.description ?? null,
  };
}

// ---- org.apache.cloudstack.vnf.broker.VnfBrokerClient (VnfServiceImpl) ---------------------------

/** The service's client: built from vnf.broker.url and vnf.broker.auth.*, paths appended to the URL. */
export const SERVICE_CLIENT = {
  name: "org.apache.cloudstack.vnf.broker.VnfBrokerClient",
  version: CLOUDSTACK_VERSION,
  /** vnf.max.retries: retries after the first attempt (4 attempts in all). */
  maxRetries: 3,
  /** vnf.retry.delay.ms doubling, capped at vnf.retry.max.delay.ms. */
  firstDelayMs: 1000,
  maxDelayMs: 30_000,
} as const;

export type ServiceReading =
  | { outcome: "returns"; status: number; body: string }
  | { outcome: "throws"; message: string };

/** Any 2xx returns the body to the service; anything else is CloudException("Broker call failed …"). */
export function readAsService(response: WireResponse): ServiceReading {
  if ("ioError" in response)
    return { outcome: "throws", message: `Broker call IO failure: ${response.ioError}` };
  if (response.status >= 200 && response.status < 300)
    return { outcome: "returns", status: response.status, body: response.body };
  return {
    outcome: "throws",
    message: `Broker call failed (status=${response.status}) body=${response.body}`,
  };
}

/** A whole call: 5xx and I/O errors are retried (4 attempts in all, 1 s, 2 s, 4 s); 4xx is not. */
export async function callAsService(
  exchange: Exchange,
  req: WireRequest,
): Promise<ClientRun<ServiceReading>> {
  const statuses: Array<number | "io"> = [];
  const pausesMs: number[] = [];
  let delay: number = SERVICE_CLIENT.firstDelayMs;
  for (let attempt = 1; ; attempt++) {
    const response = await exchange(req);
    const io = "ioError" in response;
    statuses.push(io ? "io" : response.status);
    const reading = readAsService(response);
    const retryable = io || (!io && response.status >= 500);
    if (reading.outcome === "returns" || !retryable || attempt > SERVICE_CLIENT.maxRetries)
      return { reading, attempts: attempt, statuses, pausesMs };
    pausesMs.push(delay);
    delay = Math.min(delay * 2, SERVICE_CLIENT.maxDelayMs);
  }
}

/**
 * The service's request: X-Correlation-ID on every call, Content-Type only with a body, the token of
 * vnf.broker.auth.token when vnf.broker.auth.type is jwt (or bearer).
 */
export function serviceRequest(
  method: WireRequest["method"],
  path: string,
  token: string | undefined,
  payload?: object,
): WireRequest {
  return {
    method,
    path,
    headers: {
      "x-correlation-id": randomUUID(),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(payload !== undefined ? { "content-type": "application/json" } : {}),
    },
    ...(payload !== undefined ? { body: JSON.stringify(payload) } : {}),
  };
}

/** VnfServiceImpl's reading of a reconcile call: drift from the answer; a failed call is "no drift". */
export function serviceReadsDrift(reading: ServiceReading): boolean {
  if (reading.outcome === "throws") return false;
  const body = parseJson(reading.body) as { driftDetected?: unknown } | undefined;
  return body?.driftDetected === true;
}
