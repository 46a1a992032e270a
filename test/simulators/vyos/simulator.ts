// VyOS HTTP API (vyos-1x src/services/api/rest/routers.py and models.py, VyOS 1.4; vyos-documentation
// automation/vyos-api.rst). See README.md for what is and is not simulated.
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
import { applyCommands, type Command, ConfigSessionError, lookup, type VNode, type VTree } from "./tree.ts";

export interface VyOSSimulatorOptions {
  /** How long a commit takes while holding the global lock, default 20 ms (real commits take seconds). */
  commitDelayMs?: number;
  /** `service https api strict`: deleting a missing path fails with a shorter message. */
  strict?: boolean;
  /** Ethernet interfaces in the initial configuration, default eth0..eth2. */
  interfaces?: string[];
  hostname?: string;
  /** `/info` and `/show version`, default 1.4.0. */
  version?: string;
  /** `Hardware S/N` in `/show version`. */
  serial?: string;
}

export type VyOSOptions = VyOSSimulatorOptions & CommonSimulatorOptions;

const DEFAULT_BOOT_FILE = "/config/config.boot";

/** Control kinds: where their objects live in the tree (a tag node whose values are the objects). */
const KIND_ROOTS: Record<string, readonly (readonly string[])[]> = {
  firewallRule: [
    ["firewall", "ipv4", "name", "*", "rule"],
    ["firewall", "ipv6", "name", "*", "rule"],
  ],
  natRule: [
    ["nat", "destination", "rule"],
    ["nat", "source", "rule"],
  ],
};

/** A FIFO mutex: the API's global `threading.Lock` (a second caller waits, it is not refused). */
class GlobalLock {
  private tail: Promise<void> = Promise.resolve();

  run<T>(work: () => Promise<T>): Promise<T> {
    const result = this.tail.then(work);
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}

function isTree(value: VNode | undefined): value is VTree {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function initialConfig(interfaces: readonly string[], hostname: string): VTree {
  const ethernet: VTree = {};
  interfaces.forEach((name, index) => {
    ethernet[name] = { address: [`192.0.2.${index + 1}/24`], "hw-id": `52:54:00:00:00:0${index}` };
  });
  return {
    interfaces: { ethernet, loopback: { lo: {} } },
    service: { https: { api: { keys: { id: { operator: { key: "[REDACTED]" } } } } } },
    system: { "host-name": hostname, "config-management": { "commit-revisions": "100" } },
  };
}

export class VyOSSimulator implements VendorSimulator {
  readonly kinds: ObjectKind[] = [...Object.keys(KIND_ROOTS), "config"];
  readonly redaction = {};
  private readonly context: VendorContext;
  private readonly options: VyOSOptions;
  private readonly lock = new GlobalLock();
  private readonly timers = new Set<NodeJS.Timeout>();
  private key: string;
  /** The committed (active) configuration: each /configure commits into it. */
  private running: VTree;
  /** Saved files; DEFAULT_BOOT_FILE is what the router boots with. */
  private files = new Map<string, VTree>();

  constructor(context: VendorContext, options: VyOSOptions) {
    this.context = context;
    this.options = options;
    this.key = options.credentials?.key ?? randomBytes(18).toString("base64url");
    this.running = this.initial();
    this.files.set(DEFAULT_BOOT_FILE, structuredClone(this.running));
  }

  get credentials(): Record<string, string> {
    return { key: this.key };
  }

  private initial(): VTree {
    return initialConfig(
      this.options.interfaces ?? ["eth0", "eth1", "eth2"],
      this.options.hostname ?? "vyos",
    );
  }

  // ---- request handling ----

  async handle(request: SimRequest): Promise<SimResponse> {
    const path = request.path.length > 1 ? request.path.replace(/\/+$/, "") : request.path;
    const endpoints = ["/retrieve", "/configure", "/config-file", "/show", "/info"];
    if (!endpoints.includes(path)) return fastApiError(404, "Not Found");
    if (path === "/info") {
      if (request.method !== "GET") return fastApiError(405, "Method Not Allowed");
      return this.info(request.query);
    }
    if (request.method !== "POST") return fastApiError(405, "Method Not Allowed");

    const parsed = parseRequest(request, path);
    if ("error" in parsed) return failure(parsed.error[0], parsed.error[1]);
    if (parsed.key !== this.key) return this.authFailureResponse();
    const data = parsed.data;
    try {
      switch (path) {
        case "/retrieve":
          return this.retrieve(data);
        case "/configure":
          return await this.lock.run(() => this.configure(data));
        case "/config-file":
          return await this.lock.run(() => this.configFile(data));
        default:
          return this.show(data);
      }
    } catch (error) {
      if (error instanceof ConfigSessionError) return failure(400, error.message);
      throw error;
    }
  }

  private info(query: URLSearchParams): SimResponse {
    const data: Record<string, Json> = {};
    if (query.get("version") !== "false") data.version = this.options.version ?? "1.4.0";
    if (query.get("hostname") !== "false") data.hostname = this.hostname();
    data.banner = "Welcome to VyOS";
    return success(data);
  }

  private hostname(): string {
    const name = lookup(this.running, ["system", "host-name"]);
    return typeof name === "string" ? name : "vyos";
  }

  private retrieve(data: Record<string, unknown>): SimResponse {
    const op = data.op;
    const path = data.path;
    if (typeof op !== "string" || !isStringList(path)) return validationError(data, ["op", "path"]);
    const value = lookup(this.running, path);
    switch (op) {
      case "showConfig": {
        const format = data.configFormat ?? "json";
        if (format !== "json" && format !== "raw")
          return failure(400, `'${String(format)}' is not a valid config format`);
        if (value === undefined) return failure(400, "Configuration under specified path is empty");
        const shown: Json = isTree(value) ? (value as Json) : { [path.at(-1) ?? ""]: value as Json };
        return success(format === "raw" ? renderRaw(shown) : shown);
      }
      case "returnValue":
        return success(typeof value === "string" ? value : null);
      case "returnValues":
        return success(Array.isArray(value) ? value : typeof value === "string" ? [value] : []);
      case "exists":
        return success(value !== undefined);
      default:
        return failure(400, `'${op}' is not a valid operation`);
    }
  }

  /** One commit for the whole list; any failing command discards the session (nothing applied). */
  private async configure(data: Record<string, unknown>): Promise<SimResponse> {
    const commands = (Array.isArray(data.commands) ? data.commands : [data]) as Command[];
    const next = applyCommands(this.running, commands, this.options.strict ?? false);
    const changed = JSON.stringify(next) !== JSON.stringify(this.running);
    await this.sleep(this.options.commitDelayMs ?? 20);
    this.running = next;
    return success(changed ? "" : "No configuration changes to commit");
  }

  private async configFile(data: Record<string, unknown>): Promise<SimResponse> {
    const op = data.op;
    const file = typeof data.file === "string" ? data.file : undefined;
    switch (op) {
      case "save": {
        await this.sleep(this.options.applyDelayMs ?? 0);
        const target = file ?? DEFAULT_BOOT_FILE;
        this.files.set(target, structuredClone(this.running));
        this.context.counters.applyCount += 1;
        return success(`Saving configuration to '${target}'...\nDone\n`);
      }
      case "load": {
        if (file === undefined) {
          return failure(
            400,
            typeof data.string === "string"
              ? "Loading from a string is not simulated"
              : 'Missing required field "file | string"',
          );
        }
        const saved = this.files.get(file);
        if (saved === undefined) return failure(400, `Failed to load config file ${file}: file not found`);
        await this.sleep(this.options.commitDelayMs ?? 20);
        this.running = structuredClone(saved);
        return success("");
      }
      default:
        return failure(400, `'${String(op)}' is not a valid operation`);
    }
  }

  private show(data: Record<string, unknown>): SimResponse {
    const path = data.path;
    if (data.op !== "show") return failure(400, `'${String(data.op)}' is not a valid operation`);
    if (!isStringList(path)) return validationError(data, ["path"]);
    if (path.join(" ") === "version") {
      const version = this.options.version ?? "1.4.0";
      return success(
        [
          `Version:          VyOS ${version}`,
          "Release train:    sagitta",
          "",
          "Built by:         simulator",
          "Architecture:     x86_64",
          "Hardware vendor:  QEMU",
          "Hardware model:   Standard PC (Q35 + ICH9, 2009)",
          `Hardware S/N:     ${this.options.serial ?? "VYOSSIM0001"}`,
          "Hardware UUID:    00000000-0000-0000-0000-000000000000",
          "",
        ].join("\n"),
      );
    }
    return failure(400, `Invalid command: show ${path.join(" ")}`);
  }

  private sleep(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      this.timers.add(timer);
    });
  }

  errorResponse(status: number): SimResponse {
    if (status === 401) return this.authFailureResponse();
    return failure(
      status,
      status >= 500 ? "An internal error occured. Check the logs for details." : `HTTP ${status}`,
    );
  }

  rateLimitResponse(retryAfterSeconds: number, _request: SimRequest, status = 429): SimResponse {
    const response = failure(status, "Too many requests");
    return { ...response, headers: { ...response.headers, "retry-after": String(retryAfterSeconds) } };
  }

  authFailureResponse(): SimResponse {
    return failure(401, "Valid API key is required");
  }

  /** API keys are configuration, not sessions: nothing to expire (an authExpire fault still answers 401). */
  expireSessions(): void {}

  setCredentials(credentials: Record<string, string>): void {
    if (credentials.key === undefined) throw new Error("VyOS credentials need key");
    this.key = credentials.key;
  }

  reset(): void {
    this.dispose();
    this.running = this.initial();
    this.files = new Map([[DEFAULT_BOOT_FILE, structuredClone(this.running)]]);
  }

  dispose(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  // ---- control API ----
  // `candidate` is the active (committed) configuration the API reads and writes; `running` is the saved
  // boot configuration, which `/config-file save` (the activation) replaces. See README.md.

  private saved(): VTree {
    return this.files.get(DEFAULT_BOOT_FILE) ?? {};
  }

  private pending(): boolean {
    return JSON.stringify(this.running) !== JSON.stringify(this.saved());
  }

  objects(kind: ObjectKind): ObjectsView {
    if (kind === "config") {
      return {
        kind,
        candidate: [structuredClone(this.running)],
        running: [structuredClone(this.saved())],
        pending: this.pending(),
      };
    }
    const roots = KIND_ROOTS[kind];
    if (roots === undefined) {
      throw new SimulatorControlError(
        404,
        `VyOS has no object kind ${kind} (kinds: ${this.kinds.join(", ")})`,
      );
    }
    return {
      kind,
      candidate: collect(this.running, roots),
      running: collect(this.saved(), roots),
      pending: this.pending(),
    };
  }

  /**
   * `{path, ...config}`: store the node's configuration at `path` (words or one space-separated
   * string); for kind `config`, `{path, config}` stores any subtree or value. No validation.
   */
  putObject(kind: ObjectKind, object: VendorObject, options: ObjectWriteOptions): string {
    const { path, ...rest } = object;
    const words = this.controlPath(kind, path);
    const value = kind === "config" && "config" in rest ? rest.config : rest;
    placeAt(this.running, words, structuredClone(value) as VNode);
    this.afterControlWrite(options);
    return words.join(" ");
  }

  updateObject(kind: ObjectKind, id: string, patch: VendorObject, options: ObjectWriteOptions): void {
    const words = this.controlPath(kind, id);
    const existing = lookup(this.running, words);
    if (!isTree(existing)) throw new SimulatorControlError(404, `nothing at ${id}`);
    Object.assign(existing, structuredClone(patch));
    this.afterControlWrite(options);
  }

  deleteObject(kind: ObjectKind, id: string, options: ObjectWriteOptions): void {
    const words = this.controlPath(kind, id);
    const parent = lookup(this.running, words.slice(0, -1));
    const last = words.at(-1) ?? "";
    if (!isTree(parent) || parent[last] === undefined)
      throw new SimulatorControlError(404, `nothing at ${id}`);
    delete parent[last];
    this.afterControlWrite(options);
  }

  private controlPath(kind: ObjectKind, path: unknown): string[] {
    if (kind !== "config" && KIND_ROOTS[kind] === undefined) {
      throw new SimulatorControlError(
        404,
        `VyOS has no object kind ${kind} (kinds: ${this.kinds.join(", ")})`,
      );
    }
    const words =
      typeof path === "string" ? path.split(" ").filter(Boolean) : isStringList(path) ? path : undefined;
    if (words === undefined || words.length === 0)
      throw new SimulatorControlError(400, "path must be a list of words or a string");
    return words;
  }

  /** An operator on the console: `commit` is implied; `apply` also saves. */
  private afterControlWrite(options: ObjectWriteOptions): void {
    if (options.apply ?? true) this.files.set(DEFAULT_BOOT_FILE, structuredClone(this.running));
  }
}

/** Every object under the roots (`*` matches any name): `{path, ...its configuration}`. */
function collect(tree: VTree, roots: readonly (readonly string[])[]): VendorObject[] {
  const out: VendorObject[] = [];
  const walk = (node: VNode | undefined, pattern: readonly string[], prefix: string[]) => {
    if (!isTree(node)) return;
    if (pattern.length === 0) {
      for (const [name, config] of Object.entries(node)) {
        out.push({ path: [...prefix, name].join(" "), ...(structuredClone(config) as VTree) });
      }
      return;
    }
    const [head, ...rest] = pattern;
    const keys = head === "*" ? Object.keys(node) : [head as string];
    for (const key of keys) walk(node[key], rest, [...prefix, key]);
  };
  for (const root of roots) walk(tree, root, []);
  return out;
}

function placeAt(tree: VTree, words: readonly string[], value: VNode): void {
  let current = tree;
  for (const word of words.slice(0, -1)) {
    const next = current[word];
    current[word] = isTree(next) ? next : {};
    current = current[word] as VTree;
  }
  current[words.at(-1) ?? ""] = value;
}

function isStringList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === "string");
}

/** Every answer is `{"success","data","error"}`, served as text/html (FastAPI HTMLResponse). */
function success(data: Json): SimResponse {
  return {
    status: 200,
    headers: { "content-type": "text/html; charset=utf-8" },
    body: JSON.stringify({ success: true, data, error: null }),
  };
}

function failure(status: number, message: string): SimResponse {
  return {
    status,
    headers: { "content-type": "text/html; charset=utf-8" },
    body: JSON.stringify({ success: false, error: htmlEscape(message), data: null }),
  };
}

/** FastAPI's own answers for unknown paths and methods. */
function fastApiError(status: number, detail: string): SimResponse {
  return { status, headers: { "content-type": "application/json" }, body: { detail } };
}

/** Python's html.escape(msg, quote=False). */
function htmlEscape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function validationError(data: Record<string, unknown>, fields: string[]): SimResponse {
  const missing = fields.find((field) => data[field] === undefined) ?? fields[0];
  return failure(400, `{'type': 'missing', 'loc': ('body', '${missing}'), 'msg': 'Field required'}`);
}

type Parsed = { key: unknown; data: Record<string, unknown> } | { error: [number, string] };

/**
 * The request as the API reads it: form fields `data` (JSON: one command, a list, or an object with
 * `commands`) and `key`, or a JSON body carrying `key`. Malformed commands are refused before the lock.
 */
function parseRequest(request: SimRequest, endpoint: string): Parsed {
  const contentType =
    String(request.headers["content-type"] ?? "")
      .split(";")[0]
      ?.trim() ?? "";
  let merged: Record<string, unknown>;
  let formKey: string | undefined;
  if (contentType === "application/x-www-form-urlencoded" || contentType === "multipart/form-data") {
    if (contentType === "multipart/form-data")
      return { error: [400, "multipart/form-data is not simulated"] };
    const form = new URLSearchParams(request.body);
    const raw = form.get("data");
    if (raw === null) return { error: [422, "Non-empty data field is required"] };
    let data: unknown;
    try {
      data = JSON.parse(raw);
    } catch (error) {
      return {
        error: [400, `Failed to parse JSON: ${error instanceof Error ? error.message : String(error)}`],
      };
    }
    merged = Array.isArray(data)
      ? { commands: data }
      : typeof data === "object" && data !== null
        ? (data as Record<string, unknown>)
        : {};
    formKey = form.get("key") ?? undefined;
    if (typeof data !== "object" || data === null)
      return { error: [400, `Malformed command '${raw}': any command must be JSON of dict`] };
  } else {
    try {
      const data: unknown = request.body.trim() === "" ? {} : JSON.parse(request.body);
      if (typeof data !== "object" || data === null || Array.isArray(data)) {
        return { error: [400, "Request body must be a JSON object"] };
      }
      merged = data as Record<string, unknown>;
    } catch (error) {
      return {
        error: [400, `Failed to parse JSON: ${error instanceof Error ? error.message : String(error)}`],
      };
    }
  }
  const commands = Array.isArray(merged.commands) ? merged.commands : [merged];
  for (const command of commands) {
    const shown = JSON.stringify(command);
    if (typeof command !== "object" || command === null || Array.isArray(command)) {
      return { error: [400, `Malformed command '${shown}': any command must be JSON of dict`] };
    }
    const c = command as Record<string, unknown>;
    if (c.op === undefined) return { error: [400, `Malformed command '${shown}': missing 'op' field`] };
    if (endpoint === "/config-file") continue;
    if (c.path === undefined) return { error: [400, `Malformed command '${shown}': missing 'path' field`] };
    if (!Array.isArray(c.path))
      return { error: [400, `Malformed command '${shown}': 'path' field must be a list`] };
    if (!isStringList(c.path))
      return { error: [400, `Malformed command '${shown}': 'path' field must be a list of strings`] };
    if (endpoint === "/configure" && c.path.length === 0) {
      return { error: [400, `Malformed command '${shown}': 'path' list must be non-empty`] };
    }
    if (endpoint === "/configure" && c.value !== undefined && typeof c.value !== "string") {
      return { error: [400, `Malformed command '${shown}': 'value' field must be a string`] };
    }
  }
  const key = merged.key ?? formKey;
  if (key === undefined) return { error: [401, "Valid API key is required"] };
  return { key, data: merged };
}

/** `configFormat: raw`: the curly-brace text of `show configuration`. */
function renderRaw(value: Json, indent = ""): string {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return String(value);
  const lines: string[] = [];
  for (const [key, child] of Object.entries(value)) {
    if (Array.isArray(child)) for (const item of child) lines.push(`${indent}${key} ${quote(String(item))}`);
    else if (typeof child === "object" && child !== null) {
      if (Object.keys(child).length === 0) lines.push(`${indent}${key}`);
      else lines.push(`${indent}${key} {`, renderRaw(child, `${indent}    `), `${indent}}`);
    } else lines.push(`${indent}${key} ${quote(String(child))}`);
  }
  return lines.join("\n");
}

function quote(value: string): string {
  return /^[\w./:-]+$/.test(value) ? value : `"${value.replace(/"/g, '\\"')}"`;
}

export const vyos: VendorDefinition<VyOSSimulatorOptions> = {
  vendor: "vyos",
  credentialKeys: ["key"],
  create: (context, options) => new VyOSSimulator(context, options),
};
