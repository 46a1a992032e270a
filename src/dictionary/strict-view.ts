// Strict samples for the load-time checks of templates: a read of a variable the sample does not have
// fails with the full path, so a misspelt field is a load error, not a render error in production.
import { Placeholder, UnknownVariableError } from "./templates.ts";

/**
 * Wraps `value` so that reading a key that is not in `shape` (the full sample at the same place)
 * throws UnknownVariableError naming the full path: `rule.descripton` is caught at load time.
 * Keys present in `shape` but absent in `value` read as undefined (optional fields).
 */
export function strictView(value: unknown, shape: unknown, path: string): unknown {
  if (value === null || typeof value !== "object" || Array.isArray(value) || value instanceof Placeholder)
    return value;
  const known = shape !== null && typeof shape === "object" ? (shape as Record<string, unknown>) : {};
  return new Proxy(value as Record<string, unknown>, {
    get(target, key, receiver) {
      if (typeof key === "symbol" || key in Object.prototype || key === "toJSON" || key === "then") {
        return Reflect.get(target, key, receiver);
      }
      if (Object.hasOwn(target, key)) return strictView(target[key], known[key], `${path}.${key}`);
      if (Object.hasOwn(known, key)) return undefined;
      throw new UnknownVariableError(`${path}.${key}`);
    },
  });
}
