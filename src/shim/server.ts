// The CloudStack shim's HTTP(S) server: the original VNF broker's API, served by writing
// VnfFirewallRule / VnfNatRule resources and answering from their status. Both CloudStack-side clients
// are served (docs/cloudstack-shim.md lists every route, body and answer):
//   J/client/VnfBrokerClient (network element): POST /firewall/rules, /firewall/rules/delete,
//     /nat/rules, /nat/rules/delete;
//   J/broker/VnfBrokerClient (service): GET /health, POST|GET /rules/firewall, GET|PUT|DELETE
//     /rules/firewall/{ruleId}, POST /rules/nat, DELETE /rules/nat/{ruleId}.
// Every route may also be reached under /vnf/{vnfInstanceId}/... (a per-device broker URL, for clients
// whose bodies do not name the instance) and under /v1/... (the scaffold broker's prefix).
import { randomUUID } from "node:crypto";
import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import type { KubeConfig } from "@kubernetes/client-node";
import type { Logger } from "pino";
import type { VnfDevice } from "../api/types.ts";
import { KubeApiError } from "../runtime/kube-http.ts";
import { silentLogger } from "../runtime/logging.ts";
import { authenticate, hasScope, type JwtPolicy } from "./auth.ts";
import { ShimKube, type ShimRule } from "./kube.ts";
import {
  checkFirewallSpec,
  type FirewallSpec,
  firewallContractFragment,
  firewallDefaults,
  firewallWireFragment,
  type NatSpec,
  natSpecFromWire,
  overlayFirewall,
} from "./mapping.ts";
import { createShimMetrics, type ShimMetrics } from "./metrics.ts";
import {
  ANNOTATION_OP_HASH,
  ANNOTATION_RULE_ID,
  isValidInstanceId,
  LABEL_MANAGED_BY,
  LABEL_RULE_ID,
  LABEL_VNF_INSTANCE,
  ruleIdLabelValue,
  ruleResourceName,
  type ShimRuleKind,
} from "./names.ts";
import { shimOpHash } from "./op-hash.ts";
import { decide, pending, RETRYABLE, type RuleAnswer } from "./outcome.ts";
import { type RateLimitOptions, SlidingWindowLimiter } from "./rate-limit.ts";
import {
  createFirewallRuleCmdSchema,
  deleteWireSchema,
  firewallWireSchema,
  firewallWireUpdateSchema,
  isFirewallWireFormat,
  natWireSchema,
  parseBody,
  RequestValidationError,
  type ValidationDetail,
} from "./wire.ts";

export interface ShimTls {
  cert: string | Buffer;
  key: string | Buffer;
  /** With a client CA, callers must present a certificate it signed (mTLS). */
  clientCa?: string | Buffer;
}

export interface ShimOptions {
  kubeConfig: KubeConfig;
  /** The namespaces whose VnfDevices the shim may name (and where its rules live). */
  namespaces: readonly string[];
  jwt: JwtPolicy;
  logger?: Logger;
  tls?: ShimTls;
  /** Interface for rules whose body names none (the CloudStack wire format never does). Default wan. */
  defaultInterface?: string;
  /** How long a request waits for Ready before answering Pending. Default 20 s. */
  waitTimeoutMs?: number;
  pollIntervalMs?: number;
  /** Default 100 requests per 60 s per subject. */
  rateLimit?: RateLimitOptions;
  maxBodyBytes?: number;
  /** CloudStack vendor names (X-VNF-Vendor) → VnfDevice spec.vendor. */
  vendorAliases?: Readonly<Record<string, string>>;
  /** Also export process metrics (off in tests, where several shims share a process). */
  processMetrics?: boolean;
}

/** CloudStack's vendor names (VnfDeviceVO) for the built-in vendors; extend with vendorAliases. */
export const DEFAULT_VENDOR_ALIASES: Readonly<Record<string, string>> = {
  fortigate: "fortios",
  paloalto: "panos",
  paloaltonetworks: "panos",
};

export interface ShimServer {
  server: http.Server | https.Server;
  metrics: ShimMetrics;
  listen(port: number, host?: string): Promise<AddressInfo>;
  close(): Promise<void>;
}

// ---- errors and replies ---------------------------------------------------------------------------

class HttpError extends Error {
  readonly status: number;
  readonly slug: string;
  readonly errorCode: string;
  readonly details: ValidationDetail[] | undefined;
  readonly headers: Record<string, string>;
  readonly extra: Record<string, unknown>;
  constructor(
    status: number,
    slug: string,
    message: string,
    options: {
      errorCode?: string;
      details?: ValidationDetail[];
      headers?: Record<string, string>;
      extra?: Record<string, unknown>;
    } = {},
  ) {
    super(message);
    this.status = status;
    this.slug = slug;
    this.errorCode = options.errorCode ?? (status >= 500 ? "BROKER_INTERNAL" : "BROKER_INVALID_REQUEST");
    this.details = options.details;
    this.headers = options.headers ?? {};
    this.extra = options.extra ?? {};
  }
}

interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
  contentType?: string;
}

interface Context {
  req: http.IncomingMessage;
  url: URL;
  /** The path below any /vnf/{id} or /v1 prefix. */
  path: string;
  pathInstance: string | undefined;
  requestId: string;
  body: () => Promise<unknown>;
}

type Access = "public" | "read" | "write";

interface Route {
  method: string;
  pattern: RegExp;
  name: string;
  access: Access;
  handle(ctx: Context, params: string[]): Promise<Reply>;
}

const JSON_TYPE = "application/json";

// ---- the server -----------------------------------------------------------------------------------

export function createShimServer(options: ShimOptions): ShimServer {
  const log = options.logger ?? silentLogger;
  const kube = new ShimKube(options.kubeConfig, options.namespaces);
  const metrics = createShimMetrics(options.processMetrics ?? false);
  const limiter = new SlidingWindowLimiter(options.rateLimit ?? { max: 100, windowMs: 60_000 });
  const defaultInterface = options.defaultInterface ?? "wan";
  const waitTimeoutMs = options.waitTimeoutMs ?? 20_000;
  const pollMs = options.pollIntervalMs ?? 250;
  const maxBody = options.maxBodyBytes ?? 64 * 1024;
  const aliases = { ...DEFAULT_VENDOR_ALIASES, ...(options.vendorAliases ?? {}) };

  // ---- device and instance resolution ----

  function instanceIdOf(ctx: Context, body?: Record<string, unknown>): string {
    const candidates: Array<[string, unknown]> = [
      ["path", ctx.pathInstance],
      ["header X-VNF-Instance-Id", ctx.req.headers["x-vnf-instance-id"]],
      ["body vnfInstanceId", body?.vnfInstanceId],
      ["query vnfInstanceId", ctx.url.searchParams.get("vnfInstanceId") ?? undefined],
    ];
    const given = candidates
      .filter(([, v]) => v !== undefined && v !== null && v !== "")
      .map(([where, v]) => [where, String(v)] as const);
    const first = given[0];
    if (!first)
      throw new RequestValidationError([
        {
          loc: ["body", "vnfInstanceId"],
          msg: "the VNF instance id is required: vnfInstanceId in the body or query, the X-VNF-Instance-Id header, or a broker URL ending in /vnf/<id>",
          type: "missing",
        },
      ]);
    const other = given.find(([, v]) => v !== first[1]);
    if (other)
      throw new RequestValidationError([
        {
          loc: ["body", "vnfInstanceId"],
          msg: `${first[0]} and ${other[0]} name different VNF instances`,
          type: "value_error",
        },
      ]);
    if (!isValidInstanceId(first[1]))
      throw new RequestValidationError([
        {
          loc: ["body", "vnfInstanceId"],
          msg: "letters, digits, '-', '_' or '.', at most 63",
          type: "value_error",
        },
      ]);
    return first[1];
  }

  async function deviceFor(ctx: Context, instanceId: string): Promise<VnfDevice> {
    const devices = await kube.devicesFor(instanceId);
    if (devices.length === 0)
      throw new HttpError(
        404,
        "not_found",
        `no VnfDevice labelled ${LABEL_VNF_INSTANCE}=${instanceId} in namespace(s) ${options.namespaces.join(", ")}`,
        { extra: { vnfInstanceId: instanceId } },
      );
    if (devices.length > 1)
      throw new HttpError(
        409,
        "conflict",
        `${devices.length} VnfDevices are labelled ${LABEL_VNF_INSTANCE}=${instanceId}; label exactly one`,
        { errorCode: "VNF_CONFLICT" },
      );
    const device = devices[0] as VnfDevice;
    const header = ctx.req.headers["x-vnf-vendor"];
    if (typeof header === "string" && header.trim() !== "") {
      const key = header.toLowerCase().replace(/[^a-z0-9]/g, "");
      const vendor = aliases[key] ?? key;
      if (vendor !== device.spec.vendor)
        throw new RequestValidationError([
          {
            loc: ["header", "X-VNF-Vendor"],
            msg: `VNF instance ${instanceId} is a ${device.spec.vendor} device, not ${header}`,
            type: "value_error",
          },
        ]);
    }
    return device;
  }

  // ---- writing and answering ----

  async function waitForAnswer(
    kind: ShimRuleKind,
    namespace: string,
    name: string,
    generation: number,
  ): Promise<RuleAnswer> {
    const started = Date.now();
    let rule: ShimRule | undefined;
    for (;;) {
      rule = await kube.getRule(kind, namespace, name);
      if (rule) {
        const answer = decide(rule, generation);
        if (answer) return answer;
      }
      const waited = Date.now() - started;
      if (waited >= waitTimeoutMs) return pending(rule, generation, waited);
      await sleep(Math.min(pollMs, waitTimeoutMs - waited));
    }
  }

  async function waitGone(
    kind: ShimRuleKind,
    namespace: string,
    name: string,
  ): Promise<ShimRule | undefined> {
    const started = Date.now();
    for (;;) {
      const rule = await kube.getRule(kind, namespace, name);
      if (!rule || Date.now() - started >= waitTimeoutMs) return rule;
      await sleep(pollMs);
    }
  }

  interface WriteResult {
    answer: RuleAnswer;
    created: boolean;
    ruleId: string;
    instanceId: string;
  }

  async function writeRule(
    kind: ShimRuleKind,
    device: VnfDevice,
    instanceId: string,
    ruleId: string,
    spec: FirewallSpec | NatSpec,
    existingArg?: ShimRule,
  ): Promise<WriteResult> {
    const namespace = device.metadata.namespace ?? "";
    const name = ruleResourceName(kind, ruleId);
    let existing = existingArg ?? (await kube.getRule(kind, namespace, name));
    if (existing && existing.spec.ruleId !== ruleId)
      throw new HttpError(409, "conflict", `${name} exists for another ruleId`, {
        errorCode: "VNF_CONFLICT",
      });
    if (existing && existing.spec.deviceRef.name !== device.metadata.name)
      throw new HttpError(409, "conflict", `ruleId ${ruleId} is already used on another VNF instance`, {
        errorCode: "VNF_CONFLICT",
      });
    if (existing?.metadata.deletionTimestamp) {
      existing = await waitGone(kind, namespace, name);
      if (existing)
        throw new HttpError(409, "conflict", `rule ${ruleId} is still being deleted; retry later`, {
          errorCode: "VNF_CONFLICT",
        });
    }
    const fullSpec = { deviceRef: { name: device.metadata.name }, ruleId, ...spec };
    const opHash = shimOpHash({ kind, vnfInstanceId: instanceId, ruleId, spec: fullSpec });
    let rule: ShimRule;
    let created = false;
    if (existing && existing.metadata.annotations?.[ANNOTATION_OP_HASH] === opHash) {
      rule = existing; // the same request again: nothing to write, answer from the status
    } else {
      try {
        rule = await kube.applyRule(kind, namespace, {
          metadata: {
            name,
            namespace,
            labels: {
              [LABEL_VNF_INSTANCE]: instanceId,
              [LABEL_RULE_ID]: ruleIdLabelValue(ruleId),
              [LABEL_MANAGED_BY]: "vnf-cloudstack-shim",
            },
            annotations: { [ANNOTATION_RULE_ID]: ruleId, [ANNOTATION_OP_HASH]: opHash },
          },
          spec: fullSpec as ShimRule["spec"],
        });
      } catch (error) {
        throw fromApiError(error);
      }
      created = existing === undefined;
    }
    const answer = await waitForAnswer(kind, namespace, name, rule.metadata.generation ?? 1);
    metrics.answers.inc({ kind, state: answer.state });
    return { answer, created, ruleId, instanceId };
  }

  function ruleReply(result: {
    answer: RuleAnswer;
    created?: boolean;
    ruleId: string;
    instanceId?: string;
  }): Reply {
    const { answer } = result;
    const ok = answer.state === "Completed";
    // Pending answers carry VNF_TIMEOUT: CloudStack retries that code, and the retry (same ruleId) is
    // answered from the same resource without a second appliance object.
    const errorCode =
      answer.state === "Failed" ? answer.errorCode : answer.state === "Pending" ? "VNF_TIMEOUT" : null;
    const body: Record<string, unknown> = {
      success: ok,
      ok,
      ruleId: result.ruleId,
      ...(result.instanceId ? { vnfInstanceId: result.instanceId } : {}),
      state: answer.state,
      vendorRef: answer.state === "Completed" ? answer.vendorRef : null,
      errorCode,
      message: answer.message,
      appliedAt:
        answer.state === "Completed" && answer.appliedAt ? answer.appliedAt : new Date().toISOString(),
      warnings: [],
    };
    if (answer.state === "Pending" && answer.errorCode) body.lastErrorCode = answer.errorCode;
    if (errorCode)
      body.error = { code: errorCode, message: answer.message, retryable: RETRYABLE.has(errorCode) };
    return { status: ok ? (result.created ? 201 : 200) : answer.state === "Pending" ? 202 : 200, body };
  }

  // ---- operations ----

  async function upsertFirewall(ctx: Context): Promise<Reply> {
    const raw = asObject(await ctx.body());
    const instanceId = instanceIdOf(ctx, raw);
    let spec: FirewallSpec;
    let ruleId: string | undefined;
    if (isFirewallWireFormat(raw)) {
      const body = parseBody(firewallWireSchema, raw);
      ruleId = body.ruleId;
      spec = checkFirewallSpec(
        overlayFirewall(firewallDefaults(defaultInterface), firewallWireFragment(body)),
      );
    } else {
      const body = parseBody(createFirewallRuleCmdSchema, raw);
      ruleId = body.ruleId;
      spec = checkFirewallSpec(
        overlayFirewall(firewallDefaults(defaultInterface), firewallContractFragment(body)),
      );
    }
    const device = await deviceFor(ctx, instanceId);
    // The contract makes ruleId optional: derive one from the parameters so a repeat is still idempotent.
    const effectiveRuleId =
      ruleId ??
      `h-${shimOpHash({ kind: "firewall", vnfInstanceId: instanceId, ruleId: "", spec }).slice(0, 32)}`;
    delete (spec as { ruleId?: string }).ruleId;
    return ruleReply(await writeRule("firewall", device, instanceId, effectiveRuleId, spec));
  }

  async function updateFirewall(ctx: Context, ruleIdParam: string): Promise<Reply> {
    const raw = asObject(await ctx.body());
    const ruleId = checkRuleId(ruleIdParam);
    if (raw.ruleId !== undefined && raw.ruleId !== ruleId)
      throw new RequestValidationError([
        { loc: ["body", "ruleId"], msg: "differs from the ruleId in the path", type: "value_error" },
      ]);
    const fragment =
      isFirewallWireFormat(raw) ||
      !["interface", "direction", "src", "dst", "ports"].some((k) => Object.hasOwn(raw, k))
        ? firewallWireFragment(parseBody(firewallWireUpdateSchema, raw))
        : firewallContractFragment(parseBody(createFirewallRuleCmdSchema, raw));
    const { rule, instanceId } = await existingRule(ctx, "firewall", ruleId, raw);
    const device = await deviceFor(ctx, instanceId);
    const { deviceRef: _d, ruleId: _r, ...current } = rule.spec;
    const spec = checkFirewallSpec(overlayFirewall(current as Partial<FirewallSpec>, fragment));
    delete (spec as { ruleId?: string }).ruleId;
    return ruleReply(await writeRule("firewall", device, instanceId, ruleId, spec, rule));
  }

  async function createNat(ctx: Context): Promise<Reply> {
    const raw = asObject(await ctx.body());
    const instanceId = instanceIdOf(ctx, raw);
    const body = parseBody(natWireSchema, raw);
    const spec = natSpecFromWire(body, defaultInterface);
    const device = await deviceFor(ctx, instanceId);
    return ruleReply(await writeRule("nat", device, instanceId, body.ruleId, spec));
  }

  /** The rule a ruleId names, in the configured namespaces (and on the given instance, if any). */
  async function existingRule(
    ctx: Context,
    kind: ShimRuleKind,
    ruleId: string,
    body?: Record<string, unknown>,
  ): Promise<{ rule: ShimRule; instanceId: string }> {
    const found = await findRule(ctx, kind, ruleId, body);
    if (!found)
      throw new HttpError(404, "not_found", `no ${kind} rule with ruleId ${ruleId}`, { extra: { ruleId } });
    return found;
  }

  async function findRule(
    ctx: Context,
    kind: ShimRuleKind,
    ruleId: string,
    body?: Record<string, unknown>,
  ): Promise<{ rule: ShimRule; instanceId: string } | undefined> {
    let wanted: string | undefined;
    try {
      wanted = instanceIdOf(ctx, body);
    } catch (error) {
      if (!(error instanceof RequestValidationError) || error.details[0]?.type !== "missing") throw error;
    }
    const rule = await kube.findRule(kind, ruleResourceName(kind, ruleId));
    if (!rule || rule.spec.ruleId !== ruleId) return undefined;
    const instanceId = rule.metadata.labels?.[LABEL_VNF_INSTANCE] ?? "";
    if (wanted !== undefined && wanted !== instanceId) return undefined;
    return { rule, instanceId };
  }

  async function deleteRule(ctx: Context, kind: ShimRuleKind, ruleIdParam?: string): Promise<Reply> {
    let ruleId: string;
    let body: Record<string, unknown> | undefined;
    if (ruleIdParam === undefined) {
      body = parseBody(deleteWireSchema, await ctx.body()) as Record<string, unknown>;
      ruleId = String(body.ruleId);
    } else ruleId = checkRuleId(ruleIdParam);
    const found = await findRule(ctx, kind, ruleId, body);
    if (!found)
      return ruleReply({
        ruleId,
        answer: { state: "Completed", vendorRef: "", message: "no such rule (already deleted)" },
      });
    const { rule, instanceId } = found;
    const namespace = rule.metadata.namespace ?? "";
    await kube.deleteRule(kind, namespace, rule.metadata.name);
    const left = await waitGone(kind, namespace, rule.metadata.name);
    const answer: RuleAnswer = left
      ? {
          state: "Pending",
          ...(left.status?.errorCode ? { errorCode: left.status.errorCode } : {}),
          message: `deletion not finished within ${Math.round(waitTimeoutMs / 1000)}s${readyText(left)}; repeat the request for the outcome`,
        }
      : {
          state: "Completed",
          vendorRef: rule.status?.vendorRef ?? "",
          message: "deleted from the appliance",
        };
    metrics.answers.inc({ kind, state: answer.state });
    return ruleReply({ answer, ruleId, instanceId });
  }

  async function listFirewall(ctx: Context): Promise<Reply> {
    const instanceId = instanceIdOf(ctx);
    const rules = await kube.listRules("firewall", `${LABEL_VNF_INSTANCE}=${instanceId}`);
    const views = rules.map(ruleView);
    return {
      status: 200,
      body: { success: true, vnfInstanceId: instanceId, count: views.length, rules: views },
    };
  }

  async function getFirewall(ctx: Context, ruleIdParam: string): Promise<Reply> {
    const ruleId = checkRuleId(ruleIdParam);
    const { rule } = await existingRule(ctx, "firewall", ruleId);
    return { status: 200, body: { success: true, ...ruleView(rule) } };
  }

  async function health(): Promise<Reply> {
    try {
      await kube.ping();
      return {
        status: 200,
        body: { status: "healthy", kubernetes: "reachable", timestamp: new Date().toISOString() },
      };
    } catch (error) {
      log.warn(
        { err: error instanceof Error ? error.message : String(error) },
        "health: API server not reachable",
      );
      return {
        status: 503,
        body: { status: "unhealthy", kubernetes: "unreachable", timestamp: new Date().toISOString() },
      };
    }
  }

  const routes: Route[] = [
    { method: "GET", pattern: /^\/health$/, name: "health", access: "public", handle: () => health() },
    {
      method: "GET",
      pattern: /^\/metrics$/,
      name: "metrics",
      access: "public",
      handle: async () => ({
        status: 200,
        body: await metrics.registry.metrics(),
        contentType: metrics.registry.contentType,
      }),
    },
    // J/client/VnfBrokerClient (network element)
    {
      method: "POST",
      pattern: /^\/firewall\/rules$/,
      name: "firewall.create",
      access: "write",
      handle: upsertFirewall,
    },
    {
      method: "POST",
      pattern: /^\/firewall\/rules\/delete$/,
      name: "firewall.delete",
      access: "write",
      handle: (c) => deleteRule(c, "firewall"),
    },
    { method: "POST", pattern: /^\/nat\/rules$/, name: "nat.create", access: "write", handle: createNat },
    {
      method: "POST",
      pattern: /^\/nat\/rules\/delete$/,
      name: "nat.delete",
      access: "write",
      handle: (c) => deleteRule(c, "nat"),
    },
    {
      method: "GET",
      pattern: /^\/firewall\/rules\/([^/]+)$/,
      name: "firewall.get",
      access: "read",
      handle: (c, p) => getFirewall(c, p[0] ?? ""),
    },
    // J/broker/VnfBrokerClient (service)
    {
      method: "POST",
      pattern: /^\/rules\/firewall$/,
      name: "firewall.create",
      access: "write",
      handle: upsertFirewall,
    },
    {
      method: "GET",
      pattern: /^\/rules\/firewall$/,
      name: "firewall.list",
      access: "read",
      handle: listFirewall,
    },
    {
      method: "GET",
      pattern: /^\/rules\/firewall\/([^/]+)$/,
      name: "firewall.get",
      access: "read",
      handle: (c, p) => getFirewall(c, p[0] ?? ""),
    },
    {
      method: "PUT",
      pattern: /^\/rules\/firewall\/([^/]+)$/,
      name: "firewall.update",
      access: "write",
      handle: (c, p) => updateFirewall(c, p[0] ?? ""),
    },
    {
      method: "DELETE",
      pattern: /^\/rules\/firewall\/([^/]+)$/,
      name: "firewall.delete",
      access: "write",
      handle: (c, p) => deleteRule(c, "firewall", p[0] ?? ""),
    },
    { method: "POST", pattern: /^\/rules\/nat$/, name: "nat.create", access: "write", handle: createNat },
    {
      method: "DELETE",
      pattern: /^\/rules\/nat\/([^/]+)$/,
      name: "nat.delete",
      access: "write",
      handle: (c, p) => deleteRule(c, "nat", p[0] ?? ""),
    },
  ];

  // ---- request handling ----

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const started = performance.now();
    const requestId = randomUUID();
    const url = new URL(req.url ?? "/", "http://shim.invalid");
    let routeName = "unknown";
    let subject: string | undefined;
    let reply: Reply;
    try {
      const { path, instance } = stripPrefixes(url.pathname);
      const matches = routes.filter((r) => r.pattern.test(path));
      const route = matches.find((r) => r.method === req.method);
      if (!route) {
        throw matches.length > 0
          ? new HttpError(405, "method_not_allowed", `${req.method} is not served on ${path}`, {
              headers: { allow: [...new Set(matches.map((m) => m.method))].join(", ") },
            })
          : new HttpError(404, "not_found", `no route ${req.method} ${path}`);
      }
      routeName = route.name;
      if (route.access !== "public") {
        const auth = await authenticate(header(req, "authorization"), options.jwt);
        subject = auth.ok ? auth.subject : undefined;
        const decision = limiter.check(
          auth.ok ? `sub:${auth.subject}` : `ip:${req.socket.remoteAddress ?? "?"}`,
          Date.now(),
        );
        if (!decision.allowed) {
          metrics.rateLimited.inc();
          throw new HttpError(429, "rate_limited", "too many requests", {
            errorCode: "VNF_RATE_LIMIT",
            headers: { "retry-after": String(decision.retryAfterSec) },
            extra: { retry_after: decision.retryAfterSec },
          });
        }
        if (!auth.ok) {
          metrics.jwtInvalid.inc({ reason: auth.reason });
          throw new HttpError(401, "unauthorized", auth.message, {
            headers: { "www-authenticate": `Bearer error="invalid_token"` },
          });
        }
        if (!hasScope(auth.scopes, route.access)) {
          metrics.jwtInvalid.inc({ reason: "insufficient_scope" });
          throw new HttpError(
            403,
            "forbidden",
            `scope ${route.access === "write" ? "vnf:rw" : "vnf:r"} required`,
            {
              headers: { "www-authenticate": `Bearer error="insufficient_scope"` },
            },
          );
        }
      }
      const params = route.pattern.exec(path)?.slice(1).map(decodeSegment) ?? [];
      let bodyPromise: Promise<unknown> | undefined;
      const ctx: Context = {
        req,
        url,
        path,
        pathInstance: instance,
        requestId,
        body: () => {
          bodyPromise ??= readJson(req, maxBody);
          return bodyPromise;
        },
      };
      reply = await route.handle(ctx, params);
    } catch (error) {
      reply = errorReply(error, requestId, log);
    }
    send(res, reply, requestId);
    const code = String(reply.status);
    metrics.requests.inc({ method: req.method ?? "?", route: routeName, code });
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

  const listener = (req: http.IncomingMessage, res: http.ServerResponse) => {
    handle(req, res).catch((error: unknown) => {
      log.error({ err: error instanceof Error ? error.message : String(error) }, "request handler failed");
      if (!res.headersSent) res.writeHead(500).end();
    });
  };
  const server = options.tls
    ? https.createServer(
        {
          cert: options.tls.cert,
          key: options.tls.key,
          ...(options.tls.clientCa
            ? { ca: options.tls.clientCa, requestCert: true, rejectUnauthorized: true }
            : {}),
          minVersion: "TLSv1.2",
        },
        listener,
      )
    : http.createServer(listener);
  server.requestTimeout = waitTimeoutMs + 30_000;

  return {
    server,
    metrics,
    listen: (port, host = "0.0.0.0") =>
      new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => {
          server.off("error", reject);
          resolve(server.address() as AddressInfo);
        });
      }),
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

// ---- helpers --------------------------------------------------------------------------------------

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
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

function checkRuleId(ruleId: string): string {
  if (!/^[A-Za-z0-9_-]{1,128}$/.test(ruleId))
    throw new RequestValidationError([
      { loc: ["path", "ruleId"], msg: "1 to 128 letters, digits, '_' or '-'", type: "value_error" },
    ]);
  return ruleId;
}

function asObject(body: unknown): Record<string, unknown> {
  if (body === null || typeof body !== "object" || Array.isArray(body))
    throw new RequestValidationError([
      { loc: ["body"], msg: "a JSON object is required", type: "object_type" },
    ]);
  return body as Record<string, unknown>;
}

async function readJson(req: http.IncomingMessage, limit: number): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new HttpError(413, "payload_too_large", `the body exceeds ${limit} bytes`);
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

function readyText(rule: ShimRule): string {
  const ready = rule.status?.conditions?.find((c) => c.type === "Ready");
  return ready?.message ? ` (${ready.reason}: ${ready.message})` : "";
}

/** A rule as the list/get answers show it: the wire-format view of its spec plus its state. */
function ruleView(rule: ShimRule): Record<string, unknown> {
  const spec = rule.spec as Record<string, unknown> & {
    source?: { cidr?: string; alias?: string; port?: string };
    destination?: { cidr?: string; alias?: string; port?: string };
  };
  const generation = rule.metadata.generation ?? 1;
  const answer = decide(rule, generation);
  return {
    ruleId: rule.metadata.annotations?.[ANNOTATION_RULE_ID] ?? spec.ruleId,
    name: rule.metadata.name,
    namespace: rule.metadata.namespace,
    state: answer?.state ?? "Pending",
    vendorRef: rule.status?.vendorRef ?? null,
    errorCode: rule.status?.errorCode ?? null,
    action: spec.action,
    protocol: spec.protocol,
    interface: spec.interface,
    direction: spec.direction,
    sourceAddressing: spec.source?.cidr ?? spec.source?.alias ?? "any",
    destinationAddressing: spec.destination?.cidr ?? spec.destination?.alias ?? "any",
    sourcePorts: spec.source?.port ?? "any",
    destinationPorts: spec.destination?.port ?? "any",
    description: spec.description ?? null,
    appliedAt: rule.status?.appliedAt ?? null,
  };
}

function fromApiError(error: unknown): unknown {
  if (error instanceof KubeApiError && (error.status === 422 || error.status === 400)) {
    const causes =
      (error.details as { causes?: Array<{ field?: string; message?: string; reason?: string }> } | undefined)
        ?.causes ?? [];
    const details: ValidationDetail[] = causes.length
      ? causes.map((c) => ({
          loc: [
            "spec",
            ...(c.field ?? "")
              .replace(/^spec\.?/, "")
              .split(".")
              .filter(Boolean),
          ],
          msg: c.message ?? "invalid",
          type: c.reason ?? "value_error",
        }))
      : [{ loc: ["spec"], msg: error.message, type: "value_error" }];
    return new RequestValidationError(details);
  }
  return error;
}

function errorReply(error: unknown, requestId: string, log: Logger): Reply {
  const base = { success: false, ok: false, timestamp: new Date().toISOString(), request_id: requestId };
  if (error instanceof RequestValidationError)
    return {
      status: 400,
      body: {
        ...base,
        error: "validation_error",
        errorCode: "BROKER_INVALID_REQUEST",
        message: "Validation error",
        details: error.details,
      },
    };
  if (error instanceof HttpError)
    return {
      status: error.status,
      headers: error.headers,
      body: {
        ...base,
        error: error.slug,
        errorCode: error.errorCode,
        message: error.message,
        ...(error.details ? { details: error.details } : {}),
        ...error.extra,
      },
    };
  if (error instanceof KubeApiError) {
    log.warn({ status: error.status, reason: error.reason, err: error.message }, "API server call failed");
    const status = error.status === 0 ? 503 : 502;
    return {
      status,
      body: {
        ...base,
        error: "kubernetes_unavailable",
        errorCode: "BROKER_INTERNAL",
        message: `the API server answered ${error.status || "nothing"} ${error.reason}`,
      },
    };
  }
  log.error({ err: error instanceof Error ? error.message : String(error) }, "unexpected error");
  return {
    status: 500,
    body: { ...base, error: "internal", errorCode: "BROKER_INTERNAL", message: "internal error" },
  };
}

function send(res: http.ServerResponse, reply: Reply, requestId: string): void {
  const text = typeof reply.body === "string" ? reply.body : JSON.stringify(reply.body);
  res.writeHead(reply.status, {
    "content-type": reply.contentType ?? JSON_TYPE,
    "x-request-id": requestId,
    ...(reply.headers ?? {}),
  });
  res.end(text);
}
