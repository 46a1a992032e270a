// The one way a controller writes status: server-side apply to the /status subresource under the
// controller's own field manager, with only the fields that controller owns.
//
// Why server-side apply: two controllers that write different fields of one object (the device
// controller and the drift controller on a VnfDevice) never conflict — the API server merges their
// applies field by field (and conditions entry by entry: the CRDs declare them a list-map keyed by
// `type`), with no resourceVersion race between them. A field the controller owned and no longer sends
// is removed, so the writer always sends the controller's complete view of its own fields.
//
// The writer compares that view with the object as read and sends nothing when it is unchanged, so a
// steady-state reconcile costs no API write. It returns the object as the API server stored it (the
// next write's resourceVersion). With `lock` it also sends the resourceVersion it read: the write then
// fails with 409 Conflict when the object changed meanwhile (a journal write must not be based on a
// stale read); `compute` is a function of the current status so that a caller can re-read the object
// and apply the same change to it.
import type { KubeHttp } from "./kube-http.ts";
import { apiVersionOf, type KubeObject, objectPath, type ResourceType } from "./resource.ts";

export const APPLY_PATCH = "application/apply-patch+yaml";

/** What of `status` one controller writes. */
export interface StatusOwnership {
  /** Top-level status fields, except `conditions`. */
  fields: readonly string[];
  /** Condition types (entries of status.conditions, a list-map keyed by type). */
  conditions?: readonly string[];
}

export interface StatusWriterOptions {
  client: Pick<KubeHttp, "request">;
  resource: ResourceType;
  /** Names the controller in metadata.managedFields; one per controller. */
  fieldManager: string;
  owns: StatusOwnership;
}

export interface WriteOptions {
  /** Send the resourceVersion read: 409 Conflict if the object changed since. */
  lock?: boolean;
  signal?: AbortSignal;
}

type Status = Record<string, unknown>;
type WithStatus<S> = KubeObject & { status?: S };

export class StatusWriter<T extends WithStatus<S>, S extends object = NonNullable<T["status"]>> {
  readonly fieldManager: string;
  readonly #options: StatusWriterOptions;

  constructor(options: StatusWriterOptions) {
    this.#options = options;
    this.fieldManager = options.fieldManager;
  }

  /** The part of `status` this writer owns: what it sends, and what it compares. */
  owned(status: S | undefined): Status {
    const source = (status ?? {}) as Status;
    const out: Status = {};
    for (const field of this.#options.owns.fields) {
      if (source[field] !== undefined) out[field] = source[field];
    }
    const types = this.#options.owns.conditions ?? [];
    const conditions = Array.isArray(source.conditions)
      ? (source.conditions as { type?: string }[]).filter((c) => types.includes(c.type ?? ""))
      : [];
    if (conditions.length > 0) out.conditions = conditions;
    return out;
  }

  /** Whether writing `next` would change what this writer owns on `obj`. */
  differs(obj: T, next: S): boolean {
    return !deepEqual(this.owned(obj.status), this.owned(next));
  }

  /**
   * Writes `compute(current status)`; returns the stored object, or `obj` itself when nothing this
   * writer owns would change (no request).
   */
  async write(obj: T, compute: S | ((current: S | undefined) => S), options: WriteOptions = {}): Promise<T> {
    if (options.signal?.aborted) throw options.signal.reason;
    const next = typeof compute === "function" ? compute(obj.status) : compute;
    if (!this.differs(obj, next)) return obj;
    const { resource, client, fieldManager } = this.#options;
    const name = obj.metadata?.name ?? "";
    const namespace = obj.metadata?.namespace ?? "";
    const metadata: Record<string, unknown> = { name };
    if (resource.namespaced) metadata.namespace = namespace;
    if (options.lock && obj.metadata?.resourceVersion)
      metadata.resourceVersion = obj.metadata.resourceVersion;
    return client.request<T>({
      method: "PATCH",
      path: objectPath(resource, { namespace, name }, "status"),
      query: { fieldManager, force: true },
      body: { apiVersion: apiVersionOf(resource), kind: resource.kind, metadata, status: this.owned(next) },
      contentType: APPLY_PATCH,
      ...(options.signal ? { signal: options.signal } : {}),
    });
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** Structural equality of JSON values; an undefined property equals an absent one. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((v, i) => deepEqual(v, b[i]));
  if (isObject(a) && isObject(b)) {
    const keysA = Object.keys(a).filter((k) => a[k] !== undefined);
    const keysB = Object.keys(b).filter((k) => b[k] !== undefined);
    return keysA.length === keysB.length && keysA.every((k) => deepEqual(a[k], b[k]));
  }
  return false;
}
