// Vendor objects → canonical rule fields, and the comparison the drift check uses. Both sides go
// through the same canonicalisation, and only the fields the dictionary normalises are compared, so
// a field the appliance cannot represent (pfSense port forwards have no `log`) never shows as drift.
import type { CompiledResource } from "./compiled.ts";
import { readMarker } from "./rule-input.ts";
import { renderStructure } from "./structure.ts";
import { OMIT } from "./templates.ts";

export interface ApplianceObject {
  vendorRef: string;
  /** The owner id found in the object's ownership field, if any. */
  marker?: string;
  /** Canonical rule fields as the appliance has them (only those the dictionary can read back). */
  normalized: Record<string, unknown>;
  /** The object as the vendor API returned it. */
  raw: unknown;
}

/** The owner id an object's ownership field ends with, if any. */
export function markerOf(
  resource: CompiledResource,
  item: unknown,
  context: Record<string, unknown>,
): string | undefined {
  let text: unknown;
  try {
    text = resource.ownershipField.evaluate({ ...context, item }, { allowUndefined: true });
  } catch {
    return undefined;
  }
  return readMarker(text);
}

export function normalizeItem(
  resource: CompiledResource,
  vendorRef: string,
  item: unknown,
  context: Record<string, unknown>,
): ApplianceObject {
  let normalized: Record<string, unknown> = {};
  try {
    const value = renderStructure(
      resource.normalize,
      { ...context, item, vendorRef },
      { allowUndefined: true },
    );
    if (value !== OMIT && value !== null && typeof value === "object" && !Array.isArray(value)) {
      normalized = value as Record<string, unknown>;
    }
  } catch (error) {
    // An object the dictionary cannot read back (hand-made, unexpected shape) still lists, with the
    // reason instead of fields, so drift reports it rather than crashing the listing.
    normalized = { $error: error instanceof Error ? error.message : String(error) };
  }
  const object: ApplianceObject = { vendorRef, normalized, raw: item };
  const marker = markerOf(resource, item, context);
  if (marker !== undefined) object.marker = marker;
  return object;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** `10.0.0.5/32` and `2001:db8::5/128` are the address itself (appliances store either form). */
function hostAddress(value: unknown): unknown {
  if (typeof value !== "string") return value;
  if (value.endsWith("/32") && !value.includes(":")) return value.slice(0, -3);
  if (value.endsWith("/128") && value.includes(":")) return value.slice(0, -4);
  return value;
}

/**
 * CRD semantics both sides share before comparing: a dnat rule without translated.port keeps the
 * original port (so it equals destination.port); a host prefix (/32, /128) is the address itself; a
 * NAT destination.address `any` is the same as none.
 */
export function canonicalForCompare(kind: string, rule: Record<string, unknown>): Record<string, unknown> {
  const out = structuredClone(rule);
  for (const [side, field] of [
    ["source", "cidr"],
    ["destination", "cidr"],
    ["destination", "address"],
    ["translated", "address"],
  ] as const) {
    const endpoint = out[side];
    if (isPlainObject(endpoint) && endpoint[field] !== undefined)
      endpoint[field] = hostAddress(endpoint[field]);
  }
  if (kind === "natRule" && isPlainObject(out.destination) && out.destination.address === "any") {
    delete out.destination.address;
  }
  if (
    kind === "natRule" &&
    out.type === "dnat" &&
    isPlainObject(out.translated) &&
    isPlainObject(out.destination)
  ) {
    if (out.translated.port === undefined && out.destination.port !== undefined) {
      out.translated = { ...out.translated, port: out.destination.port };
    }
  }
  return out;
}

/**
 * The field paths where the appliance differs from the desired rule, considering only the fields the
 * dictionary normalised (present in `normalized`, recursively).
 */
export function diffCanonical(
  kind: string,
  desired: Record<string, unknown>,
  normalized: Record<string, unknown>,
): string[] {
  const want = canonicalForCompare(kind, desired);
  const have = canonicalForCompare(kind, normalized);
  const out: string[] = [];
  const join = (path: string, key: string) => (path === "" ? key : `${path}.${key}`);
  const walk = (w: unknown, h: unknown, path: string) => {
    if (isPlainObject(h)) {
      const wObj = isPlainObject(w) ? w : {};
      // Every field the appliance reports...
      for (const key of Object.keys(h)) walk(wObj[key], h[key], join(path, key));
      // ...and, inside a normalised object (source, destination...), a sub-field only the desired
      // rule sets: the appliance lacks it. Top-level fields it does not report are not compared.
      if (path !== "") {
        for (const key of Object.keys(wObj))
          if (!(key in h) && wObj[key] !== undefined) out.push(join(path, key));
      }
      return;
    }
    if (JSON.stringify(w ?? null) !== JSON.stringify(h ?? null)) out.push(path);
  };
  walk(want, have, "");
  return out.sort();
}
