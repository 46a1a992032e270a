// opHash: the SHA-256 of the CANONICAL rendered request(s) of an operation. Two renders of the same
// desired state give the same hash whatever the key order or whitespace; credentials never enter it
// (auth material is added after rendering and is excluded here even if present). The reconciler
// compares it with the hash it last applied to decide whether the appliance needs a write.
import { createHash } from "node:crypto";
import type { RenderedRequest } from "./render.ts";
import { Placeholder } from "./templates.ts";

/** JSON with sorted keys and no insignificant whitespace; placeholders as their labels. */
export function canonicalJson(value: unknown): string {
  if (value instanceof Placeholder) return JSON.stringify(value.toString());
  if (value === null || typeof value !== "object") return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
}

function sortPairs(pairs: [string, string][]): [string, string][] {
  return [...pairs].sort(([ak, av], [bk, bv]) =>
    ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0,
  );
}

/** Text bodies: XML whitespace between tags and at the ends does not matter. */
function canonicalText(text: string): string {
  return text.replace(/>\s+</g, "><").trim();
}

/** Form values that hold JSON (e.g. VyOS `data`) are compared as JSON. */
function canonicalFormValue(value: unknown): unknown {
  if (typeof value === "string") {
    const t = value.trim();
    if ((t.startsWith("{") && t.endsWith("}")) || (t.startsWith("[") && t.endsWith("]"))) {
      try {
        return JSON.parse(t) as unknown;
      } catch {
        return value;
      }
    }
  }
  return value;
}

/** The canonical form of one request, credentials excluded. */
export function canonicalRequest(request: RenderedRequest): unknown {
  const secretQuery = new Set(request.secret.query);
  const query = sortPairs(request.query.filter(([k]) => !secretQuery.has(k)));
  let body: unknown = null;
  if (request.body) {
    const { format, value } = request.body;
    if (format === "json") body = { json: value };
    else if (format === "form") {
      const secretForm = new Set(request.secret.form);
      const fields = Object.entries((value ?? {}) as Record<string, unknown>)
        .filter(([k]) => !secretForm.has(k))
        .map(([k, v]) => [k, canonicalFormValue(v)]);
      body = { form: Object.fromEntries(fields) };
    } else body = { [format]: canonicalText(String(value ?? "")) };
  }
  return { method: request.method, path: request.path, query, body };
}

export interface HashableOperation {
  requests: RenderedRequest[];
}

/** SHA-256 (hex) of one request or of an operation's requests in order. */
export function opHash(rendered: RenderedRequest | HashableOperation): string {
  const requests = "requests" in rendered ? rendered.requests : [rendered];
  const canonical = canonicalJson(requests.map(canonicalRequest));
  return createHash("sha256").update(canonical).digest("hex");
}
