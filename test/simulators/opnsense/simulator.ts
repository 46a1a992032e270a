// OPNsense API (opnsense/core MVC: ApiMutableModelControllerBase, Firewall/Api/FilterBaseController,
// FilterController, DNatController, SourceNatController, OneToOneController; docs.opnsense.org
// development/api). See README.md for what is and is not simulated.
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
import { natModels } from "./catalog.ts";
import { filterRuleModel, type OPNsenseRelease, releaseOf } from "./filter-rule.ts";
import { loginPage } from "./login-page.ts";
import {
  applyInput,
  type FieldEnv,
  type ModelSpec,
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
  /**
   * `product_version`, default 26.1.11. The API follows it: 25.7.x serves 25.7.2's filter rule model
   * and has no port-forward API (`d_nat` answers 404); 26.1 and later serve 26.1.11's model and `d_nat`.
   */
  version?: string;
  /** Gateway names rules may use as `gateway`/`replyto`, default WAN_DHCP and WAN_DHCP6. */
  gateways?: string[];
  /** Firewall schedules rules may name in `sched`, default none. */
  schedules?: string[];
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
  readonly kinds: ObjectKind[];
  /** The filter rule model of this release, then the NAT models it has. */
  private readonly models: readonly ModelSpec[];
  private readonly release: OPNsenseRelease;
  readonly redaction = {};
  private readonly context: VendorContext;
  private readonly options: OPNsenseOptions;
  private readonly env: FieldEnv;
  private key: string;
  private secret: string;
  /** config.xml: what the API reads and writes. */
  private candidate: Config;
  /** What pf enforces: replaced by `apply` (filter reload). */
  private running: Config;
  /** Config backups by revision (every save makes one; savepoint returns the newest). */
  private backups = new Map<string, Config>();
  private lastRevision = 0;
  private rollbackTimers = new Map<string, NodeJS.Timeout>();

  constructor(context: VendorContext, options: OPNsenseOptions) {
    this.context = context;
    this.options = options;
    this.release = releaseOf(options.version ?? DEFAULT_VERSION);
    // DNatController arrived with 26.1.
    const nat = natModels.filter((model) => model.controller !== "d_nat" || this.release === "26.1");
    this.models = [filterRuleModel(this.release), ...nat];
    this.kinds = this.models.map((model) => model.kind);
    this.candidate = this.emptyConfig();
    this.running = this.emptyConfig();
    this.env = {
      interfaces: options.interfaces ?? ["wan", "lan", "opt1"],
      aliases: options.aliases ?? [],
      gateways: options.gateways ?? ["WAN_DHCP", "WAN_DHCP6"],
      schedules: options.schedules ?? [],
    };
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
    // The web GUI's login page answers without credentials (clients probe it to recognise OPNsense).
    if (request.path === "/" && request.method === "GET") return loginPage();
    if (!this.authenticated(request)) return this.authFailureResponse();
    const segments = request.path.split("/").filter(Boolean).map(decodeURIComponent);
    const [api, module, controller, command, ...params] = segments;
    if (api !== "api" || command === undefined) return notFound();
    const action = actionName(command);
    if (module === "core" && controller === "firmware" && action === "status") return this.firmwareStatus();
    if (module !== "firewall") return notFound();
    const model = this.models.find((candidate) => candidate.controller === controller);
    if (model === undefined) return notFound();
    const post = request.method === "POST";
    switch (action) {
      case "get":
        return ok(model.controller === "filter" && !post ? this.filterModel() : []);
      case "searchrule":
        return ok(this.search(model, request));
      case "getrule":
        return ok(this.getRule(model, params[0]));
      case "addrule":
        return ok(post ? this.addRule(model, request) : { result: "failed" });
      case "setrule":
        return ok(post ? this.setRule(model, params[0], request) : { result: "failed" });
      case "delrule":
        return ok(post ? this.delRule(model, params[0]) : { result: "failed" });
      case "togglerule":
        return ok(post ? this.toggleRule(model, params[0], params[1]) : { result: "failed" });
      case "apply":
        return ok(post ? this.apply(params[0]) : { status: "error" });
      case "savepoint":
        return ok(post ? this.savepoint() : { status: "error" });
      case "cancelrollback":
        return ok(post ? this.cancelRollback(params[0] ?? "") : { status: "error" });
      case "revert":
        return ok(post ? this.revert(params[0] ?? "") : { status: "failed" });
      default:
        return notFound();
    }
  }

  /**
   * `GET /api/firewall/filter/get`: the whole Filter model as `getNodes()` renders it, rules keyed by
   * uuid (an empty list is `[]`, as PHP encodes an empty array).
   */
  private filterModel(): unknown {
    const keyed = (model: ModelSpec | undefined) => {
      const rules = model === undefined ? [] : this.rules(model);
      return rules.length === 0
        ? []
        : Object.fromEntries(
            rules.map((rule) => [rule.uuid, present(model as ModelSpec, rule.record, this.env)]),
          );
    };
    const byKind = (kind: string) => this.models.find((model) => model.kind === kind);
    return {
      filter: {
        rules: { rule: keyed(byKind("firewallRule")) },
        snatrules: { rule: keyed(byKind("snatRule")) },
        npt: { rule: [] },
        onetoone: { rule: keyed(byKind("oneToOneRule")) },
      },
    };
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
    const version = this.options.version ?? DEFAULT_VERSION;
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
    let rules = [...(this.candidate[model.kind] ?? [])].sort(
      (a, b) => Number(a.record.sequence ?? 0) - Number(b.record.sequence ?? 0),
    );
    if (model.kind === "firewallRule") rules = this.filterByInterface(rules, params);
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
    return row(model, rule.uuid, rule.record, this.env);
  }

  /**
   * FilterController::searchRuleAction's interface filter: without `interface` only floating rules (no
   * interface, or several) are listed, as the GUI's "Floating" view; with `interface=X` the rules on X
   * alone, or with `show_all` those and the floating ones. Sorted by `sort_order`.
   */
  private filterByInterface(rules: StoredRule[], params: Record<string, unknown>): StoredRule[] {
    const wanted = String(toFieldString(params.interface) ?? "");
    const showAll = !["", "0"].includes(String(toFieldString(params.show_all) ?? ""));
    const selected = rules.filter((rule) => {
      const interfaces = (rule.record.interface ?? "").split(",").filter(Boolean);
      if (wanted === "") return interfaces.length !== 1;
      if (showAll) return interfaces.includes(wanted) || interfaces.length === 0;
      return interfaces.length === 1 && interfaces[0] === wanted;
    });
    const sortOrder = (rule: StoredRule) => String(this.models[0]?.volatile?.(rule.record).sort_order ?? "");
    return selected.sort((a, b) => sortOrder(a).localeCompare(sortOrder(b), "en", { numeric: true }));
  }

  private getRule(model: ModelSpec, uuid: string | undefined): unknown {
    if (uuid === undefined) {
      // No uuid: an empty record with defaults (the GUI's "add" dialog).
      return { [model.wrapper]: present(model, withDefaults(model, this.defaultsFor(model)), this.env) };
    }
    const rule = this.find(model, uuid);
    return rule === undefined ? [] : { [model.wrapper]: present(model, rule.record, this.env) };
  }

  private addRule(model: ModelSpec, request: SimRequest): unknown {
    const input = this.payload(model, request);
    if (input === undefined) return { result: "failed" };
    const base = withDefaults(model, this.defaultsFor(model));
    const result = applyInput(model, base, input, this.env);
    if ("validations" in result) return { result: "failed", validations: result.validations };
    const uuid = randomUUID();
    this.rules(model).push({ uuid, record: result.record });
    this.save();
    return { result: "saved", uuid };
  }

  /** setBase(): partial; an unknown but well-formed uuid is an upsert (created with that uuid). */
  private setRule(model: ModelSpec, uuid: string | undefined, request: SimRequest): unknown {
    const input = this.payload(model, request);
    if (uuid === undefined || input === undefined) return { result: "failed" };
    let rule = this.find(model, uuid);
    if (rule === undefined) {
      if (!UUID.test(uuid)) return { result: "failed" };
      rule = { uuid, record: withDefaults(model, this.defaultsFor(model)) };
      const result = applyInput(model, rule.record, input, this.env);
      if ("validations" in result) return { result: "failed", validations: result.validations };
      this.rules(model).push({ uuid, record: result.record });
      this.save();
      return { result: "saved" };
    }
    const result = applyInput(model, rule.record, input, this.env);
    if ("validations" in result) return { result: "failed", validations: result.validations };
    rule.record = result.record;
    this.save();
    return { result: "saved" };
  }

  /**
   * Defaults that depend on the other rules: a filter rule's sequence is the highest + 100
   * (FilterSequenceField::applyDefault), a port forward's the highest + 1.
   */
  private defaultsFor(model: ModelSpec): Record<string, string> {
    const max = Math.max(0, ...this.rules(model).map((rule) => Number(rule.record.sequence ?? 0)));
    if (model.kind === "firewallRule") return { sequence: String(Math.max(1, max) + 100) };
    if (model.kind === "natRule") return { sequence: String(max + 1) };
    return {};
  }

  private delRule(model: ModelSpec, uuid: string | undefined): unknown {
    const rules = this.rules(model);
    const index = rules.findIndex((rule) => rule.uuid === uuid);
    if (index < 0) return { result: "not found" };
    rules.splice(index, 1);
    this.save();
    return { result: "deleted" };
  }

  /** toggleBase(): flips, or sets `{0|1}`; saves only when something changed. */
  private toggleRule(model: ModelSpec, uuid: string | undefined, enabled: string | undefined): unknown {
    const rule = uuid === undefined ? undefined : this.find(model, uuid);
    if (rule === undefined) return { result: "failed" };
    if (enabled !== undefined && enabled !== "0" && enabled !== "1")
      return { result: "failed", changed: false };
    const field = model.kind === "natRule" ? "disabled" : "enabled";
    const isOn = () => (field === "enabled" ? rule.record[field] === "1" : rule.record[field] !== "1");
    const wanted = enabled === undefined ? !isOn() : enabled === "1";
    const changed = wanted !== isOn();
    rule.record[field] = field === "enabled" ? (wanted ? "1" : "0") : wanted ? "0" : "1";
    if (changed) this.save();
    return { result: wanted ? "Enabled" : "Disabled", changed };
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

  private emptyConfig(): Config {
    return Object.fromEntries(this.models.map((model) => [model.kind, []]));
  }

  reset(): void {
    this.dispose();
    this.candidate = this.emptyConfig();
    this.running = this.emptyConfig();
    this.backups.clear();
    this.save();
  }

  dispose(): void {
    for (const timer of this.rollbackTimers.values()) clearTimeout(timer);
    this.rollbackTimers.clear();
  }

  // ---- control API ----

  private model(kind: ObjectKind): ModelSpec {
    const model = this.models.find((candidate) => candidate.kind === kind);
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
    for (const [name, value] of Object.entries(this.defaultsFor(model))) values[name] ??= value;
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

const DEFAULT_VERSION = "26.1.11";

/** ApiMutableModelControllerBase::isValidUUID. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

/** The router turns `add_rule`, `addRule` (and any case) into one action: compare them folded. */
function actionName(command: string): string {
  return command.replaceAll("_", "").toLowerCase();
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
