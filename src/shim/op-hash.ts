// op_hash: SHA-256 over the canonical parameters of a broker request (the original design's
// idempotency key next to ruleId). Canonical = JSON with sorted keys and no undefined members, computed
// over the normalised CR spec, so two wire formats that mean the same rule hash alike.
import { sha256Hex } from "./names.ts";

export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value))
    return `[${value.map((v) => canonicalJson(v === undefined ? null : v)).join(",")}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
}

export interface OpHashInput {
  kind: "firewall" | "nat";
  vnfInstanceId: string;
  ruleId: string;
  /** The spec the shim writes (deviceRef included). */
  spec: Record<string, unknown>;
}

export function shimOpHash(input: OpHashInput): string {
  return sha256Hex(canonicalJson(input));
}
