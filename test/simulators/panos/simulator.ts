// PAN-OS XML API (`/api/`), as documented on docs.paloaltonetworks.com (Get Your API Key, Set and Edit
// Configuration, Commit Configuration, Asynchronous Requests, Error Codes) and used by pan-python and
// pango. See README.md for what is and is not simulated.
import { randomBytes } from "node:crypto";
import type {
  CommonSimulatorOptions,
  ObjectKind,
  ObjectsView,
  ObjectWriteOptions,
  VendorObject,
} from "../common/types.ts";
import {
  type SimRequest,
  type SimResponse,
  SimulatorControlError,
  type VendorContext,
  type VendorDefinition,
  type VendorSimulator,
} from "../common/vendor.ts";
import { type CommitEnvironment, commitErrors } from "./commit-check.ts";
import { emptyConfig, PanConfigStore, parseXpath, type Step, select } from "./config.ts";
import {
  commandSucceeded,
  errorXml,
  httpErrorXml,
  invalidCredentials,
  notFoundPage,
  successResult,
  xmlLines,
  xmlResponse,
} from "./envelope.ts";
import { PAN_CODES, PanError } from "./errors.ts";
import { type CommitJob, CommitJobs } from "./jobs.ts";
import { newApiKey, systemInfoXml } from "./system.ts";
import {
  child,
  clone,
  element,
  entryNamed,
  escapeText,
  fromJson,
  parseElement,
  parseFragment,
  serialize,
  toJson,
  XmlSyntaxError,
  type XNode,
} from "./xml.ts";

export interface PanOSSimulatorOptions {
  /** Virtual systems that exist, default ["vsys1"]; xpaths naming another vsys are refused. */
  vsys?: string[];
  /** Security zones rules may name (checked at commit), default trust, untrust, dmz. */
  zones?: string[];
  /** Interfaces NAT rules may name (checked at commit), default ethernet1/1..ethernet1/3. */
  interfaces?: string[];
  /** App-ID names rules may name besides `any` (checked at commit). */
  applications?: string[];
  hostname?: string;
  serial?: string;
  /**
   * Commit validation errors without the name of the rule at fault (as some checks report them:
   * "from 'x' is not a valid reference"), default false.
   */
  anonymousCommitErrors?: boolean;
  /** `sw-version`, default 10.2.4. */
  version?: string;
}

export type PanOSOptions = PanOSSimulatorOptions & CommonSimulatorOptions;

const DEFAULT_APPLICATIONS = [
  "ssl",
  "web-browsing",
  "ssh",
  "dns",
  "icmp",
  "ping",
  "ntp",
  "smtp",
  "snmp",
  "syslog",
];

/** Control kinds → where their entries live inside a vsys. */
const KIND_PATHS: Record<string, readonly string[]> = {
  firewallRule: ["rulebase", "security", "rules"],
  natRule: ["rulebase", "nat", "rules"],
  address: ["address"],
  service: ["service"],
};
const COMMIT_FAULT = "commitFault";

interface CommitFault {
  id: string;
  message: string;
  remaining: number | null;
}

export class PanOSSimulator implements VendorSimulator {
  readonly kinds: ObjectKind[] = [...Object.keys(KIND_PATHS), COMMIT_FAULT];
  readonly redaction = { headers: ["x-pan-key"], query: ["key", "password"] };
  private readonly context: VendorContext;
  private readonly options: PanOSOptions;
  private readonly store: PanConfigStore;
  private readonly jobs: CommitJobs;
  private readonly env: CommitEnvironment;
  private readonly vsysNames: readonly string[];
  private readonly bootTime: number;
  private username: string;
  private password: string;
  private keys = new Set<string>();
  private commitFaults: CommitFault[] = [];
  private faultCounter = 0;

  constructor(context: VendorContext, options: PanOSOptions) {
    this.context = context;
    this.options = options;
    this.bootTime = context.now();
    this.username = options.credentials?.username ?? "admin";
    this.password = options.credentials?.password ?? randomBytes(12).toString("base64url");
    this.vsysNames = options.vsys ?? ["vsys1"];
    this.env = {
      zones: options.zones ?? ["trust", "untrust", "dmz"],
      interfaces: options.interfaces ?? ["ethernet1/1", "ethernet1/2", "ethernet1/3"],
      applications: options.applications ?? DEFAULT_APPLICATIONS,
    };
    this.store = new PanConfigStore(() => emptyConfig(this.vsysNames));
    this.jobs = new CommitJobs({
      durationMs: options.applyDelayMs ?? 300,
      now: () => context.now(),
      begin: (job) => this.beginCommit(job),
    });
  }

  get credentials(): Record<string, string> {
    return { username: this.username, password: this.password };
  }

  // ---- request handling ----

  async handle(request: SimRequest): Promise<SimResponse> {
    const path = request.path.replace(/\/+$/, "");
    if (path !== "/api") return notFoundPage();
    if (request.method !== "GET" && request.method !== "POST") {
      return httpErrorXml(405, "Method not allowed");
    }
    const params = requestParams(request);
    const type = params.get("type");
    try {
      if (type === "keygen") return this.keygen(params);
      if (!this.authenticated(request, params)) return invalidCredentials();
      switch (type) {
        case null:
        case "":
          throw new PanError(PAN_CODES.badRequest, "Missing type parameter");
        case "config":
          return this.config(params);
        case "commit":
          return this.commit(params);
        case "op":
          return this.op(params);
        default:
          throw new PanError(PAN_CODES.badRequest, `Invalid type: ${type}`);
      }
    } catch (error) {
      if (error instanceof PanError) return errorXml(error);
      throw error;
    }
  }

  private keygen(params: URLSearchParams): SimResponse {
    const user = params.get("user");
    const password = params.get("password");
    if (user !== this.username || password !== this.password) {
      return errorXml(new PanError(PAN_CODES.forbidden, "Invalid Credential"));
    }
    this.context.counters.loginCount += 1;
    const key = newApiKey();
    this.keys.add(key);
    return successResult(`<key>${escapeText(key)}</key>`);
  }

  /** The key as `key=` or `X-PAN-KEY`, or Basic credentials (never accepted for keygen itself). */
  private authenticated(request: SimRequest, params: URLSearchParams): boolean {
    const key = params.get("key") ?? headerValue(request, "x-pan-key");
    if (key !== undefined) return this.keys.has(key);
    const authorization = headerValue(request, "authorization") ?? "";
    const [scheme = "", encoded = ""] = authorization.split(" ", 2);
    if (scheme.toLowerCase() !== "basic") return false;
    const decoded = Buffer.from(encoded, "base64").toString("utf8");
    return decoded === `${this.username}:${this.password}`;
  }

  private config(params: URLSearchParams): SimResponse {
    const action = params.get("action");
    const xpath = params.get("xpath");
    if (action === null) throw new PanError(PAN_CODES.badRequest, "Missing action parameter");
    if (xpath === null || xpath === "") throw new PanError(PAN_CODES.badRequest, "Missing xpath parameter");
    switch (action) {
      case "get":
      case "show":
        return this.read(xpath, action);
      case "set":
      case "edit": {
        const raw = params.get("element");
        if (raw === null) throw new PanError(PAN_CODES.badRequest, "Missing element parameter");
        this.checkVsys(xpath);
        const fragment = parseOrThrow(() => parseFragment(raw));
        if (action === "set") this.store.set(xpath, fragment);
        else this.store.edit(xpath, fragment);
        return commandSucceeded();
      }
      case "delete":
        this.store.delete(xpath);
        return commandSucceeded();
      case "move":
        this.store.move(xpath, params.get("where") ?? "", params.get("dst") ?? undefined);
        return commandSucceeded();
      case "rename": {
        const newName = params.get("newname");
        if (newName === null) throw new PanError(PAN_CODES.badRequest, "Missing newname parameter");
        this.store.rename(xpath, newName);
        return commandSucceeded();
      }
      default:
        throw new PanError(PAN_CODES.badRequest, `Invalid action: ${action}`);
    }
  }

  /** A write to a vsys that does not exist is refused (entries of the vsys list cannot be created). */
  private checkVsys(xpath: string): void {
    const steps = parseXpath(xpath);
    const vsysStep = steps[4];
    if (steps[3]?.tag === "vsys" && vsysStep?.name !== undefined && !this.vsysNames.includes(vsysStep.name)) {
      throw new PanError(PAN_CODES.invalidObject, [
        ` ${vsysStep.name} is not a valid reference`,
        " vsys is invalid",
      ]);
    }
  }

  private read(xpath: string, action: "get" | "show"): SimResponse {
    const nodes = this.store.read(xpath, action === "get" ? "candidate" : "running");
    if (action === "show") {
      if (nodes.length === 0) throw new PanError(PAN_CODES.objectNotPresent, "No such node");
      return successResult(nodes.map(serialize).join(""));
    }
    const count = ` total-count="${nodes.length}" count="${nodes.length}"`;
    if (nodes.length === 0) {
      return xmlResponse(`<response status="success" code="7"><result${count}/></response>`);
    }
    return xmlResponse(
      `<response status="success" code="19"><result${count}>${nodes.map(serialize).join("")}</result></response>`,
    );
  }

  private commit(params: URLSearchParams): SimResponse {
    const cmd = parseOrThrow(() => parseElement(params.get("cmd") ?? ""));
    if (cmd.tag !== "commit") throw new PanError(PAN_CODES.invalidCommand, ` ${cmd.tag} is unexpected`);
    if (!this.store.pending && !this.jobs.all().some((job) => job.status !== "FIN")) {
      return xmlResponse(
        '<response status="success" code="19"><msg>There are no changes to commit.</msg></response>',
      );
    }
    const description = child(cmd, "description")?.text ?? "";
    const job = this.jobs.enqueue(this.username, description);
    this.context.counters.applyCount += 1;
    return xmlResponse(
      `<response status="success" code="19"><result><msg><line>Commit job enqueued with jobid ${job.id}</line></msg><job>${job.id}</job></result></response>`,
    );
  }

  /** Snapshots the candidate when the job starts; commits it (or fails) when its time is up. */
  private beginCommit(_job: CommitJob): () => { ok: boolean; details: string[] } {
    const snapshot = clone(this.store.candidate);
    return () => {
      const fault = this.commitFaults[0];
      if (fault !== undefined) {
        if (fault.remaining !== null) {
          fault.remaining -= 1;
          if (fault.remaining <= 0) this.commitFaults.shift();
        }
        return { ok: false, details: [fault.message, "Commit failed"] };
      }
      const errors = commitErrors(snapshot, this.env).map((line) =>
        this.options.anonymousCommitErrors ? line.replace(/^\S+ -> /, "") : line,
      );
      if (errors.length > 0) return { ok: false, details: ["Validation Error:", ...errors, "Commit failed"] };
      this.store.running = snapshot;
      return { ok: true, details: ["Configuration committed successfully"] };
    };
  }

  private op(params: URLSearchParams): SimResponse {
    const cmd = parseOrThrow(() => parseElement(params.get("cmd") ?? ""));
    const path: string[] = [];
    let node: XNode | undefined = cmd;
    while (node !== undefined) {
      path.push(node.tag);
      node = node.children.length === 1 ? node.children[0] : undefined;
    }
    const [verb, what, detail] = path;
    if (verb === "show" && what === "system" && detail === "info") return this.systemInfo();
    if (verb === "load" && what === "config" && detail === "partial") return this.loadPartial(cmd);
    if (verb === "show" && what === "jobs") {
      const jobs = child(cmd, "jobs") as XNode;
      const id = child(jobs, "id");
      if (id !== undefined) {
        const job = this.jobs.get(Number(id.text));
        if (job === undefined || !/^\d+$/.test(id.text ?? "")) {
          throw new PanError(PAN_CODES.objectNotFound, `job ${id.text ?? ""} not found`);
        }
        return successResult(this.jobXml(job));
      }
      if (child(jobs, "all") !== undefined)
        return successResult(
          this.jobs
            .all()
            .map((j) => this.jobXml(j))
            .join(""),
        );
    }
    throw new PanError(PAN_CODES.invalidCommand, ` ${path.join(" -> ")} is unexpected`);
  }

  /** `<load><config><partial>`: from running-config.xml, mode replace (what reverting a rule needs). */
  private loadPartial(cmd: XNode): SimResponse {
    const partial = child(child(cmd, "config") as XNode, "partial") as XNode;
    const from = child(partial, "from")?.text ?? "";
    const mode = child(partial, "mode")?.text ?? "merge";
    const fromXpath = child(partial, "from-xpath")?.text ?? "";
    const toXpath = child(partial, "to-xpath")?.text ?? "";
    if (from !== "running-config.xml" || mode !== "replace") {
      throw new PanError(
        PAN_CODES.invalidCommand,
        ` the simulator loads from running-config.xml, mode replace`,
      );
    }
    if (fromXpath === "" || toXpath === "")
      throw new PanError(PAN_CODES.badRequest, "Missing from-xpath or to-xpath");
    this.checkVsys(toXpath);
    this.store.loadPartialFromRunning(fromXpath, toXpath);
    return xmlResponse(
      '<response status="success"><result><msg><line>Config loaded from running-config.xml</line></msg></result></response>',
    );
  }

  private jobXml(job: CommitJob): string {
    const time = (ms: number | undefined) => (ms === undefined ? "" : panTime(ms));
    return [
      "<job>",
      `<tenq>${time(job.enqueuedAt)}</tenq>`,
      `<tdeq>${time(job.startedAt).slice(11)}</tdeq>`,
      `<id>${job.id}</id>`,
      `<user>${escapeText(job.user)}</user>`,
      "<type>Commit</type>",
      `<status>${job.status}</status>`,
      `<queued>${job.status === "PEND" ? "YES" : "NO"}</queued>`,
      "<stoppable>no</stoppable>",
      `<result>${job.result}</result>`,
      `<tfin>${time(job.finishedAt)}</tfin>`,
      `<description>${escapeText(job.description)}</description>`,
      `<positionInQ>${this.jobs.positionInQueue(job)}</positionInQ>`,
      `<progress>${this.jobs.progress(job)}</progress>`,
      `<details>${xmlLines(job.details)}</details>`,
      "<warnings></warnings>",
      "</job>",
    ].join("");
  }

  private systemInfo(): SimResponse {
    return successResult(
      systemInfoXml({
        hostname: this.options.hostname ?? "PA-VM",
        serial: this.options.serial ?? "007954000123456",
        version: this.options.version ?? "10.2.4",
        multiVsys: this.vsysNames.length > 1,
        uptimeSeconds: Math.floor((this.context.now() - this.bootTime) / 1000),
        time: panTime(this.context.now()),
      }),
    );
  }

  errorResponse(status: number): SimResponse {
    if (status === 400 || status === 403) {
      return errorXml(new PanError(status, status === 403 ? "Invalid credentials." : "Bad request"));
    }
    return httpErrorXml(status, status >= 500 ? "Internal error" : `HTTP ${status}`);
  }

  rateLimitResponse(retryAfterSeconds: number, _request: SimRequest, status = 429): SimResponse {
    return httpErrorXml(status, "Too many requests", { "retry-after": String(retryAfterSeconds) });
  }

  authFailureResponse(): SimResponse {
    return invalidCredentials();
  }

  /** API keys stop working (an administrator revoked them, or their lifetime ended). */
  expireSessions(): void {
    this.keys.clear();
  }

  /** A new password invalidates the keys generated from the old one. */
  setCredentials(credentials: Record<string, string>): void {
    if (credentials.username === undefined || credentials.password === undefined) {
      throw new Error("PAN-OS credentials need username and password");
    }
    this.username = credentials.username;
    this.password = credentials.password;
    this.keys.clear();
  }

  reset(): void {
    this.jobs.reset();
    this.store.reset();
    this.keys.clear();
    this.commitFaults = [];
  }

  dispose(): void {
    this.jobs.dispose();
  }

  // ---- control API ----

  /** `kind` or `kind@vsysN`: the list element holding that kind's entries. */
  private list(kind: ObjectKind, tree: XNode): XNode {
    const [base = "", vsysName = this.vsysNames[0] ?? "vsys1"] = kind.split("@");
    const path = KIND_PATHS[base];
    if (path === undefined || !this.vsysNames.includes(vsysName)) {
      throw new SimulatorControlError(
        404,
        `PAN-OS has no object kind ${kind} (kinds: ${this.kinds.join(", ")}, kind@vsys)`,
      );
    }
    const steps: Step[] = [
      { tag: "config" },
      { tag: "devices" },
      { tag: "entry", name: "localhost.localdomain" },
      { tag: "vsys" },
      { tag: "entry", name: vsysName },
    ];
    let node = select(tree, steps)[0]?.node;
    for (const tag of path) {
      if (node === undefined) break;
      let next = child(node, tag);
      if (next === undefined) {
        next = element(tag);
        node.children.push(next);
      }
      node = next;
    }
    if (node === undefined) throw new SimulatorControlError(500, `vsys ${vsysName} is missing`);
    return node;
  }

  objects(kind: ObjectKind): ObjectsView {
    if (kind === COMMIT_FAULT) {
      const faults = this.commitFaults.map((fault) => ({ ...fault }));
      return { kind, candidate: faults, running: structuredClone(faults), pending: false };
    }
    const view = (tree: XNode) =>
      this.list(kind, clone(tree)).children.map((entry) => toJson(entry) as VendorObject);
    return {
      kind,
      candidate: view(this.store.candidate),
      running: view(this.store.running),
      pending: this.store.pending,
    };
  }

  putObject(kind: ObjectKind, object: VendorObject, options: ObjectWriteOptions): string {
    if (kind === COMMIT_FAULT) {
      this.faultCounter += 1;
      const id = `commit-fault-${this.faultCounter}`;
      const times = object.times;
      this.commitFaults.push({
        id,
        message: typeof object.message === "string" ? object.message : "Commit failed by an injected fault",
        remaining: typeof times === "number" && times > 0 ? times : null,
      });
      return id;
    }
    const name = object["@name"];
    if (typeof name !== "string" || name === "") {
      throw new SimulatorControlError(400, 'a PAN-OS object needs "@name"');
    }
    const list = this.list(kind, this.store.candidate);
    if (entryNamed(list, name) !== undefined) {
      throw new SimulatorControlError(409, `${kind} ${name} already exists`);
    }
    const entry = fromJson("entry", object);
    if (kind.startsWith("firewallRule") || kind.startsWith("natRule")) {
      entry.attrs.uuid ??= crypto.randomUUID();
    }
    list.children.splice(options.position ?? list.children.length, 0, entry);
    this.afterControlWrite(options);
    return name;
  }

  updateObject(kind: ObjectKind, id: string, patch: VendorObject, options: ObjectWriteOptions): void {
    this.requireControlKind(kind);
    const list = this.list(kind, this.store.candidate);
    const entry = entryNamed(list, id);
    if (entry === undefined) throw new SimulatorControlError(404, `no ${kind} named ${id}`);
    for (const [key, value] of Object.entries(patch)) {
      if (key.startsWith("@")) {
        entry.attrs[key.slice(1)] = String(value);
        continue;
      }
      const replacement = fromJson(key, value);
      const index = entry.children.findIndex((c) => c.tag === key);
      if (index >= 0) entry.children.splice(index, 1, replacement);
      else entry.children.push(replacement);
    }
    if (options.position !== undefined) {
      list.children.splice(list.children.indexOf(entry), 1);
      list.children.splice(options.position, 0, entry);
    }
    this.afterControlWrite(options);
  }

  deleteObject(kind: ObjectKind, id: string, options: ObjectWriteOptions): void {
    if (kind === COMMIT_FAULT) {
      const before = this.commitFaults.length;
      this.commitFaults = this.commitFaults.filter((fault) => fault.id !== id);
      if (this.commitFaults.length === before) throw new SimulatorControlError(404, `no commit fault ${id}`);
      return;
    }
    const list = this.list(kind, this.store.candidate);
    const entry = entryNamed(list, id);
    if (entry === undefined) throw new SimulatorControlError(404, `no ${kind} named ${id}`);
    list.children.splice(list.children.indexOf(entry), 1);
    this.afterControlWrite(options);
  }

  private requireControlKind(kind: ObjectKind): void {
    if (kind === COMMIT_FAULT) throw new SimulatorControlError(400, "commit faults cannot be updated");
  }

  /** An administrator's GUI commit: everything pending becomes running, validation skipped. */
  private afterControlWrite(options: ObjectWriteOptions): void {
    if (options.apply ?? true) this.store.running = clone(this.store.candidate);
  }
}

function headerValue(request: SimRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Query parameters and a form-encoded body, the body winning (POST is how large elements travel). */
function requestParams(request: SimRequest): URLSearchParams {
  const params = new URLSearchParams(request.query);
  const contentType = String(request.headers["content-type"] ?? "");
  if (request.method === "POST" && request.body !== "" && !contentType.includes("multipart/")) {
    for (const [name, value] of new URLSearchParams(request.body)) params.set(name, value);
  }
  return params;
}

function parseOrThrow<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof XmlSyntaxError) {
      throw new PanError(PAN_CODES.malformed, ["Malformed Request", error.message]);
    }
    throw error;
  }
}

/** PAN-OS job timestamps: `2024/05/01 12:34:56`. */
function panTime(ms: number): string {
  const date = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${date.getUTCFullYear()}/${pad(date.getUTCMonth() + 1)}/${pad(date.getUTCDate())} ${pad(
    date.getUTCHours(),
  )}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}`;
}

export const panos: VendorDefinition<PanOSSimulatorOptions> = {
  vendor: "panos",
  credentialKeys: ["username", "password"],
  create: (context, options) => new PanOSSimulator(context, options),
};
