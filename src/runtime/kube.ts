// Small API helpers for reconcilers: finalizers by JSON Patch with a `test` op, so a concurrent change
// of the list fails the patch instead of deleting someone else's finalizer (kube-rs' finalizer.rs).
// Status is written by status-writer.ts (server-side apply).
import { isNotFound, KubeHttp, type KubeRequester } from "./kube-http.ts";
import type { KubeConfigSource } from "./kubeconfig.ts";
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

type Client = KubeConfigSource | KubeRequester;

function httpOf(client: Client): KubeRequester {
  return "request" in client ? client : KubeHttp.for(client);
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
