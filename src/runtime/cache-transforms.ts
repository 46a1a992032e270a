// What the informer caches drop from objects before anyone reads them: fields no reconciler looks at
// but that make up much of an object's size (managedFields, kubectl's last-applied copy).
import type { KubeObject } from "./resource.ts";

/** managedFields are about half of ObjectMeta and of no use to a reconciler. */
export function stripManagedFields<T extends KubeObject>(obj: T): T {
  if (obj.metadata?.managedFields !== undefined) delete obj.metadata.managedFields;
  return obj;
}

/** kubectl's client-side apply keeps a copy of the whole object in this annotation. */
export const LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";

/**
 * A cache transform for objects whose readers never look at annotations written by tools: drops
 * kubectl's last-applied copy (as large as the object itself) and the annotations listed.
 */
export function dropAnnotations(extra: readonly string[] = []): (obj: KubeObject) => KubeObject {
  const names = [LAST_APPLIED, ...extra];
  return (obj) => {
    const annotations = obj.metadata?.annotations;
    if (!annotations || !obj.metadata) return obj;
    for (const name of names) delete annotations[name];
    if (Object.keys(annotations).length === 0) delete obj.metadata.annotations;
    return obj;
  };
}
