// Small API helpers for reconcilers: status writes and finalizers, done the way the reference §1/§2/§5
// prescribes (merge patch to /status with an optional optimistic lock; finalizers by JSON Patch with
// a `test` op so we fail instead of deleting someone else's finalizer).
import type { KubeConfig } from "@kubernetes/client-node";
import { isNotFound, KubeHttp } from "./kube-http.ts";
import { type KubeObject, objectPath, type ResourceType } from "./resource.ts";

export const MERGE_PATCH = "application/merge-patch+json";
export const JSON_PATCH = "application/json-patch+json";

/** Which object: its resource type and namespace/name ("" namespace for cluster-scoped). */
export interface ObjectReference {
  resource: ResourceType;
  namespace: string;
  name: string;
}

export type JsonPatchOp =
  | { op: "test" | "add" | "replace"; path: string; value: unknown }
  | { op: "remove"; path: string };

type Client = KubeConfig | KubeHttp;

function httpOf(client: Client): KubeHttp {
  return client instanceof KubeHttp ? client : KubeHttp.for(client);
}

/**
 * Writes `status` with an application/merge-patch+json PATCH to the /status subresource and returns
 * the updated object. Merge patch replaces arrays (conditions) whole: compute them client-side. With
 * resourceVersion the write fails with 409 Conflict if the object changed since it was read.
 */
export async function patchStatus<T extends KubeObject = KubeObject>(
  client: Client,
  ref: ObjectReference,
  status: unknown,
  options: { resourceVersion?: string; signal?: AbortSignal } = {},
): Promise<T> {
  const body: Record<string, unknown> = { status };
  if (options.resourceVersion) body.metadata = { resourceVersion: options.resourceVersion };
  return httpOf(client).request<T>({
    method: "PATCH",
    path: objectPath(ref.resource, ref, "status"),
    body,
    contentType: MERGE_PATCH,
    signal: options.signal,
  });
}

export function hasFinalizer(obj: KubeObject, finalizer: string): boolean {
  return obj.metadata?.finalizers?.includes(finalizer) ?? false;
}

/**
 * The JSON Patch that adds finalizer to a list last seen as `current` (kube-rs finalizer.rs): the
 * `test` makes it fail if the list changed meanwhile. undefined if it is already there.
 */
export function addFinalizerPatch(
  current: readonly string[] | undefined,
  finalizer: string,
): JsonPatchOp[] | undefined {
  if (current?.includes(finalizer)) return undefined;
  if (!current || current.length === 0) {
    return [
      { op: "test", path: "/metadata/finalizers", value: null },
      { op: "add", path: "/metadata/finalizers", value: [finalizer] },
    ];
  }
  return [
    { op: "test", path: "/metadata/finalizers", value: [...current] },
    { op: "add", path: "/metadata/finalizers/-", value: finalizer },
  ];
}

/** The JSON Patch that removes only our entry, tested at its index. undefined if it is absent. */
export function removeFinalizerPatch(
  current: readonly string[] | undefined,
  finalizer: string,
): JsonPatchOp[] | undefined {
  const index = current?.indexOf(finalizer) ?? -1;
  if (index < 0) return undefined;
  const path = `/metadata/finalizers/${index}`;
  return [
    { op: "test", path, value: finalizer },
    { op: "remove", path },
  ];
}

/**
 * Adds finalizer to obj (as last read, e.g. from the cache). Returns false if it was already there.
 * Throws KubeApiError if the list changed meanwhile (422 from the failed test): requeue and retry.
 */
export async function addFinalizer(
  client: Client,
  ref: ObjectReference,
  obj: KubeObject,
  finalizer: string,
  options: { signal?: AbortSignal } = {},
): Promise<boolean> {
  const patch = addFinalizerPatch(obj.metadata?.finalizers, finalizer);
  if (!patch) return false;
  await httpOf(client).request({
    method: "PATCH",
    path: objectPath(ref.resource, ref),
    body: patch,
    contentType: JSON_PATCH,
    signal: options.signal,
  });
  return true;
}

/**
 * Removes our finalizer only; returns false if it was absent or the object is already gone.
 * Throws like addFinalizer on a race.
 */
export async function removeFinalizer(
  client: Client,
  ref: ObjectReference,
  obj: KubeObject,
  finalizer: string,
  options: { signal?: AbortSignal } = {},
): Promise<boolean> {
  const patch = removeFinalizerPatch(obj.metadata?.finalizers, finalizer);
  if (!patch) return false;
  try {
    await httpOf(client).request({
      method: "PATCH",
      path: objectPath(ref.resource, ref),
      body: patch,
      contentType: JSON_PATCH,
      signal: options.signal,
    });
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
  return true;
}
