// FortiOS REST API v2 (FortiGate), as documented by Fortinet and used by terraform-provider-fortios and
// the Ansible fortios collection. See README.md for what is and is not simulated.
import { createHash, randomBytes } from "node:crypto";
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
import { freshTables, tables, tablesByRoute } from "./catalog.ts";
import {
  body,
  errorResponse,
  errors,
  FortiError,
  type Identity,
  jsonResponse,
  notFoundPage,
  type Scope,
  tooManyRequestsPage,
  unauthorizedPage,
} from "./envelope.ts";
import { invalidFilter, list } from "./filter.ts";
import { parseFirmware } from "./firmware.ts";
import { applySettings, defaultSettings } from "./nat-tables.ts";
import { type AdminAccount, AdminSessions } from "./sessions.ts";
import { licenseStatus, vdomEntries } from "./system.ts";
import {
  buildRecord,
  type Environment,
  type FoRecord,
  isReferenced,
  lenientRecord,
  present,
  type TableName,
  type TableSpec,
  type VdomTables,
} from "./tables.ts";

export interface FortiOSSimulatorOptions {
  /** VDOMs that exist, default ["root"]. `?vdom=` defaults to root; any other name gets 403. */
  vdoms?: string[];
  /**
   * Vendor requests in flight above which the appliance answers 429 (an HTML page, as users see under
   * parallel load), default 10.
   */
  maxConcurrentRequests?: number;
  /** Retry-After on those 429s; absent by default (FortiOS does not send one). */
  overloadRetryAfterSeconds?: number;
  /** `set rest-api-key-url-query enable`: accept `?access_token=` (refused by default since 7.4.5). */
  allowAccessTokenQuery?: boolean;
  /** Interface names, default port1..port4. */
  interfaces?: string[];
  /** Service names policies may reference (default: the factory predefined services). */
  services?: string[];
  /** `config system settings` `central-nat` at start (and after reset), default false as shipped. */
  centralNat?: boolean;
  serial?: string;
  version?: string;
  build?: number;
  hostname?: string;
  /**
   * The administrator who may log in with a session (`POST /logincheck`), default `admin` with a random
   * password. Not part of `credentials` (the dictionary uses the API token).
   */
  admin?: AdminAccount;
}

export type FortiOSOptions = FortiOSSimulatorOptions & CommonSimulatorOptions;

const defaultServices = [
  "ALL",
  "ALL_TCP",
  "ALL_UDP",
  "ALL_ICMP",
  "ALL_ICMP6",
  "GRE",
  "AH",
  "ESP",
  "DNS",
  "HTTP",
  "HTTPS",
  "SSH",
  "TELNET",
  "FTP",
  "SMTP",
  "SMTPS",
  "IMAP",
  "IMAPS",
  "POP3",
  "POP3S",
  "NTP",
  "SNMP",
  "RDP",
  "PING",
  "TRACEROUTE",
  "SAMBA",
  "MYSQL",
  "MS-SQL",
];

const kindTables: Record<string, TableName> = {
  firewallRule: "policy",
  natRule: "vip",
  address: "address",
  service: "service",
  ippool: "ippool",
  centralSnat: "snat",
};

function json(value: unknown): Json {
  return value as Json;
}

export class FortiOSSimulator implements VendorSimulator {
  readonly kinds: ObjectKind[] = Object.keys(kindTables);
  readonly redaction = {
    query: ["access_token", "secretkey"],
    values: () => [this.sessions.admin.password],
  };
  private readonly context: VendorContext;
  private readonly options: FortiOSOptions;
  private readonly identity: Identity;
  private readonly env: Environment;
  private readonly vdoms: string[];
  private readonly maxConcurrent: number;
  private token: string;
  private readonly sessions: AdminSessions;
  private config = new Map<string, VdomTables>();
  /** `system settings`, per VDOM. */
  private settings = new Map<string, FoRecord>();
  private revision = "";

  constructor(context: VendorContext, options: FortiOSOptions) {
    this.context = context;
    this.options = options;
    this.identity = {
      serial: options.serial ?? "FGVMSIM000000001",
      version: options.version ?? "v7.4.5",
      build: options.build ?? 2702,
    };
    this.env = {
      interfaces: options.interfaces ?? ["port1", "port2", "port3", "port4"],
      services: options.services ?? defaultServices,
      schedules: ["always", "none"],
    };
    this.vdoms = options.vdoms ?? ["root"];
    this.maxConcurrent = options.maxConcurrentRequests ?? 10;
    // REST API admin tokens are 30 alphanumeric characters.
    this.token =
      options.credentials?.token ?? randomBytes(30).toString("base64url").replace(/[-_]/g, "x").slice(0, 30);
    this.sessions = new AdminSessions(
      options.admin ?? { username: "admin", password: randomBytes(12).toString("base64url") },
      this.identity.serial,
      parseFirmware(this.identity.version),
    );
    this.resetConfig();
  }

  get credentials(): Record<string, string> {
    return { token: this.token };
  }

  private resetConfig(): void {
    this.config = new Map(this.vdoms.map((vdom) => [vdom, freshTables()]));
    const centralNat = this.options.centralNat ? "enable" : "disable";
    this.settings = new Map(
      this.vdoms.map((vdom) => [vdom, { ...defaultSettings(), "central-nat": centralNat }]),
    );
    this.revision = this.computeRevision();
  }

  private computeRevision(): string {
    const text = JSON.stringify([[...this.config.entries()], [...this.settings.entries()]]);
    return createHash("md5").update(text).digest("hex");
  }

  /** Records a configuration change: returns the revision fields of the answer. */
  private commit(): Record<string, Json> {
    const old = this.revision;
    this.revision = this.computeRevision();
    return { revision: this.revision, revision_changed: old !== this.revision, old_revision: old };
  }

  // ---- request handling ----

  /** Under parallel load above the threshold, FortiOS refuses with 429 at once. */
  admit(): SimResponse | undefined {
    if (this.context.inFlight() <= this.maxConcurrent) return undefined;
    this.context.counters.throttled += 1;
    return tooManyRequestsPage(this.options.overloadRetryAfterSeconds);
  }

  async handle(request: SimRequest): Promise<SimResponse> {
    const segments = request.path.split("/").filter(Boolean);
    if (request.path === "/logincheck" && request.method === "POST") return this.sessions.login(request);
    if (request.path === "/logout") return this.sessions.logout(request);
    if (segments[0] !== "api" || segments[1] !== "v2") return notFoundPage();
    const vdom = request.query.get("vdom") ?? "root";
    const [, , area, path = "", name = "", rawMkey, ...extra] = segments;
    const scope: Scope = { method: request.method, vdom, path, name };
    const auth = this.authenticate(request);
    if (auth === "csrf") return errorResponse(scope, this.identity, new FortiError(403), this.revision);
    if (auth !== "ok") return unauthorizedPage();

    try {
      if (!this.vdoms.includes(vdom)) throw new FortiError(403);
      if (area === "monitor" && path === "system" && name === "status" && rawMkey === undefined) {
        if (request.method !== "GET") throw new FortiError(405);
        return this.systemStatus(scope);
      }
      if (area === "monitor" && path === "license" && name === "status" && rawMkey === undefined) {
        if (request.method !== "GET") throw new FortiError(405);
        return jsonResponse(200, body(scope, this.identity, { results: licenseStatus() }, "success", 200));
      }
      if (area === "cmdb" && path === "system" && name === "vdom")
        return this.vdomTable(request, scope, rawMkey);
      if (area === "cmdb" && path === "system" && name === "settings" && rawMkey === undefined) {
        return this.systemSettings(request, scope, vdom);
      }
      const table = area === "cmdb" ? tablesByRoute.get(`${path}/${name}`) : undefined;
      if (!table || extra.length > 0) throw new FortiError(404);
      const mkey = rawMkey === undefined ? undefined : decodeURIComponent(rawMkey);
      return this.cmdb(request, scope, table, this.config.get(vdom) as VdomTables, mkey);
    } catch (error) {
      if (error instanceof FortiError) return errorResponse(scope, this.identity, error, this.revision);
      throw error;
    }
  }

  /** An API token (Bearer, or `?access_token=` when allowed), else an administrator's session. */
  private authenticate(request: SimRequest): "ok" | "csrf" | "refused" {
    const queryToken = request.query.get("access_token");
    if (queryToken !== null) {
      return this.options.allowAccessTokenQuery === true && queryToken === this.token ? "ok" : "refused";
    }
    const authorization = request.headers.authorization ?? "";
    const [scheme = "", secret = ""] = authorization.split(" ", 2);
    if (scheme.toLowerCase() === "bearer") return secret === this.token ? "ok" : "refused";
    const session = this.sessions.check(request);
    if ("user" in session) return "ok";
    return session.refused === "csrf" ? "csrf" : "refused";
  }

  /** `cmdb/system/vdom[/{name}]`: read-only here (VDOMs are the `vdoms` option). */
  private vdomTable(request: SimRequest, scope: Scope, rawMkey: string | undefined): SimResponse {
    if (request.method !== "GET") throw new FortiError(405);
    let results = vdomEntries(this.vdoms);
    if (rawMkey !== undefined) {
      const mkey = decodeURIComponent(rawMkey);
      results = results.filter((entry) => (entry as { name: string }).name === mkey);
      if (results.length === 0) throw errors.notFound(mkey);
    }
    return jsonResponse(
      200,
      body(
        scope,
        this.identity,
        { revision: this.revision, results: json(results), matched_count: results.length },
        "success",
        200,
      ),
    );
  }

  private systemStatus(scope: Scope): SimResponse {
    const results = {
      model_name: "FortiGate",
      model_number: "VM64",
      model: "FGVMK6",
      hostname: this.options.hostname ?? "FGVM-SIM",
      log_disk_status: "available",
    };
    return jsonResponse(200, body(scope, this.identity, { results, action: "" }, "success", 200));
  }

  /** A singleton table: GET answers `results` as one object; PUT changes attributes. */
  private systemSettings(request: SimRequest, scope: Scope, vdom: string): SimResponse {
    const current = this.settings.get(vdom) as FoRecord;
    if (request.method === "PUT") {
      this.settings.set(vdom, applySettings(current, parseBody(request)));
      return jsonResponse(200, body(scope, this.identity, this.commit(), "success", 200));
    }
    if (request.method !== "GET") throw new FortiError(405);
    const results = json({ ...(this.settings.get(vdom) as FoRecord) });
    return jsonResponse(
      200,
      body(scope, this.identity, { revision: this.revision, results }, "success", 200),
    );
  }

  private cmdb(
    request: SimRequest,
    scope: Scope,
    table: TableSpec,
    vdom: VdomTables,
    mkey: string | undefined,
  ) {
    const records = vdom[table.name];
    const find = (key: string) => records.findIndex((record) => String(record[table.mkey]) === key);
    const success = (fields: Record<string, Json>) =>
      jsonResponse(200, body(scope, this.identity, fields, "success", 200));

    switch (request.method) {
      case "GET": {
        if (mkey !== undefined) {
          const index = find(mkey);
          if (index < 0) throw errors.notFound(mkey);
          return success({
            revision: this.revision,
            results: [present(table, records[index] as FoRecord)] as Json,
            mkey,
          });
        }
        const bad = invalidFilter(request.query);
        if (bad !== undefined) throw new FortiError(400);
        const result = list(
          records.map((record) => present(table, record)),
          request.query,
        );
        return success({
          size: records.length,
          matched_count: result.matched,
          next_idx: result.nextIndex,
          revision: this.revision,
          results: json(result.results),
        });
      }
      case "POST": {
        if (mkey !== undefined) throw new FortiError(405);
        const record = buildRecord(table, parseBody(request), undefined, vdom, this.env);
        if (table.mkey === "policyid") {
          if (record.policyid === 0) {
            record.policyid = Math.max(0, ...records.map((r) => r.policyid as number)) + 1;
          }
        }
        if (find(String(record[table.mkey])) >= 0) throw errors.duplicate();
        this.checkUnique(table, record, records, undefined);
        this.checkNameClash(table, record, vdom);
        records.push(present(table, record));
        return success({ ...this.commit(), mkey: json(record[table.mkey]) });
      }
      case "PUT": {
        if (mkey === undefined) throw new FortiError(405);
        const index = find(mkey);
        if (index < 0) throw errors.notFound(mkey);
        if (request.query.get("action") === "move") {
          this.move(records, index, request.query, find);
          return success({
            ...this.commit(),
            mkey: json(records.find((r) => String(r[table.mkey]) === mkey)?.[table.mkey]),
          });
        }
        const existing = records[index] as FoRecord;
        const record = buildRecord(table, parseBody(request), existing, vdom, this.env);
        this.checkUnique(table, record, records, index);
        records[index] = present(table, record);
        return success({ ...this.commit(), mkey: json(existing[table.mkey]) });
      }
      case "DELETE": {
        if (mkey === undefined) {
          // DELETE on the table removes every entry: one missing mkey in a URL template empties it.
          if (records.some((record) => isReferenced(vdom, table.name, String(record[table.mkey])))) {
            throw errors.inUse();
          }
          records.splice(0, records.length);
          return success(this.commit());
        }
        const index = find(mkey);
        if (index < 0) throw errors.notFound(mkey);
        const existing = records[index] as FoRecord;
        if (isReferenced(vdom, table.name, mkey)) throw errors.inUse();
        records.splice(index, 1);
        return success({ ...this.commit(), mkey: json(existing[table.mkey]) });
      }
      default:
        throw new FortiError(405);
    }
  }

  private move(
    records: FoRecord[],
    index: number,
    query: URLSearchParams,
    find: (key: string) => number,
  ): void {
    const before = query.get("before");
    const after = query.get("after");
    const target = before ?? after;
    if (target === null) throw new FortiError(400);
    if (find(target) < 0) throw errors.notFound(target);
    const [moved] = records.splice(index, 1);
    const targetIndex = find(target);
    records.splice(before !== null ? targetIndex : targetIndex + 1, 0, moved as FoRecord);
  }

  private checkUnique(
    table: TableSpec,
    record: FoRecord,
    records: FoRecord[],
    self: number | undefined,
  ): void {
    for (const attr of table.unique) {
      const value = record[attr];
      if (value === "" || value === undefined) continue;
      if (records.some((other, index) => index !== self && other[attr] === value)) throw errors.duplicate();
    }
  }

  /** Address and VIP names share one namespace (FortiOS error -164/-311). */
  private checkNameClash(table: TableSpec, record: FoRecord, vdom: VdomTables): void {
    if (table.name === "vip" && vdom.address.some((a) => a.name === record.name))
      throw errors.nameClash(-164);
    if (table.name === "address" && vdom.vip.some((v) => v.name === record.name))
      throw errors.nameClash(-164);
  }

  errorResponse(status: number, request: SimRequest): SimResponse {
    if (status === 401) return unauthorizedPage();
    const segments = request.path.split("/").filter(Boolean);
    const scope: Scope = {
      method: request.method,
      vdom: request.query.get("vdom") ?? "root",
      path: segments[3] ?? "",
      name: segments[4] ?? "",
    };
    return errorResponse(scope, this.identity, new FortiError(status), this.revision);
  }

  rateLimitResponse(retryAfterSeconds: number, request: SimRequest, status = 429): SimResponse {
    const response = this.errorResponse(status, request);
    return { ...response, headers: { ...response.headers, "retry-after": String(retryAfterSeconds) } };
  }

  authFailureResponse(): SimResponse {
    return unauthorizedPage();
  }

  /** Administrator sessions end; REST API tokens are not sessions and stay valid. */
  expireSessions(): void {
    this.sessions.expire();
  }

  setCredentials(credentials: Record<string, string>): void {
    if (credentials.token === undefined) throw new Error("FortiOS credentials need token");
    this.token = credentials.token;
  }

  reset(): void {
    this.resetConfig();
  }

  dispose(): void {}

  // ---- control API ----

  /**
   * `firewallRule` (policy), `natRule` (vip), `address`, `service` (custom services), `ippool`,
   * `centralSnat` (central SNAT map); `kind@vdom` for a VDOM other than root.
   */
  private locate(kind: ObjectKind): { table: TableSpec; vdom: VdomTables } {
    const [base = "", vdomName = "root"] = kind.split("@");
    const tableName = kindTables[base];
    const vdom = this.config.get(vdomName);
    if (tableName === undefined || vdom === undefined) {
      throw new SimulatorControlError(
        404,
        `FortiOS has no object kind ${kind} (kinds: ${this.kinds.join(", ")}, kind@vdom)`,
      );
    }
    return { table: tables[tableName], vdom };
  }

  private indexOf(table: TableSpec, records: FoRecord[], id: string): number {
    const index = records.findIndex((record) => String(record[table.mkey]) === id);
    if (index < 0) throw new SimulatorControlError(404, `no ${table.name} with ${table.mkey} ${id}`);
    return index;
  }

  objects(kind: ObjectKind): ObjectsView {
    const { table, vdom } = this.locate(kind);
    const records = vdom[table.name].map((record) => structuredClone(record));
    return { kind, candidate: records, running: structuredClone(records), pending: false };
  }

  putObject(kind: ObjectKind, object: VendorObject, options: ObjectWriteOptions): string {
    const { table, vdom } = this.locate(kind);
    const records = vdom[table.name];
    const record = lenientRecord(table, object, undefined);
    if (table.mkey === "policyid" && !record.policyid) {
      record.policyid = Math.max(0, ...records.map((r) => r.policyid as number)) + 1;
    }
    const id = String(record[table.mkey]);
    if (records.some((r) => String(r[table.mkey]) === id)) {
      throw new SimulatorControlError(409, `${table.name} ${id} already exists`);
    }
    records.splice(options.position ?? records.length, 0, present(table, record));
    this.commit();
    return id;
  }

  updateObject(kind: ObjectKind, id: string, patch: VendorObject, options: ObjectWriteOptions): void {
    const { table, vdom } = this.locate(kind);
    const records = vdom[table.name];
    const index = this.indexOf(table, records, id);
    const record = present(table, lenientRecord(table, patch, records[index]));
    records.splice(index, 1);
    records.splice(options.position ?? index, 0, record);
    this.commit();
  }

  deleteObject(kind: ObjectKind, id: string): void {
    const { table, vdom } = this.locate(kind);
    const records = vdom[table.name];
    records.splice(this.indexOf(table, records, id), 1);
    this.commit();
  }
}

function parseBody(request: SimRequest): FoRecord {
  let parsed: unknown;
  try {
    parsed = JSON.parse(request.body);
  } catch {
    throw new FortiError(400);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new FortiError(400);
  return parsed as FoRecord;
}

export const fortios: VendorDefinition<FortiOSSimulatorOptions> = {
  vendor: "fortios",
  credentialKeys: ["token"],
  create: (context, options) => new FortiOSSimulator(context, options),
};
