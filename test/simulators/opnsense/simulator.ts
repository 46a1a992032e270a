// OPNsense API (opnsense/core MVC: ApiMutableModelControllerBase, Firewall/Api/FilterBaseController,
// FilterController, DNatController, SourceNatController; docs.opnsense.org development/api). See
// README.md for what is and is not simulated.
import { randomBytes, randomUUID } from "node:crypto";
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
import {
  applyInput,
  type FieldEnv,
  type ModelSpec,
  models,
  type OpRecord,
  present,
  row,
  toFieldString,
  withDefaults,
} from "./models.ts";

export interface OPNsenseSimulatorOptions {
  /** Seconds after `apply/{revision}` before the configuration rolls back unless confirmed, default 60. */
  rollbackSeconds?: number;
  /** Interface identifiers, default wan, lan, opt1. */
  interfaces?: string[];
  /** Alias names rules may use as networks or ports, default none. */
  aliases?: string[];
  /** Show the anti-lockout automatic row in d_nat searchRule (uuid `lockout_0`), default true. */
  antiLockout?: boolean;
  /** How many config backups (savepoint revisions) are kept, default 60. */
  retention?: number;
  /** `product_version`, default 25.7.2. */
  version?: string;
}

export type OPNsenseOptions = OPNsenseSimulatorOptions & CommonSimulatorOptions;

interface StoredRule {
  uuid: string;
  record: OpRecord;
}

type Config = Record<string, StoredRule[]>;

function json(value: unknown): Json {
  return value as Json;
}

function ok(body: unknown): SimResponse {
  return { status: 200, headers: { "content-type": "application/json; charset=UTF-8" }, body: json(body) };
}

export class OPNsenseSimulator implements VendorSimulator {
  readonly kinds: ObjectKind[] = models.map((model) => model.kind);
  readonly redaction = {};
  private readonly context: VendorContext;
  private readonly options: OPNsenseOptions;
  private readonly env: FieldEnv;
  private key: string;
  private secret: string;
  /** config.xml: what the API reads and writes. */
  private candidate: Config = emptyConfig();
  /** What pf enforces: replaced by `apply` (filter reload). */
  private running: Config = emptyConfig();
  /** Config backups by revision (every save makes one; savepoint returns the newest). */
  private backups = new Map<string, Config>();
  private lastRevision = 0;
  private rollbackTimers = new Map<string, NodeJS.Timeout>();

  constructor(context: VendorContext, options: OPNsenseOptions) {
    this.context = context;
    this.options = options;
    this.env = { interfaces: options.interfaces ?? ["wan", "lan", "opt1"], aliases: options.aliases ?? [] };
    // API keys and secrets are 80-character base64 strings.
    this.key = options.credentials?.key ?? randomBytes(60).toString("base64");
    this.secret = options.credentials?.secret ?? randomBytes(60).toString("base64");
    this.save();
  }

  get credentials(): Record<string, string> {
    return { key: this.key, secret: this.secret };
  }

  // ---- request handling ----

  async handle(request: SimRequest): Promise<SimResponse> {
    if (!this.authenticated(request)) return this.authFailureResponse();
    const segments = request.path.split("/").filter(Boolean).map(decodeURIComponent);
    const [api, module, controller, command, ...params] = segments;
    if (api !== "api" || command === undefined) return notFound();
    if (module === "core" && controller === "firmware" && command === "status") return this.firmwareStatus();
    if (module !== "firewall") return notFound();
    const model = models.find((candidate) => candidate.controller === controller);
    if (model === undefined) return notFound();
    const post = request.method === "POST";
    switch (command) {
      case "searchRule":
        return ok(this.search(model, request));
      case "getRule":
        return ok(this.getRule(model, params[0]));
      case "addRule":
        return ok(post ? this.addRule(model, request) : { result: "failed" });
      case "setRule":
        return ok(post ? this.setRule(model, params[0], request) : { result: "failed" });
      case "delRule":
        return ok(post ? this.delRule(model, params[0]) : { result: "failed" });
      case "toggleRule":
        return ok(post ? this.toggleRule(model, params[0], params[1]) : { result: "failed" });
      case "apply":
        return ok(post ? this.apply(params[0]) : { status: "error" });
      case "savepoint":
        return ok(post ? this.savepoint() : { status: "error" });
      case "cancelRollback":
        return ok(post ? this.cancelRollback(params[0] ?? "") : { status: "error" });
      case "revert":
        return ok(post ? this.revert(params[0] ?? "") : { status: "failed" });
      default:
        return notFound();
    }
  }

  private authenticated(request: SimRequest): boolean {
    const header = request.headers.authorization ?? "";
    const [scheme = "", encoded = ""] = header.split(" ", 2);
    if (scheme.toLowerCase() !== "basic") return false;
    const decoded = Buffer.from(encoded, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    return colon > 0 && decoded.slice(0, colon) === this.key && decoded.slice(colon + 1) === this.secret;
  }

  private firmwareStatus(): SimResponse {
    const version = this.options.version ?? "25.7.2";
    return ok({
      product: {
        product_id: "opnsense",
        product_name: "OPNsense",
        product_version: version,
        product_series: version.split(".").slice(0, 2).join("."),
        product_arch: "amd64",
        product_nickname: "Simulated Sim",
      },
      status_msg: "There are no updates available on the selected mirror.",
      status: "none",
    });
  }

  /** The `rule` object of a JSON body, or undefined (missing wrapper, not JSON). */
  private payload(model: ModelSpec, request: SimRequest): Record<string, unknown> | undefined {
    try {
      const body: unknown = JSON.parse(request.body);
      const wrapped =
        typeof body === "object" && body !== null
          ? (body as Record<string, unknown>)[model.wrapper]
          : undefined;
      return typeof wrapped === "object" && wrapped !== null && !Array.isArray(wrapped)
        ? (wrapped as Record<string, unknown>)
        : undefined;
    } catch {
      return undefined;
    }
  }

  private search(model: ModelSpec, request: SimRequest): unknown {
    let params: Record<string, unknown> = Object.fromEntries(request.query);
    if (request.method === "POST" && request.body.trim() !== "") {
      try {
        const body: unknown = JSON.parse(request.body);
        if (typeof body === "object" && body !== null)
          params = { ...params, ...(body as Record<string, unknown>) };
      } catch {
        // A body that is not JSON is ignored, as PHP's getPost() ignores it.
      }
    }
    const phrase = String(toFieldString(params.searchPhrase) ?? "").toLowerCase();
    const rowCount = Number(toFieldString(params.rowCount) ?? "-1") || -1;
    const current = Math.max(1, Number(toFieldString(params.current) ?? "1") || 1);
    const rules = [...(this.candidate[model.kind] ?? [])].sort(
      (a, b) => Number(a.record.sequence ?? 0) - Number(b.record.sequence ?? 0),
    );
    let rows: Record<string, unknown>[] = rules.map((rule) => this.searchRow(model, rule));
    if (phrase !== "") {
      rows = rows.filter((r) =>
        Object.values(r).some((value) => String(value).toLowerCase().includes(phrase)),
      );
    }
    const total = rows.length;
    const page = rowCount > 0 ? rows.slice((current - 1) * rowCount, current * rowCount) : rows;
    if (
      model.kind === "natRule" &&
      (this.options.antiLockout ?? true) &&
      this.env.interfaces.includes("lan")
    ) {
      page.unshift({
        uuid: "lockout_0",
        ipprotocol: "",
        protocol: "tcp",
        "%protocol": "TCP",
        disabled: "0",
        nordr: "1",
        interface: "lan",
        "%interface": "LAN",
        "destination.network": "lanip",
        "destination.port": "443",
        descr: "Anti-Lockout Rule",
        is_automatic: true,
        sort_order: "100000.0000000",
        prio_group: "100000",
      });
    }
    return { total, rowCount: page.length, current, rows: page };
  }

  private searchRow(model: ModelSpec, rule: StoredRule): Record<string, unknown> {
    const out: Record<string, unknown> = row(model, rule.uuid, rule.record, this.env);
    if (model.kind === "firewallRule") {
      const group = (rule.record.interface ?? "") === "" ? 200000 : 400000;
      out.prio_group = String(group);
      out.sort_order = `${group}.0${String(Number(rule.record.sequence ?? 0)).padStart(6, "0")}`;
    }
    return out;
  }

  private getRule(model: ModelSpec, uuid: string | undefined): unknown {
    if (uuid === undefined) {
      // No uuid: an empty record with defaults (the GUI's "add" dialog).
      return { [model.wrapper]: present(model, withDefaults(model, {}), this.env) };
    }
    const rule = this.find(model, uuid);
    return rule === undefined ? [] : { [model.wrapper]: present(model, rule.record, this.env) };
  }

  private addRule(model: ModelSpec, request: SimRequest): unknown {
    const input = this.payload(model, request);
    if (input === undefined) return { result: "failed" };
    const base = withDefaults(model, model.kind === "natRule" ? { sequence: this.nextSequence(model) } : {});
    const result = applyInput(model, base, input, this.env);
    if ("validations" in result) return { result: "failed", validations: result.validations };
    const uuid = randomUUID();
    this.rules(model).push({ uuid, record: result.record });
    this.save();
    return { result: "saved", uuid };
  }

  private setRule(model: ModelSpec, uuid: string | undefined, request: SimRequest): unknown {
    const rule = uuid === undefined ? undefined : this.find(model, uuid);
    const input = this.payload(model, request);
    if (rule === undefined || input === undefined) return { result: "failed" };
    const result = applyInput(model, rule.record, input, this.env);
    if ("validations" in result) return { result: "failed", validations: result.validations };
    rule.record = result.record;
    this.save();
    return { result: "saved" };
  }

  private delRule(model: ModelSpec, uuid: string | undefined): unknown {
    const rules = this.rules(model);
    const index = rules.findIndex((rule) => rule.uuid === uuid);
    if (index < 0) return { result: "not found" };
    rules.splice(index, 1);
    this.save();
    return { result: "deleted" };
  }

  private toggleRule(model: ModelSpec, uuid: string | undefined, enabled: string | undefined): unknown {
    const rule = uuid === undefined ? undefined : this.find(model, uuid);
    if (rule === undefined) return { result: "failed" };
    const field = model.kind === "natRule" ? "disabled" : "enabled";
    const current = rule.record[field] === "1";
    const wanted = enabled === "0" || enabled === "1" ? enabled === "1" : !current;
    rule.record[field] = model.kind === "natRule" ? (wanted ? "0" : "1") : wanted ? "1" : "0";
    this.save();
    const on = field === "enabled" ? rule.record[field] === "1" : rule.record[field] !== "1";
    return { result: on ? "Enabled" : "Disabled", changed: true };
  }

  /** `filter reload`; with a revision, the rollback timer starts (FilterBaseController::applyAction). */
  private apply(revision: string | undefined): unknown {
    this.running = structuredClone(this.candidate);
    this.context.counters.applyCount += 1;
    if (revision !== undefined && revision !== "") {
      clearTimeout(this.rollbackTimers.get(revision));
      const timer = setTimeout(
        () => {
          this.rollbackTimers.delete(revision);
          // The timer reverts only to a revision that exists as a backup (core #10721: a rounded
          // revision never matches, and the rollback silently never happens).
          const backup = this.backups.get(revision);
          if (backup === undefined) return;
          this.candidate = structuredClone(backup);
          this.running = structuredClone(backup);
        },
        (this.options.rollbackSeconds ?? 60) * 1000,
      );
      this.rollbackTimers.set(revision, timer);
    }
    return { status: "OK\n\n" };
  }

  private savepoint(): unknown {
    const revision = this.save();
    return { status: "ok", retention: String(this.options.retention ?? 60), revision };
  }

  private cancelRollback(revision: string): unknown {
    const timer = this.rollbackTimers.get(revision);
    clearTimeout(timer);
    this.rollbackTimers.delete(revision);
    return { status: "OK\n\n" };
  }

  private revert(revision: string): unknown {
    const backup = this.backups.get(revision);
    if (backup === undefined) return { status: "unknown (or removed) savepoint" };
    this.candidate = structuredClone(backup);
    this.running = structuredClone(backup);
    this.save();
    return { status: "ok" };
  }

  /** Config::save(): a new revision (`<seconds>.<fraction>`) and a backup of the whole configuration. */
  private save(): string {
    let revision = Math.max(this.context.now() / 1000, this.lastRevision + 0.0001);
    revision = Math.round(revision * 10000) / 10000;
    this.lastRevision = revision;
    const key = revision.toFixed(4);
    this.backups.set(key, structuredClone(this.candidate));
    const retention = this.options.retention ?? 60;
    while (this.backups.size > retention) {
      const oldest = this.backups.keys().next().value as string;
      this.backups.delete(oldest);
    }
    return key;
  }

  private rules(model: ModelSpec): StoredRule[] {
    this.candidate[model.kind] ??= [];
    return this.candidate[model.kind] as StoredRule[];
  }

  private find(model: ModelSpec, uuid: string): StoredRule | undefined {
    return this.rules(model).find((rule) => rule.uuid === uuid);
  }

  private nextSequence(model: ModelSpec): string {
    const max = Math.max(0, ...this.rules(model).map((rule) => Number(rule.record.sequence ?? 0)));
    return String(max + 1);
  }

  errorResponse(status: number): SimResponse {
    if (status === 401) return this.authFailureResponse();
    return {
      status,
      headers: { "content-type": "application/json; charset=UTF-8" },
      body: { status, message: status >= 500 ? "Internal Server Error" : `HTTP ${status}` },
    };
  }

  rateLimitResponse(retryAfterSeconds: number, _request: SimRequest, status = 429): SimResponse {
    const response = this.errorResponse(status);
    return { ...response, headers: { ...response.headers, "retry-after": String(retryAfterSeconds) } };
  }

  authFailureResponse(): SimResponse {
    return {
      status: 401,
      headers: { "content-type": "application/json; charset=UTF-8" },
      body: { status: 401, message: "Authentication Failed" },
    };
  }

  /** API keys are not sessions: nothing to expire (an authExpire fault still answers 401). */
  expireSessions(): void {}

  setCredentials(credentials: Record<string, string>): void {
    if (credentials.key === undefined || credentials.secret === undefined) {
      throw new Error("OPNsense credentials need key and secret");
    }
    this.key = credentials.key;
    this.secret = credentials.secret;
  }

  reset(): void {
    this.dispose();
    this.candidate = emptyConfig();
    this.running = emptyConfig();
    this.backups.clear();
    this.save();
  }

  dispose(): void {
    for (const timer of this.rollbackTimers.values()) clearTimeout(timer);
    this.rollbackTimers.clear();
  }

  // ---- control API ----

  private model(kind: ObjectKind): ModelSpec {
    const model = models.find((candidate) => candidate.kind === kind);
    if (model === undefined) {
      throw new SimulatorControlError(
        404,
        `OPNsense has no object kind ${kind} (kinds: ${this.kinds.join(", ")})`,
      );
    }
    return model;
  }

  objects(kind: ObjectKind): ObjectsView {
    this.model(kind);
    const view = (config: Config) =>
      (config[kind] ?? []).map((rule) => ({ uuid: rule.uuid, ...rule.record }));
    return {
      kind,
      candidate: view(this.candidate),
      running: view(this.running),
      pending: JSON.stringify(this.candidate) !== JSON.stringify(this.running),
    };
  }

  /** Flat field values (strings, or JSON booleans/numbers); `uuid` may be given. Returns the uuid. */
  putObject(kind: ObjectKind, object: VendorObject, options: ObjectWriteOptions): string {
    const model = this.model(kind);
    const { uuid: given, ...fields } = object;
    const values: Record<string, string> = {};
    for (const [name, value] of Object.entries(fields)) values[name] = toFieldString(value) ?? "";
    if (model.kind === "natRule") values.sequence ??= this.nextSequence(model);
    const uuid = typeof given === "string" ? given : randomUUID();
    const rules = this.rules(model);
    rules.splice(options.position ?? rules.length, 0, { uuid, record: withDefaults(model, values) });
    this.afterControlWrite(options);
    return uuid;
  }

  updateObject(kind: ObjectKind, id: string, patch: VendorObject, options: ObjectWriteOptions): void {
    const model = this.model(kind);
    const rule = this.find(model, id);
    if (rule === undefined) throw new SimulatorControlError(404, `no ${kind} with uuid ${id}`);
    for (const [name, value] of Object.entries(patch)) {
      if (Object.hasOwn(rule.record, name)) rule.record[name] = toFieldString(value) ?? "";
    }
    this.afterControlWrite(options);
  }

  deleteObject(kind: ObjectKind, id: string, options: ObjectWriteOptions): void {
    const model = this.model(kind);
    const rules = this.rules(model);
    const index = rules.findIndex((rule) => rule.uuid === id);
    if (index < 0) throw new SimulatorControlError(404, `no ${kind} with uuid ${id}`);
    rules.splice(index, 1);
    this.afterControlWrite(options);
  }

  /** A GUI edit: saved (a new revision), and applied unless `apply: false`. */
  private afterControlWrite(options: ObjectWriteOptions): void {
    this.save();
    if (options.apply ?? true) this.running = structuredClone(this.candidate);
  }
}

function emptyConfig(): Config {
  return Object.fromEntries(models.map((model) => [model.kind, []]));
}

/** Phalcon's answer for an endpoint that does not exist. */
function notFound(): SimResponse {
  return {
    status: 404,
    headers: { "content-type": "application/json; charset=UTF-8" },
    body: { errorMessage: "Endpoint not found", errorTitle: "An error occurred" },
  };
}

export const opnsense: VendorDefinition<OPNsenseSimulatorOptions> = {
  vendor: "opnsense",
  credentialKeys: ["key", "secret"],
  create: (context, options) => new OPNsenseSimulator(context, options),
};
