// A fake Kubernetes API for reconciler tests: an in-memory object store that answers the requests
// reconcilers make (GET, server-side apply to /status, JSON Patch of finalizers), records each one as
// an action, injects API errors (409, 410, 500…) on the requests that match, and serves the objects
// to the reconcilers as informer caches. No API server, no network.
//
// Server-side apply is modelled as far as the status writer relies on it: per field manager, the
// top-level status fields and the condition types it applied; a field it stops sending is removed when
// no other manager owns it; force takes a field over; a resourceVersion in the body is a precondition.
import { randomUUID } from "node:crypto";
import type { ObjectCache } from "../../../src/runtime/informer.ts";
import { KubeApiError, type KubeRequest, type KubeRequester } from "../../../src/runtime/kube-http.ts";
import type { KubeObject, ResourceType } from "../../../src/runtime/resource.ts";
import { APPLY_PATCH } from "../../../src/runtime/status-writer.ts";

/** One request as the test reads it: "apply-status vnffirewallrules/web (vnf-rule-controller)". */
export interface KubeAction {
  verb: "get" | "apply-status" | "patch" | "other";
  plural: string;
  name: string;
  fieldManager?: string;
  /** The applied status (apply-status) or the JSON Patch (patch). */
  body?: unknown;
  /** The answer's HTTP status when the request failed. */
  failed?: number;
}

export interface Fault {
  verb?: KubeAction["verb"];
  plural?: string;
  name?: string;
  status: number;
  /** How many matching requests fail; default 1. */
  times?: number;
  /** Let this many matching requests through first (e.g. 1: the intent lands, the outcome fails). */
  skip?: number;
}

type Obj = KubeObject & { metadata: NonNullable<KubeObject["metadata"]>; status?: Record<string, unknown> };
interface Stored {
  resource: ResourceType;
  obj: Obj;
  /** field manager → the status fields and condition types it owns. */
  owners: Map<string, { fields: Set<string>; conditions: Set<string> }>;
}

const REASONS: Record<number, string> = {
  404: "NotFound",
  409: "Conflict",
  410: "Expired",
  422: "Invalid",
  429: "TooManyRequests",
  500: "InternalError",
  503: "ServiceUnavailable",
};

/** Who wrote a status field (or, for conditions, a condition type) of an object the test seeds. */
export type SeedOwner = (plural: string, item: { field: string } | { condition: string }) => string;

export class FakeKube implements KubeRequester {
  readonly actions: KubeAction[] = [];
  readonly #seedOwner: SeedOwner;

  /** `seedOwner` attributes the status of seeded objects, as if each controller had applied its part. */
  constructor(seedOwner: SeedOwner = () => "seed") {
    this.#seedOwner = seedOwner;
  }

  readonly #objects = new Map<string, Stored>();
  readonly #faults: Fault[] = [];
  #resourceVersion = 1000;
  #synced = true;

  /** Stores an object as the API server would (uid, resourceVersion, generation); returns it. */
  add<T extends KubeObject>(resource: ResourceType, obj: T): T {
    const stored = structuredClone(obj) as unknown as Obj;
    stored.apiVersion ??= resource.group ? `${resource.group}/${resource.version}` : resource.version;
    stored.kind ??= resource.kind;
    stored.metadata.uid ??= randomUUID();
    stored.metadata.generation ??= 1;
    // A given resourceVersion is kept (a test may need to know it, e.g. a Secret's in a session epoch).
    stored.metadata.resourceVersion ??= this.#nextVersion();
    const owners: Stored["owners"] = new Map();
    const owner = (manager: string) => {
      if (!owners.has(manager)) owners.set(manager, { fields: new Set(), conditions: new Set() });
      return owners.get(manager) as { fields: Set<string>; conditions: Set<string> };
    };
    for (const field of Object.keys(stored.status ?? {})) {
      if (field !== "conditions") owner(this.#seedOwner(resource.plural, { field })).fields.add(field);
    }
    for (const c of (stored.status?.conditions as { type: string }[] | undefined) ?? []) {
      owner(this.#seedOwner(resource.plural, { condition: c.type })).conditions.add(c.type);
    }
    const key = this.#key(resource.plural, stored.metadata.namespace ?? "", stored.metadata.name ?? "");
    this.#objects.set(key, { resource, obj: stored, owners });
    return structuredClone(stored) as unknown as T;
  }

  /** The stored object (a copy), as a GET would return it. */
  object<T extends KubeObject>(resource: ResourceType, namespace: string, name: string): T | undefined {
    const stored = this.#objects.get(this.#key(resource.plural, namespace, name));
    return stored ? (structuredClone(stored.obj) as unknown as T) : undefined;
  }

  /** Changes a stored object as a user would (spec edits bump generation); returns the new copy. */
  edit<T extends KubeObject>(
    resource: ResourceType,
    namespace: string,
    name: string,
    change: (obj: T) => void,
  ): T {
    const stored = this.#objects.get(this.#key(resource.plural, namespace, name));
    if (!stored) throw new Error(`no ${resource.plural} ${namespace}/${name}`);
    const before = JSON.stringify((stored.obj as { spec?: unknown }).spec);
    change(stored.obj as unknown as T);
    if (JSON.stringify((stored.obj as { spec?: unknown }).spec) !== before) {
      stored.obj.metadata.generation = (stored.obj.metadata.generation ?? 1) + 1;
    }
    stored.obj.metadata.resourceVersion = this.#nextVersion();
    return structuredClone(stored.obj) as unknown as T;
  }

  /** Removes a stored object, as the API server does once its last finalizer is gone. */
  remove(resource: ResourceType, namespace: string, name: string): void {
    this.#objects.delete(this.#key(resource.plural, namespace, name));
  }

  /** The informer cache of one resource, reading the store (always current unless `setSynced(false)`). */
  cache<T extends KubeObject>(resource: ResourceType): ObjectCache<T> {
    const all = () =>
      [...this.#objects.values()]
        .filter((s) => s.resource.plural === resource.plural)
        .map((s) => structuredClone(s.obj) as unknown as T);
    return {
      get: (namespace, name) => this.object<T>(resource, namespace, name),
      list: (namespace) =>
        all().filter(
          (o) => namespace === undefined || namespace === "" || o.metadata?.namespace === namespace,
        ),
      hasSynced: () => this.#synced,
    };
  }

  setSynced(synced: boolean): void {
    this.#synced = synced;
  }

  /** The next matching requests fail with this status (after being recorded). */
  fail(fault: Fault): void {
    this.#faults.push({ ...fault, times: fault.times ?? 1 });
  }

  /** The recorded actions in the short form table tests compare: "apply-status vnfdevices/edge". */
  summary(options: { gets?: boolean } = {}): string[] {
    return this.actions
      .filter((a) => options.gets || a.verb !== "get")
      .map((a) => `${a.verb} ${a.plural}/${a.name}${a.failed ? ` -> ${a.failed}` : ""}`);
  }

  /** The status bodies applied by one field manager, in order. */
  applied(fieldManager?: string): Record<string, unknown>[] {
    return this.actions
      .filter(
        (a) => a.verb === "apply-status" && !a.failed && (!fieldManager || a.fieldManager === fieldManager),
      )
      .map((a) => a.body as Record<string, unknown>);
  }

  async request<T = unknown>(req: KubeRequest): Promise<T> {
    const { plural, namespace, name, subresource } = parsePath(req.path);
    const verb: KubeAction["verb"] =
      req.method === "GET"
        ? "get"
        : req.method === "PATCH" && subresource === "status" && req.contentType === APPLY_PATCH
          ? "apply-status"
          : req.method === "PATCH" && subresource === undefined
            ? "patch"
            : "other";
    const action: KubeAction = { verb, plural, name };
    if (verb === "apply-status") {
      action.fieldManager = String(req.query?.fieldManager ?? "");
      action.body = structuredClone((req.body as { status?: unknown }).status);
    } else if (verb === "patch") {
      action.body = structuredClone(req.body);
    }
    // A cancelled request is never sent (undici refuses it before connecting): not an action.
    if (req.signal?.aborted) throw req.signal.reason;
    this.actions.push(action);

    const fault = this.#faults.find(
      (f) =>
        (f.times ?? 0) > 0 &&
        (f.verb === undefined || f.verb === verb) &&
        (f.plural === undefined || f.plural === plural) &&
        (f.name === undefined || f.name === name),
    );
    if (fault && (fault.skip ?? 0) > 0) {
      fault.skip = (fault.skip ?? 0) - 1;
    } else if (fault) {
      fault.times = (fault.times ?? 1) - 1;
      action.failed = fault.status;
      throw apiError(req, fault.status);
    }

    const stored = this.#objects.get(this.#key(plural, namespace, name));
    if (!stored) {
      action.failed = 404;
      throw apiError(req, 404);
    }
    if (verb === "get") return structuredClone(stored.obj) as T;
    if (verb === "apply-status") {
      this.#apply(stored, req, action);
      return structuredClone(stored.obj) as T;
    }
    if (verb === "patch") {
      this.#jsonPatch(stored, req.body as JsonOp[], req, action);
      return structuredClone(stored.obj) as T;
    }
    throw new Error(`FakeKube: unsupported request ${req.method} ${req.path} (${req.contentType ?? ""})`);
  }

  #apply(stored: Stored, req: KubeRequest, action: KubeAction): void {
    const body = req.body as { metadata?: { resourceVersion?: string }; status?: Record<string, unknown> };
    const precondition = body.metadata?.resourceVersion;
    if (precondition !== undefined && precondition !== stored.obj.metadata.resourceVersion) {
      action.failed = 409;
      throw apiError(req, 409);
    }
    const manager = action.fieldManager ?? "";
    const applied = body.status ?? {};
    const fields = new Set(Object.keys(applied).filter((k) => k !== "conditions"));
    const conditions = (applied.conditions as { type: string }[] | undefined) ?? [];
    const types = new Set(conditions.map((c) => c.type));
    const status: Record<string, unknown> = { ...(stored.obj.status ?? {}) };
    let list = [...((status.conditions as { type: string }[] | undefined) ?? [])];
    const previous = stored.owners.get(manager) ?? {
      fields: new Set<string>(),
      conditions: new Set<string>(),
    };
    const ownedElsewhere = (what: "fields" | "conditions", item: string) =>
      [...stored.owners].some(([m, owned]) => m !== manager && owned[what].has(item));
    for (const field of previous.fields) {
      if (!fields.has(field) && !ownedElsewhere("fields", field)) delete status[field];
    }
    for (const type of previous.conditions) {
      if (!types.has(type) && !ownedElsewhere("conditions", type)) list = list.filter((c) => c.type !== type);
    }
    // force: what this manager applies is its own now.
    for (const [m, owned] of stored.owners) {
      if (m === manager) continue;
      for (const field of fields) owned.fields.delete(field);
      for (const type of types) owned.conditions.delete(type);
    }
    for (const field of fields) status[field] = structuredClone(applied[field]);
    for (const condition of conditions) {
      const index = list.findIndex((c) => c.type === condition.type);
      if (index >= 0) list[index] = structuredClone(condition);
      else list.push(structuredClone(condition));
    }
    if (list.length > 0) status.conditions = list;
    else delete status.conditions;
    stored.owners.set(manager, { fields, conditions: types });
    const before = JSON.stringify(stored.obj.status ?? {});
    stored.obj.status = status;
    if (JSON.stringify(status) !== before) stored.obj.metadata.resourceVersion = this.#nextVersion();
  }

  #jsonPatch(stored: Stored, ops: JsonOp[], req: KubeRequest, action: KubeAction): void {
    const metadata = structuredClone(stored.obj.metadata);
    for (const op of ops) {
      const path = op.path;
      if (!path.startsWith("/metadata/finalizers")) throw new Error(`FakeKube: JSON Patch of ${path}`);
      const list = metadata.finalizers;
      const rest = path.slice("/metadata/finalizers".length);
      if (op.op === "test") {
        const actual = rest === "" ? (list ?? null) : list?.[Number(rest.slice(1))];
        if (JSON.stringify(actual) !== JSON.stringify(op.value)) {
          action.failed = 422;
          throw apiError(req, 422);
        }
      } else if (op.op === "add") {
        if (rest === "") metadata.finalizers = op.value as string[];
        else metadata.finalizers = [...(list ?? []), op.value as string];
      } else if (op.op === "remove") {
        metadata.finalizers = (list ?? []).filter((_, i) => `/${i}` !== rest);
      }
    }
    stored.obj.metadata = metadata;
    stored.obj.metadata.resourceVersion = this.#nextVersion();
    // The API server deletes an object being deleted once its last finalizer is gone.
    if (metadata.deletionTimestamp && (metadata.finalizers ?? []).length === 0) {
      this.#objects.delete(this.#key(stored.resource.plural, metadata.namespace ?? "", metadata.name ?? ""));
    }
  }

  #key(plural: string, namespace: string, name: string): string {
    return `${plural}/${namespace}/${name}`;
  }

  #nextVersion(): string {
    this.#resourceVersion += 1;
    return String(this.#resourceVersion);
  }
}

type JsonOp = { op: "test" | "add" | "replace" | "remove"; path: string; value?: unknown };

function parsePath(path: string): { plural: string; namespace: string; name: string; subresource?: string } {
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  const ns = parts.indexOf("namespaces");
  const rest = ns >= 0 ? parts.slice(ns + 2) : parts.slice(parts[0] === "api" ? 2 : 3);
  const [plural = "", name = "", subresource] = rest;
  return {
    plural,
    namespace: ns >= 0 ? (parts[ns + 1] ?? "") : "",
    name,
    ...(subresource ? { subresource } : {}),
  };
}

function apiError(req: KubeRequest, status: number): KubeApiError {
  const reason = REASONS[status] ?? "Unknown";
  return new KubeApiError(
    status,
    reason,
    `${req.method} ${req.path}: ${status} ${reason}: injected by FakeKube`,
  );
}
