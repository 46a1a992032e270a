// An in-memory API server for the rule kinds, as far as the rule controller uses it: GET, server-side
// apply to /status (field managers, list-map conditions, the resourceVersion precondition → 409), JSON
// Patch of metadata.finalizers with `test` (→ 422), deletion with finalizers. Plus the users' side:
// create, edit the spec (generation + 1), delete, touch (another writer: resourceVersion + 1 only).
//
// The controller reads through a cache that lags behind the store: every change is an event that
// reaches the cache only when the harness delivers it (`deliver`), as an informer's watch would.
import { randomUUID } from "node:crypto";
import type { VnfRule } from "../../../src/api/types.ts";
import { KubeApiError, type KubeRequest } from "../../../src/runtime/kube-http.ts";

export interface StoreEvent {
  type: "add" | "update" | "delete";
  plural: string;
  obj: VnfRule;
  oldObj?: VnfRule;
}

type Status = Record<string, unknown>;

interface Stored {
  obj: VnfRule;
  /** What each field manager last applied to /status. */
  applied: Map<string, Status>;
}

export class FakeRuleApi {
  readonly namespace: string;
  #rv = 1;
  readonly #objects = new Map<string, Stored>();
  /** Changes not yet delivered to the cache. */
  readonly pending: StoreEvent[] = [];
  /** Applies to /status that were refused with 409 (the precondition failed). */
  conflicts = 0;

  constructor(namespace = "model") {
    this.namespace = namespace;
  }

  // ---- the users' side -------------------------------------------------------------------------

  create(plural: string, kind: string, name: string, spec: Record<string, unknown>): VnfRule {
    const obj = {
      apiVersion: "vnf-operator.io/v1alpha1",
      kind,
      metadata: {
        name,
        namespace: this.namespace,
        uid: randomUUID(),
        generation: 1,
        resourceVersion: this.#next(),
        creationTimestamp: new Date().toISOString(),
      },
      spec,
    } as unknown as VnfRule;
    this.#objects.set(this.#key(plural, name), { obj, applied: new Map() });
    this.#emit({ type: "add", plural, obj });
    return structuredClone(obj);
  }

  editSpec(plural: string, name: string, spec: Record<string, unknown>): boolean {
    return this.#mutate(plural, name, (obj) => {
      if (obj.metadata.deletionTimestamp) return false; // a terminating object's spec is frozen here
      obj.spec = spec as unknown as VnfRule["spec"];
      obj.metadata.generation = (obj.metadata.generation ?? 0) + 1;
      return true;
    });
  }

  /** Another writer changed the object (a label, another controller's status): only the version moves. */
  touch(plural: string, name: string): boolean {
    return this.#mutate(plural, name, (obj) => {
      obj.metadata.annotations = { ...obj.metadata.annotations, touched: this.#next() };
      return true;
    });
  }

  delete(plural: string, name: string): boolean {
    const stored = this.#objects.get(this.#key(plural, name));
    if (!stored) return false;
    if ((stored.obj.metadata.finalizers ?? []).length === 0) {
      this.#remove(plural, name, stored);
      return true;
    }
    if (stored.obj.metadata.deletionTimestamp) return false;
    return this.#mutate(plural, name, (obj) => {
      obj.metadata.deletionTimestamp = new Date().toISOString();
      return true;
    });
  }

  /** Sets status as a given field manager left it (e.g. an older operator version). */
  setStatus(plural: string, name: string, manager: string, status: Record<string, unknown>): void {
    const stored = this.#objects.get(this.#key(plural, name));
    if (!stored) throw new Error(`${plural}/${name} not found`);
    const oldObj = structuredClone(stored.obj);
    stored.applied.set(manager, structuredClone(status));
    stored.obj.status = structuredClone(status) as VnfRule["status"];
    stored.obj.metadata.resourceVersion = this.#next();
    this.#emit({ type: "update", plural, obj: stored.obj, oldObj });
  }

  /** Adds a finalizer as if a reconcile had (an older operator version's rules have it). */
  addFinalizer(plural: string, name: string, finalizer: string): void {
    this.#mutate(plural, name, (obj) => {
      obj.metadata.finalizers = [...(obj.metadata.finalizers ?? []), finalizer];
      return true;
    });
  }

  get(plural: string, name: string): VnfRule | undefined {
    const stored = this.#objects.get(this.#key(plural, name));
    return stored ? structuredClone(stored.obj) : undefined;
  }

  list(plural: string): VnfRule[] {
    return [...this.#objects.entries()]
      .filter(([key]) => key.startsWith(`${plural}/`))
      .map(([, stored]) => structuredClone(stored.obj));
  }

  // ---- the API the controller calls ------------------------------------------------------------

  async request<T>(req: KubeRequest): Promise<T> {
    const { plural, name, subresource } = this.#parse(req.path);
    const stored = this.#objects.get(this.#key(plural, name));
    if (!stored) throw new KubeApiError(404, "NotFound", `${plural} "${name}" not found`);
    if (req.method === "GET" && subresource === undefined) return structuredClone(stored.obj) as T;
    if (req.method === "PATCH" && subresource === "status")
      return this.#applyStatus(plural, stored, req) as T;
    if (req.method === "PATCH" && subresource === undefined && req.contentType?.includes("json-patch"))
      return this.#patchFinalizers(plural, stored, req.body as JsonPatch[]) as T;
    throw new KubeApiError(405, "MethodNotAllowed", `${req.method} ${req.path} is not modelled`);
  }

  #applyStatus(plural: string, stored: Stored, req: KubeRequest): VnfRule {
    const body = req.body as { metadata?: { resourceVersion?: string }; status?: Status };
    const manager = String(req.query?.fieldManager ?? "");
    const precondition = body.metadata?.resourceVersion;
    if (precondition !== undefined && precondition !== stored.obj.metadata.resourceVersion) {
      this.conflicts++;
      throw new KubeApiError(
        409,
        "Conflict",
        `Operation cannot be fulfilled on ${plural} "${stored.obj.metadata.name}": the object has been modified; please apply your changes to the latest version and try again`,
      );
    }
    const sent = structuredClone(body.status ?? {});
    const before = stored.applied.get(manager) ?? {};
    const status: Status = { ...((stored.obj.status as Status | undefined) ?? {}) };
    // Fields this manager applied before and no longer sends are removed; the rest it sends are set.
    for (const field of Object.keys(before))
      if (field !== "conditions" && !(field in sent)) delete status[field];
    for (const [field, value] of Object.entries(sent)) if (field !== "conditions") status[field] = value;
    // Conditions: a list-map keyed by type, each entry owned by whoever applied it.
    const sentConditions = (sent.conditions as Array<{ type: string }> | undefined) ?? [];
    const droppedTypes = new Set(
      ((before.conditions as Array<{ type: string }> | undefined) ?? []).map((c) => c.type),
    );
    for (const c of sentConditions) droppedTypes.delete(c.type);
    const sentTypes = new Set(sentConditions.map((c) => c.type));
    const kept = ((status.conditions as Array<{ type: string }> | undefined) ?? []).filter(
      (c) => !droppedTypes.has(c.type) && !sentTypes.has(c.type),
    );
    const conditions = [...kept, ...sentConditions];
    if (conditions.length > 0) status.conditions = conditions;
    else delete status.conditions;
    stored.applied.set(manager, sent);
    const changed = JSON.stringify(status) !== JSON.stringify(stored.obj.status ?? {});
    if (!changed) return structuredClone(stored.obj);
    const oldObj = structuredClone(stored.obj);
    stored.obj.status = status as VnfRule["status"];
    stored.obj.metadata.resourceVersion = this.#next();
    this.#emit({ type: "update", plural, obj: stored.obj, oldObj });
    return structuredClone(stored.obj);
  }

  #patchFinalizers(plural: string, stored: Stored, patch: JsonPatch[]): VnfRule {
    const finalizers = [...(stored.obj.metadata.finalizers ?? [])];
    let next: string[] | undefined = finalizers;
    for (const op of patch) {
      if (op.path === "/metadata/finalizers") {
        if (op.op === "test") {
          const current = stored.obj.metadata.finalizers ?? null;
          if (JSON.stringify(current) !== JSON.stringify(op.value)) throw this.#testFailed(op);
        } else if (op.op === "add" || op.op === "replace") next = [...(op.value as string[])];
        continue;
      }
      const match = /^\/metadata\/finalizers\/(\d+|-)$/.exec(op.path);
      if (!match) throw new KubeApiError(422, "Invalid", `path ${op.path} is not modelled`);
      const index: number = match[1] === "-" ? (next?.length ?? 0) : Number(match[1]);
      if (op.op === "test") {
        if (next?.[index] !== op.value) throw this.#testFailed(op);
      } else if (op.op === "add") {
        next = [...(next ?? [])];
        next.splice(index, 0, op.value as string);
      } else if (op.op === "remove") {
        if (next?.[index] === undefined) throw this.#testFailed(op);
        next = next.filter((_, i) => i !== index);
      }
    }
    const name = stored.obj.metadata.name ?? "";
    if (stored.obj.metadata.deletionTimestamp && (next ?? []).length === 0) {
      this.#remove(plural, name, stored);
      const gone = structuredClone(stored.obj);
      gone.metadata.finalizers = [];
      return gone;
    }
    this.#mutate(plural, name, (obj) => {
      obj.metadata.finalizers = next ?? [];
      return true;
    });
    return this.get(plural, name) as VnfRule;
  }

  #testFailed(op: JsonPatch): KubeApiError {
    return new KubeApiError(422, "Invalid", `the server rejected our request: test failed at ${op.path}`);
  }

  // ---- machinery -------------------------------------------------------------------------------

  #mutate(plural: string, name: string, change: (obj: VnfRule) => boolean): boolean {
    const stored = this.#objects.get(this.#key(plural, name));
    if (!stored) return false;
    const oldObj = structuredClone(stored.obj);
    if (!change(stored.obj)) return false;
    stored.obj.metadata.resourceVersion = this.#next();
    this.#emit({ type: "update", plural, obj: stored.obj, oldObj });
    return true;
  }

  #remove(plural: string, name: string, stored: Stored): void {
    this.#objects.delete(this.#key(plural, name));
    this.#emit({ type: "delete", plural, obj: stored.obj });
  }

  #emit(event: StoreEvent): void {
    this.pending.push(structuredClone(event));
  }

  #next(): string {
    this.#rv += 1;
    return String(this.#rv);
  }

  #key(plural: string, name: string): string {
    return `${plural}/${name}`;
  }

  #parse(path: string): { plural: string; name: string; subresource?: string } {
    const match = /^\/apis\/[^/]+\/[^/]+\/namespaces\/[^/]+\/([^/]+)\/([^/]+)(?:\/([^/]+))?$/.exec(path);
    if (!match) throw new KubeApiError(404, "NotFound", `no route for ${path}`);
    const [, plural = "", name = "", subresource] = match;
    return subresource === undefined
      ? { plural, name: decodeURIComponent(name) }
      : { plural, name: decodeURIComponent(name), subresource };
  }
}

type JsonPatch = { op: "test" | "add" | "replace" | "remove"; path: string; value?: unknown };

/** The informer cache the controller reads: a snapshot the harness moves forward event by event. */
export class LaggingCache {
  readonly #objects = new Map<string, VnfRule>();
  readonly plural: string;

  constructor(plural: string) {
    this.plural = plural;
  }

  apply(event: StoreEvent): void {
    const key = event.obj.metadata.name ?? "";
    if (event.type === "delete") this.#objects.delete(key);
    else this.#objects.set(key, structuredClone(event.obj));
  }

  reset(objects: VnfRule[]): void {
    this.#objects.clear();
    for (const obj of objects) this.#objects.set(obj.metadata.name ?? "", structuredClone(obj));
  }

  get(_namespace: string, name: string): VnfRule | undefined {
    const obj = this.#objects.get(name);
    return obj ? structuredClone(obj) : undefined;
  }

  list(_namespace?: string): VnfRule[] {
    return [...this.#objects.values()].map((o) => structuredClone(o));
  }

  hasSynced(): boolean {
    return true;
  }
}
