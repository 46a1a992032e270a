// The smallest JSON merge patch (RFC 7386) that turns `current` into `next`: changed leaves are set,
// removed keys become null (a merge patch cannot drop a key otherwise), nested objects are diffed
// recursively and arrays (conditions) are replaced whole. undefined when nothing changed, which is
// how a steady-state reconcile skips its status write.

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

export function mergePatch(current: unknown, next: unknown): Json | undefined {
  if (isObject(current) && isObject(next)) {
    const patch: Record<string, Json> = {};
    for (const key of Object.keys(current)) {
      if (!(key in next) || next[key] === undefined) {
        if (current[key] !== undefined) patch[key] = null;
      }
    }
    for (const [key, value] of Object.entries(next)) {
      if (value === undefined) continue;
      const child = mergePatch(current[key], value);
      if (child !== undefined) patch[key] = child;
    }
    return Object.keys(patch).length === 0 ? undefined : patch;
  }
  if (deepEqual(current, next)) return undefined;
  return next as Json;
}

/** The status merge patch, or undefined when the status is unchanged. */
export function statusPatch(current: unknown, next: unknown): Json | undefined {
  return mergePatch(current ?? {}, next);
}

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
