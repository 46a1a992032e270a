// pfSense-pkg-RESTAPI v2 (pfrest), as documented in jaredhendrickson13/pfsense-api docs/ and
// pfSense-pkg-RESTAPI/files/usr/local/pkg/RESTAPI/. See README.md for what is and is not simulated.
import { randomBytes } from "node:crypto";
import type {
  CommonSimulatorOptions,
  ObjectKind,
  ObjectsView,
  ObjectWriteOptions,
  VendorObject,
} from "../common/types.ts";
import {
  type Json,
  type SimRequest,
  type SimResponse,
  SimulatorControlError,
  type VendorContext,
  type VendorDefinition,
  type VendorSimulator,
} from "../common/vendor.ts";
import { aliasNames, checkUnique } from "./aliases.ts";
import { PfAuth, type PfAuthMethod } from "./auth.ts";
import { errorEnvelope, nginxNotFound, PfError, statusEnvelope, success } from "./envelope.ts";
import { type PfRecord, validateFields, withDefaults } from "./fields.ts";
import { firewallRule, type ModelSpec, models, portForward, type Subsystem } from "./models.ts";
import { OUTBOUND_NAT_MODES } from "./nat-models.ts";
import { runQuery, typedValue } from "./query.ts";
import { emptyConfig, type PfConfig, PfStore } from "./store.ts";

export interface PfSenseSimulatorOptions {
  /** Enabled authentication methods (default all three; the package's own default is Basic only). */
  authMethods?: PfAuthMethod[];
  /** JWT lifetime (`jwt_exp`), default 3600 s. */
  jwtExpirySeconds?: number;
  /**
   * How long a configuration write takes, default 10 ms. Writes whose windows overlap lose all but the
   * last (pfrest #238); 0 makes every write instant and nothing is ever lost.
   */
  writeLatencyMs?: number;
  /** Interface ids, default wan, lan, opt1. */
  interfaces?: string[];
  /**
   * Names that rules may use as addresses as if host/network aliases existed by them, default none
   * (alias objects created through `/api/v2/firewall/alias` or the control kind `alias` count too).
   */
  aliases?: string[];
  /** Start with pfSense's two default LAN allow rules (trackers 100000101/100000102), default true. */
  factoryRules?: boolean;
  /** The outbound NAT mode at start (and after reset), default `automatic` as on a fresh install. */
  outboundMode?: (typeof OUTBOUND_NAT_MODES)[number];
  version?: string;
  serial?: string;
  netgateId?: string;
}

export type PfSenseOptions = PfSenseSimulatorOptions & CommonSimulatorOptions;

interface Route {
  methods: readonly string[];
  /** Restricts authentication (auth endpoints take Basic only). */
  auth?: readonly PfAuthMethod[];
  handle(request: RouteRequest): Promise<SimResponse>;
}

interface RouteRequest {
  method: string;
  data: PfRecord;
  query: URLSearchParams;
  user: string;
  client: string;
  raw: SimRequest;
}

const FIREWALL_SUBSYSTEMS = ["aliases", "natconf", "filter", "shaper"];

function json(value: unknown): Json {
  return value as Json;
}

function represent(records: readonly PfRecord[]): PfRecord[] {
  return records.map((record, id) => ({ id, ...record }));
}

function factoryConfig(
  interfaces: readonly string[],
  enabled: boolean,
  outboundMode: string,
): () => PfConfig {
  return () => {
    const config = emptyConfig();
    config.outboundMode = outboundMode;
    if (!enabled || !interfaces.includes("lan")) return config;
    const base = {
      type: "pass",
      interface: ["lan"],
      source: "lan",
      destination: "any",
      created_time: 0,
      created_by: "(system)",
      updated_time: 0,
      updated_by: "(system)",
    };
    config.filter.push(
      withDefaults(firewallRule.fields, {
        ...base,
        ipprotocol: "inet",
        descr: "Default allow LAN to any rule",
        tracker: 100000101,
      }),
      withDefaults(firewallRule.fields, {
        ...base,
        ipprotocol: "inet6",
        descr: "Default allow LAN IPv6 to any rule",
        tracker: 100000102,
      }),
    );
    return config;
  };
}

export class PfSenseSimulator implements VendorSimulator {
  readonly kinds: ObjectKind[] = models.map((model) => model.kind);
  readonly redaction = { headers: ["x-api-key"] };
  private readonly context: VendorContext;
  private readonly auth: PfAuth;
  private readonly store: PfStore;
  private readonly interfaces: readonly string[];
  private readonly applyDelayMs: number;
  private readonly options: PfSenseOptions;
  private readonly routes = new Map<string, Route>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private applying = 0;
  private uniq = 0;
  private readonly bootTime: number;

  constructor(context: VendorContext, options: PfSenseOptions) {
    this.context = context;
    this.options = options;
    this.interfaces = options.interfaces ?? ["wan", "lan", "opt1"];
    this.applyDelayMs = options.applyDelayMs ?? 0;
    this.bootTime = context.now();
    const credentials = {
      username: options.credentials?.username ?? "admin",
      password: options.credentials?.password ?? randomBytes(12).toString("base64url"),
    };
    this.auth = new PfAuth(
      credentials,
      options.authMethods ?? ["basic", "key", "jwt"],
      options.jwtExpirySeconds ?? 3600,
      context.now,
    );
    this.store = new PfStore(
      factoryConfig(this.interfaces, options.factoryRules ?? true, options.outboundMode ?? "automatic"),
      options.writeLatencyMs ?? 10,
      (ms) => this.sleep(ms),
    );
    this.registerRoutes();
  }

  get credentials(): Record<string, string> {
    return this.auth.credentials;
  }

  // ---- request handling ----

  async handle(request: SimRequest): Promise<SimResponse> {
    const path = request.path.length > 1 ? request.path.replace(/\/+$/, "") : request.path;
    const route = this.routes.get(path);
    if (!route) return nginxNotFound();
    const user = await this.auth.authenticate(request, route.auth);
    if (user === undefined) return this.authFailureResponse();
    try {
      if (!route.methods.includes(request.method)) {
        throw new PfError(
          405,
          "ENDPOINT_METHOD_NOT_ALLOWED",
          `Resource at ${path} does not support the requested HTTP method '${request.method}'`,
        );
      }
      const data =
        request.method === "GET" || request.method === "DELETE"
          ? queryData(request.query)
          : parseBody(request);
      return await route.handle({
        method: request.method,
        data,
        query: request.query,
        user,
        client: request.remoteAddress.replace(/^::ffff:/, ""),
        raw: request,
      });
    } catch (error) {
      if (error instanceof PfError) return errorEnvelope(error);
      throw error;
    }
  }

  errorResponse(status: number): SimResponse {
    return statusEnvelope(status);
  }

  rateLimitResponse(retryAfterSeconds: number, _request: SimRequest, status = 503): SimResponse {
    return statusEnvelope(status, retryAfterSeconds);
  }

  authFailureResponse(): SimResponse {
    return errorEnvelope(new PfError(401, "AUTH_AUTHENTICATION_FAILED", "Authentication failed."));
  }

  expireSessions(): void {
    this.auth.expireSessions();
  }

  setCredentials(credentials: Record<string, string>): void {
    this.auth.setCredentials(credentials);
  }

  reset(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.applying = 0;
    this.store.reset();
    this.auth.reset();
  }

  dispose(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      this.timers.add(timer);
    });
  }

  // ---- routes ----

  private registerRoutes(): void {
    this.routes.set("/api/v2/auth/jwt", {
      methods: ["POST"],
      auth: ["basic"],
      handle: async ({ user }) => {
        this.context.counters.loginCount += 1;
        return success({ token: await this.auth.issueJwt(user) });
      },
    });
    this.routes.set("/api/v2/auth/key", {
      methods: ["POST"],
      auth: ["basic"],
      handle: async ({ user, data }) => {
        const lengthBytes = typeof data.length_bytes === "number" ? data.length_bytes : 24;
        const key = this.auth.issueApiKey(lengthBytes);
        return success({
          id: this.auth.apiKeysIssued().length - 1,
          username: user,
          hash_algo: typeof data.hash_algo === "string" ? data.hash_algo : "sha256",
          length_bytes: lengthBytes,
          descr: typeof data.descr === "string" ? data.descr : "",
          key,
        });
      },
    });
    this.routes.set("/api/v2/status/system", {
      methods: ["GET"],
      handle: async () => success(this.systemStatus()),
    });
    this.routes.set("/api/v2/system/version", {
      methods: ["GET"],
      handle: async () => {
        const version = this.options.version ?? "2.7.2-RELEASE";
        return success({
          version,
          base: version.split("-")[0] ?? version,
          patch: "0",
          buildtime: "Fri Nov 17 12:00:00 UTC 2023",
        });
      },
    });
    this.routes.set("/api/v2/firewall/apply", {
      methods: ["GET", "POST"],
      handle: async ({ method, data }) => {
        if (method === "POST") await this.apply(data.async !== false);
        return success(this.applyStatus());
      },
    });
    this.routes.set("/api/v2/firewall/nat/outbound/mode", {
      methods: ["GET", "PATCH"],
      handle: async ({ method, data }) => {
        if (method === "PATCH") {
          const mode = data.mode;
          const choices: readonly string[] = OUTBOUND_NAT_MODES;
          if (typeof mode !== "string" || !choices.includes(mode)) {
            throw new PfError(
              400,
              "FIELD_INVALID_CHOICE",
              `Field \`mode\` must be one of [${choices.join(", ")}]`,
            );
          }
          await this.store.write(["natconf"], (config) => {
            config.outboundMode = mode;
          });
          if (data.apply === true) await this.apply(data.async !== false);
        }
        return success({ mode: this.store.candidate.outboundMode });
      },
    });
    for (const model of models) {
      this.routes.set(model.singular, {
        methods: ["GET", "POST", "PATCH", "DELETE"],
        handle: (request) => this.singular(model, request),
      });
      this.routes.set(model.plural, {
        methods: ["GET", "PUT", "DELETE"],
        handle: (request) => this.plural(model, request),
      });
    }
  }

  private systemStatus(): Json {
    const uptimeSeconds = Math.floor((this.context.now() - this.bootTime) / 1000);
    return {
      platform: "pfSense",
      serial: this.options.serial ?? "PFSIM0000000001",
      netgate_id: this.options.netgateId ?? "5f3c0e6a0d1b2c3d4e5f",
      uptime: `${uptimeSeconds} Seconds`,
      bios_vendor: "SeaBIOS",
      bios_version: "1.16.3",
      bios_date: "04/01/2014",
      kernel_pti: false,
      mds_mitigation: "inactive",
      temp_c: null,
      temp_f: null,
      cpu_model: "QEMU Virtual CPU (simulated)",
      cpu_load_avg: [0.1, 0.05, 0.01],
      cpu_count: 2,
      cpu_usage: 5,
      mbuf_usage: 1,
      mem_usage: 20,
      swap_usage: 0,
      disk_usage: 10,
    };
  }

  private applyStatus(): Json {
    const pending = FIREWALL_SUBSYSTEMS.filter((s) => this.store.dirty.has(s as Subsystem));
    return { applied: pending.length === 0 && this.applying === 0, pending_subsystems: pending };
  }

  /** Applies pending changes; with a delay, `async` (the default) answers before it is done. */
  private async apply(async: boolean): Promise<void> {
    this.context.counters.applyCount += 1;
    if (this.applyDelayMs <= 0) {
      this.store.applyNow();
      return;
    }
    this.applying += 1;
    const done = this.sleep(this.applyDelayMs).then(() => {
      this.applying -= 1;
      this.store.applyNow();
    });
    if (!async) await done;
  }

  /** The audit fields, on the models that have them (aliases do not). */
  private stamp(record: PfRecord, request: RouteRequest, created: boolean): void {
    if (!Object.hasOwn(record, "updated_time")) return;
    const now = Math.floor(this.context.now() / 1000);
    const by = `${request.user}@${request.client} (API)`;
    if (created) {
      record.created_time = now;
      record.created_by = by;
    }
    record.updated_time = now;
    record.updated_by = by;
  }

  private validated(model: ModelSpec, data: PfRecord, initial: PfRecord | undefined): PfRecord {
    const input = { ...data };
    for (const control of [
      "id",
      "apply",
      "async",
      "placement",
      "sort_by",
      "sort_order",
      "append",
      "remove",
    ]) {
      delete input[control];
    }
    const existing = aliasNames(this.store.candidate.aliases);
    const record = validateFields(
      model.fields,
      input,
      initial,
      this.interfaces,
      [...(this.options.aliases ?? []), ...existing.addresses],
      existing.ports,
    );
    model.validate?.(record, new Date(this.context.now()));
    // Keep the declaration order (a field nulled by its conditions or by the model stays null: on
    // update, `record` already holds the stored values, read-only fields included).
    const ordered: PfRecord = {};
    for (const field of model.fields) ordered[field.name] = record[field.name] ?? null;
    return ordered;
  }

  private async singular(model: ModelSpec, request: RouteRequest): Promise<SimResponse> {
    const { data } = request;
    const subsystems: Subsystem[] = [model.subsystem];
    switch (request.method) {
      case "GET": {
        const id = requireId(data);
        const records = this.store.candidate[model.section];
        return success(json({ id, ...objectAt(records, id) }));
      }
      case "POST": {
        const record = this.validated(model, data, undefined);
        if (model.tracker) record.tracker = this.store.nextTracker(this.context.now());
        this.stamp(record, request, true);
        const associated = this.associatedRule(model, record);
        if (associated) subsystems.push("filter");
        const { value, overwrote } = await this.store.write(subsystems, (config) => {
          const records = config[model.section];
          checkUnique(model, records, record);
          records.splice(placement(data, records.length), 0, record);
          if (associated) config.filter.push(associated);
          sortRecords(model, records);
          return { id: records.indexOf(record), ...record };
        });
        this.context.counters.lostWrites += overwrote;
        if (data.apply === true) await this.apply(data.async !== false);
        return success(json(value));
      }
      case "PATCH": {
        const id = requireId(data);
        const { value, overwrote } = await this.store.write(subsystems, (config) => {
          const records = config[model.section];
          const existing = objectAt(records, id);
          const before = structuredClone({ id, ...existing });
          const record = this.validated(model, data, existing);
          checkUnique(model, records, record, id);
          this.stamp(record, request, false);
          records.splice(id, 1);
          records.splice(placement(data, id, records.length), 0, record);
          sortRecords(model, records);
          return { object: { id: records.indexOf(record), ...record }, before };
        });
        this.context.counters.lostWrites += overwrote;
        if (data.apply === true) await this.apply(data.async !== false);
        return { ...success(json(value.object)), affected: [value.before] };
      }
      case "DELETE": {
        const id = requireId(data);
        const { value, overwrote } = await this.store.write(subsystems, (config) => {
          const records = config[model.section];
          const existing = objectAt(records, id);
          if (records.length <= model.manyMinimum) {
            throw new PfError(
              400,
              "MODEL_MANY_MINIMUM_REACHED",
              `At least ${model.manyMinimum} object(s) of this type must exist; the last one cannot be deleted.`,
            );
          }
          records.splice(id, 1);
          removeAssociatedRule(config, existing);
          return { id, ...existing };
        });
        this.context.counters.lostWrites += overwrote;
        if (data.apply === true) await this.apply(data.async !== false);
        return { ...success(json(value)), affected: [structuredClone(value)] };
      }
      default:
        throw new PfError(405, "ENDPOINT_METHOD_NOT_ALLOWED", `Unknown HTTP method '${request.method}'`);
    }
  }

  private async plural(model: ModelSpec, request: RouteRequest): Promise<SimResponse> {
    switch (request.method) {
      case "GET":
        return success(json(runQuery(represent(this.store.candidate[model.section]), request.query)));
      case "DELETE": {
        const all = request.query.get("all") === "true";
        // Model::delete_many: "As a safety net, always require at least one query parameter".
        if (!all && [...request.query.keys()].length === 0) {
          throw new PfError(
            400,
            "MODEL_DELETE_MANY_REQUIRES_QUERY_PARAMS",
            "At least one query parameter is required to perform mass deletion.",
          );
        }
        const { value, overwrote } = await this.store.write([model.subsystem], (config) => {
          const records = config[model.section];
          const doomed = all ? represent(records) : runQuery(represent(records), request.query);
          const ids = new Set(doomed.map((item) => item.id as number));
          config[model.section] = records.filter((_record, index) => !ids.has(index));
          for (const item of doomed) removeAssociatedRule(config, item);
          return doomed;
        });
        this.context.counters.lostWrites += overwrote;
        return { ...success(json(value)), affected: structuredClone(value) };
      }
      case "PUT": {
        const items = parseBodyList(request.raw);
        const records = items.map((item) => {
          const record = this.validated(model, item, undefined);
          if (model.tracker) record.tracker = this.store.nextTracker(this.context.now());
          this.stamp(record, request, true);
          return record;
        });
        const { value, overwrote } = await this.store.write([model.subsystem], (config) => {
          const replaced = represent(structuredClone(config[model.section]));
          sortRecords(model, records);
          config[model.section] = records;
          return { objects: represent(records), replaced };
        });
        this.context.counters.lostWrites += overwrote;
        return { ...success(json(value.objects)), affected: value.replaced };
      }
      default:
        throw new PfError(405, "ENDPOINT_METHOD_NOT_ALLOWED", `Unknown HTTP method '${request.method}'`);
    }
  }

  /** `associated_rule_id: "new"` on a port forward creates a linked filter rule (`nat_...` id). */
  private associatedRule(model: ModelSpec, record: PfRecord): PfRecord | undefined {
    if (model !== portForward || record.associated_rule_id !== "new") return undefined;
    this.uniq += 1;
    const ruleId = `nat_${(Math.floor(this.context.now() / 1000) * 1000 + this.uniq).toString(16)}`;
    record.associated_rule_id = ruleId;
    const rule = withDefaults(firewallRule.fields, {
      type: "pass",
      interface: [record.interface],
      ipprotocol: "inet",
      protocol: record.protocol,
      source: record.source,
      source_port: record.source_port,
      destination: record.target,
      destination_port: record.local_port,
      descr: `NAT ${String(record.descr ?? "")}`,
      tracker: this.store.nextTracker(this.context.now()),
      associated_rule_id: ruleId,
      created_time: record.created_time,
      created_by: record.created_by,
      updated_time: record.updated_time,
      updated_by: record.updated_by,
    });
    return rule;
  }

  // ---- control API ----

  private model(kind: ObjectKind): ModelSpec {
    const model = models.find((candidate) => candidate.kind === kind);
    if (!model)
      throw new SimulatorControlError(
        404,
        `pfSense has no object kind ${kind} (kinds: ${this.kinds.join(", ")})`,
      );
    return model;
  }

  /** Filter rules are addressed by tracker, the other kinds by their index id. */
  private indexOf(model: ModelSpec, config: PfConfig, id: string): number {
    const records = config[model.section];
    const index = model.tracker
      ? records.findIndex((record) => String(record.tracker) === id)
      : /^\d+$/.test(id) && Number(id) < records.length
        ? Number(id)
        : -1;
    if (index < 0) throw new SimulatorControlError(404, `no ${model.kind} with id ${id}`);
    return index;
  }

  objects(kind: ObjectKind): ObjectsView {
    const model = this.model(kind);
    return {
      kind,
      candidate: represent(this.store.candidate[model.section]),
      running: represent(this.store.running[model.section]),
      pending: this.store.dirty.has(model.subsystem),
    };
  }

  putObject(kind: ObjectKind, object: VendorObject, options: ObjectWriteOptions): string {
    const model = this.model(kind);
    const record = withDefaults(model.fields, object);
    const now = Math.floor(this.context.now() / 1000);
    if (model.tracker && typeof record.tracker !== "number")
      record.tracker = this.store.nextTracker(this.context.now());
    for (const [field, value] of [
      ["created_time", now],
      ["created_by", "admin@127.0.0.1 (Local Database)"],
      ["updated_time", now],
      ["updated_by", "admin@127.0.0.1 (Local Database)"],
    ] as const) {
      if (Object.hasOwn(record, field) && record[field] === null) record[field] = value;
    }
    return this.store.writeDirect(
      model.subsystem,
      (config) => {
        const records = config[model.section];
        records.splice(options.position ?? records.length, 0, record);
        sortRecords(model, records);
        return model.tracker ? String(record.tracker) : String(records.indexOf(record));
      },
      options.apply ?? true,
    );
  }

  updateObject(kind: ObjectKind, id: string, patch: VendorObject, options: ObjectWriteOptions): void {
    const model = this.model(kind);
    const index = this.indexOf(model, this.store.candidate, id);
    this.store.writeDirect(
      model.subsystem,
      (config) => {
        const records = config[model.section];
        const existing = records[index] as PfRecord;
        const known = new Set(model.fields.map((field) => field.name));
        for (const [field, value] of Object.entries(patch)) {
          if (known.has(field) && field !== "tracker") existing[field] = value;
        }
        if (options.position !== undefined) {
          records.splice(index, 1);
          records.splice(options.position, 0, existing);
        }
        sortRecords(model, records);
      },
      options.apply ?? true,
    );
  }

  deleteObject(kind: ObjectKind, id: string, options: ObjectWriteOptions): void {
    const model = this.model(kind);
    const index = this.indexOf(model, this.store.candidate, id);
    this.store.writeDirect(
      model.subsystem,
      (config) => {
        config[model.section].splice(index, 1);
      },
      options.apply ?? true,
    );
  }
}

// ---- request parsing helpers ----

function queryData(query: URLSearchParams): PfRecord {
  const data: PfRecord = {};
  for (const [key, value] of query) data[key] = typedValue(value);
  return data;
}

function checkJsonContentType(request: SimRequest): void {
  const contentType = String(request.headers["content-type"] ?? "application/json")
    .split(";")[0]
    ?.trim();
  if (contentType !== "application/json") {
    throw new PfError(415, "CONTENT_TYPE_NOT_SUPPORTED", `Content-Type '${contentType}' is not supported.`);
  }
}

function decodeJson(request: SimRequest): unknown {
  checkJsonContentType(request);
  if (request.body.trim() === "") return {};
  try {
    return JSON.parse(request.body);
  } catch {
    throw new PfError(
      400,
      "JSON_CONTENT_HANDLER_COULD_NOT_DECODE",
      "Request data could not be decoded as JSON.",
    );
  }
}

function parseBody(request: SimRequest): PfRecord {
  const parsed = decodeJson(request);
  if (Array.isArray(parsed) && request.method === "PUT") return {};
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new PfError(
      400,
      "MODEL_NON_ARRAY_REPRESENTATION_DATA",
      "Representation data must be of type `array`.",
    );
  }
  return parsed as PfRecord;
}

function parseBodyList(request: SimRequest): PfRecord[] {
  const parsed = decodeJson(request);
  if (!Array.isArray(parsed)) {
    throw new PfError(
      400,
      "ENDPOINT_REQUEST_DATA_MUST_BE_INDEXED_ARRAY",
      "PUT requests to 'many' endpoints must contain an indexed array of objects to replace.",
    );
  }
  return parsed.map((item) => {
    if (typeof item !== "object" || item === null || Array.isArray(item)) {
      throw new PfError(
        400,
        "MODEL_NON_ARRAY_REPRESENTATION_DATA",
        "Representation data must be of type `array`.",
      );
    }
    return item as PfRecord;
  });
}

function requireId(data: PfRecord): number {
  if (data.id === undefined || data.id === null)
    throw new PfError(400, "FIELD_IS_REQUIRED", "Field `id` is required.");
  return data.id as number;
}

function objectAt(records: PfRecord[], id: unknown): PfRecord {
  const record = typeof id === "number" && Number.isInteger(id) ? records[id] : undefined;
  if (!record)
    throw new PfError(404, "MODEL_OBJECT_NOT_FOUND", `Object with ID '${String(id)}' does not exist.`);
  return record;
}

function placement(data: PfRecord, fallback: number, length = fallback): number {
  const value = data.placement;
  if (typeof value === "number" && Number.isInteger(value) && value >= 0) return Math.min(value, length);
  return fallback;
}

function sortRecords(model: ModelSpec, records: PfRecord[]): void {
  if (!model.sortBy) return;
  const key = model.sortBy;
  // Stable, ascending, as PHP's sort on the interface column: ids of other objects may shift.
  records.sort((a, b) => String(a[key]).localeCompare(String(b[key])));
}

function removeAssociatedRule(config: PfConfig, removed: PfRecord): void {
  const ruleId = removed.associated_rule_id;
  if (typeof ruleId !== "string" || !ruleId.startsWith("nat_")) return;
  config.filter = config.filter.filter((rule) => rule.associated_rule_id !== ruleId);
}

export const pfsense: VendorDefinition<PfSenseSimulatorOptions> = {
  vendor: "pfsense",
  credentialKeys: ["username", "password"],
  create: (context, options) => new PfSenseSimulator(context, options),
};
