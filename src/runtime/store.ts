// The informer's in-memory cache. Writers are the informer's reflectors; readers (reconcilers) only
// get/list. A relist is swapped in at once (`replace`), so readers never see a half-relisted cache.
import type { KubeObject } from "./resource.ts";

export interface StoreDelta<T> {
  added: T[];
  /** [old, new] pairs whose resourceVersion changed. */
  updated: Array<[T, T]>;
  deleted: T[];
}

export class Store<T extends KubeObject = KubeObject> {
  /** namespace ("" for cluster-scoped) → name → object. */
  #byNamespace = new Map<string, Map<string, T>>();

  get(namespace: string, name: string): T | undefined {
    return this.#byNamespace.get(namespace)?.get(name);
  }

  /** Every object, or those of one namespace. */
  list(namespace?: string): T[] {
    if (namespace !== undefined) return [...(this.#byNamespace.get(namespace)?.values() ?? [])];
    const all: T[] = [];
    for (const objects of this.#byNamespace.values()) all.push(...objects.values());
    return all;
  }

  size(): number {
    let n = 0;
    for (const objects of this.#byNamespace.values()) n += objects.size;
    return n;
  }

  /** Inserts or replaces; returns the previous object. */
  upsert(obj: T): T | undefined {
    const { namespace, name } = identity(obj);
    let objects = this.#byNamespace.get(namespace);
    if (!objects) {
      objects = new Map();
      this.#byNamespace.set(namespace, objects);
    }
    const previous = objects.get(name);
    objects.set(name, obj);
    return previous;
  }

  /** Removes; returns the object that was cached, if any. */
  delete(obj: T): T | undefined {
    const { namespace, name } = identity(obj);
    const objects = this.#byNamespace.get(namespace);
    const previous = objects?.get(name);
    objects?.delete(name);
    if (objects && objects.size === 0) this.#byNamespace.delete(namespace);
    return previous;
  }

  /**
   * Replaces the whole content, or only `scope` namespaces' content, by a fresh list in one step,
   * and returns what changed (client-node's ListWatch semantics: an update only if the
   * resourceVersion differs).
   */
  replace(objects: T[], scope?: { namespace: string }): StoreDelta<T> {
    const fresh = new Map<string, Map<string, T>>();
    for (const obj of objects) {
      const { namespace, name } = identity(obj);
      if (scope && namespace !== scope.namespace) continue;
      let names = fresh.get(namespace);
      if (!names) {
        names = new Map();
        fresh.set(namespace, names);
      }
      names.set(name, obj);
    }
    const delta: StoreDelta<T> = { added: [], updated: [], deleted: [] };
    const old = scope
      ? new Map([[scope.namespace, this.#byNamespace.get(scope.namespace) ?? new Map<string, T>()]])
      : this.#byNamespace;
    for (const [namespace, names] of fresh) {
      for (const [name, obj] of names) {
        const previous = old.get(namespace)?.get(name);
        if (!previous) delta.added.push(obj);
        else if (previous.metadata?.resourceVersion !== obj.metadata?.resourceVersion)
          delta.updated.push([previous, obj]);
      }
    }
    for (const [namespace, names] of old) {
      for (const [name, obj] of names) if (!fresh.get(namespace)?.has(name)) delta.deleted.push(obj);
    }
    // The swap itself: one assignment (or one map entry) so no reader sees a partial state.
    if (scope) {
      const names = fresh.get(scope.namespace);
      if (names) this.#byNamespace.set(scope.namespace, names);
      else this.#byNamespace.delete(scope.namespace);
    } else {
      this.#byNamespace = fresh;
    }
    return delta;
  }
}

function identity(obj: KubeObject): { namespace: string; name: string } {
  return { namespace: obj.metadata?.namespace ?? "", name: obj.metadata?.name ?? "" };
}
