// One request, start to end: strip the /vnf/{id} and /v1 prefixes, find the route, check the token
// (before saying whether a route exists: an unauthenticated caller cannot enumerate routes), apply
// the per-subject rate limit and the scope, run the handler, and answer in the route's dialect. Every
// request is counted and logged once (request id, correlation id, route, status, subject, duration;
// never headers, tokens or bodies).
import { randomUUID } from "node:crypto";
import type http from "node:http";
import type { Logger } from "pino";
import { authenticate, hasScope, type JwtPolicy } from "./auth.ts";
import type { Context, Route } from "./context.ts";
import { type Dialect, failureReply, type Reply } from "./dialects.ts";
import { HttpError, toFailure } from "./errors.ts";
import type { ShimMetrics } from "./metrics.ts";
import type { SlidingWindowLimiter } from "./rate-limit.ts";
import { RequestValidationError } from "./wire.ts";

export interface PipelineOptions {
  routes: readonly Route[];
  /** Undefined: no route needs a token (the separate metrics listener). */
  jwt: JwtPolicy | undefined;
  limiter: SlidingWindowLimiter | undefined;
  metrics: ShimMetrics;
  log: Logger;
  maxBodyBytes: number;
}

export type Listener = (req: http.IncomingMessage, res: http.ServerResponse) => void;

export function requestListener(options: PipelineOptions): Listener {
  const { log } = options;
  return (req, res) => {
    handle(options, req, res).catch((error: unknown) => {
      log.error({ err: error instanceof Error ? error.message : String(error) }, "request handler failed");
      if (!res.headersSent) res.writeHead(500).end();
    });
  };
}

async function handle(
  options: PipelineOptions,
  req: http.IncomingMessage,
  res: http.ServerResponse,
): Promise<void> {
  const { log, metrics } = options;
  const started = performance.now();
  const requestId = randomUUID();
  const url = new URL(req.url ?? "/", "http://shim.invalid");
  let routeName = "unknown";
  let subject: string | undefined;
  let dialect: Dialect = "service";
  let reply: Reply;
  try {
    const { path, instance } = stripPrefixes(url.pathname);
    const matches = options.routes.filter((r) => r.pattern.test(path));
    const route = matches.find((r) => r.method === req.method);
    if (route) {
      routeName = route.name;
      dialect = route.dialect;
    }
    if (route?.access !== "public") {
      subject = await admit(options, req, route);
      if (!route)
        throw matches.length > 0
          ? new HttpError("method_not_allowed", `${req.method} is not served on ${path}`, {
              headers: { allow: [...new Set(matches.map((m) => m.method))].join(", ") },
            })
          : new HttpError("not_found", `no route ${req.method} ${path}`);
    }
    const params = route.pattern.exec(path)?.slice(1).map(decodeSegment) ?? [];
    let bodyPromise: Promise<unknown> | undefined;
    const ctx: Context = {
      req,
      url,
      path,
      pathInstance: instance,
      requestId,
      dialect,
      body: () => {
        bodyPromise ??= readJson(req, options.maxBodyBytes);
        return bodyPromise;
      },
    };
    reply = await route.handle(ctx, params);
  } catch (error) {
    const failure = toFailure(error, (unexpected) =>
      log.warn(
        { err: unexpected instanceof Error ? unexpected.message : String(unexpected) },
        "request failed",
      ),
    );
    reply = failureReply(dialect, failure, requestId);
  }
  send(res, reply, requestId);
  metrics.requests.inc({ method: req.method ?? "?", route: routeName, code: String(reply.status) });
  metrics.duration.observe({ route: routeName }, (performance.now() - started) / 1000);
  log.info(
    {
      requestId,
      correlationId: header(req, "x-correlation-id"),
      method: req.method,
      route: routeName,
      status: reply.status,
      subject,
      ms: Math.round(performance.now() - started),
    },
    "request",
  );
}

/**
 * The token check, the rate limit and the scope; returns the token's subject. Runs for unknown routes
 * too, so that a caller without a valid token learns nothing about which routes exist.
 */
async function admit(
  options: PipelineOptions,
  req: http.IncomingMessage,
  route: Route | undefined,
): Promise<string | undefined> {
  if (!options.jwt) throw new HttpError("not_found", "not found");
  const auth = await authenticate(header(req, "authorization"), options.jwt);
  if (options.limiter) {
    const key = auth.ok ? `sub:${auth.subject}` : `ip:${req.socket.remoteAddress ?? "?"}`;
    const decision = options.limiter.check(key, Date.now());
    if (!decision.allowed) {
      options.metrics.rateLimited.inc();
      throw new HttpError("rate_limited", "too many requests", {
        headers: { "retry-after": String(decision.retryAfterSec) },
        extra: { retry_after: decision.retryAfterSec },
      });
    }
  }
  if (!auth.ok) {
    options.metrics.jwtInvalid.inc({ reason: auth.reason });
    throw new HttpError("unauthenticated", auth.message, {
      reason: auth.reason,
      headers: {
        "www-authenticate": auth.reason === "missing" ? "Bearer" : `Bearer error="invalid_token"`,
      },
    });
  }
  const needed = route?.access === "write" ? "write" : "read";
  if (route && !hasScope(auth.scopes, needed)) {
    options.metrics.jwtInvalid.inc({ reason: "insufficient_scope" });
    throw new HttpError("forbidden", `scope ${needed === "write" ? "vnf:rw" : "vnf:r"} required`, {
      headers: { "www-authenticate": `Bearer error="insufficient_scope"` },
    });
  }
  return auth.subject;
}

function header(req: http.IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Strips /vnf/{id} (per-device broker URL) and /v1 (scaffold broker) prefixes. */
export function stripPrefixes(pathname: string): { path: string; instance?: string } {
  let path = pathname.replace(/\/+$/, "") || "/";
  let instance: string | undefined;
  const match = /^\/vnf\/([^/]+)(\/.*)$/.exec(path);
  if (match?.[1] && match[2]) {
    instance = decodeSegment(match[1]);
    path = match[2];
  }
  if (path.startsWith("/v1/")) path = path.slice(3);
  return instance === undefined ? { path } : { path, instance };
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new RequestValidationError([
      { loc: ["path"], msg: "malformed percent-encoding", type: "value_error" },
    ]);
  }
}

async function readJson(req: http.IncomingMessage, limit: number): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new HttpError("too_large", `the body exceeds ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString("utf8").trim();
  if (text === "") return undefined;
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new RequestValidationError([
      {
        loc: ["body"],
        msg: `invalid JSON: ${error instanceof Error ? error.message : "parse error"}`,
        type: "json_invalid",
      },
    ]);
  }
}

function send(res: http.ServerResponse, reply: Reply, requestId: string): void {
  const text = typeof reply.body === "string" ? reply.body : JSON.stringify(reply.body);
  res.writeHead(reply.status, {
    "content-type": reply.contentType ?? "application/json",
    "x-request-id": requestId,
    ...(reply.headers ?? {}),
  });
  res.end(text);
}
