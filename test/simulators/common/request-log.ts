// The log of vendor requests, credentials redacted at the moment of recording so that no test output,
// snapshot or demo screen can ever show one.
import type { IncomingHttpHeaders } from "node:http";
import type { FaultKind, RequestFilter, RequestLogEntry, RequestOutcome } from "./types.ts";
import type { Redaction } from "./vendor.ts";

export const REDACTED = "[REDACTED]";

const alwaysRedactedHeaders = [
  "authorization",
  "proxy-authorization",
  "cookie",
  "set-cookie",
  "x-api-key",
  "x-auth-token",
  "x-pan-key",
  "x-csrftoken",
];
const alwaysRedactedQuery = [
  "access_token",
  "password",
  "passwd",
  "token",
  "key",
  "api_key",
  "apikey",
  "secret",
];

export interface Redactor {
  headers(headers: IncomingHttpHeaders): Record<string, string>;
  query(query: URLSearchParams): Record<string, string | string[]>;
  text(text: string): string;
}

/**
 * Redacts named headers and query parameters, and, as a safety net, any occurrence of a current
 * credential value (and of `user:password` in base64) anywhere in the recorded text.
 */
export function createRedactor(redaction: Redaction, credentials: () => Record<string, string>): Redactor {
  const headerNames = new Set(
    [...alwaysRedactedHeaders, ...(redaction.headers ?? [])].map((h) => h.toLowerCase()),
  );
  const queryNames = new Set(
    [...alwaysRedactedQuery, ...(redaction.query ?? [])].map((q) => q.toLowerCase()),
  );

  function secrets(): string[] {
    const creds = credentials();
    // A user name is not a secret: redacting it would garble every log line that mentions "admin".
    const values = Object.entries(creds)
      .filter(([name, value]) => !["username", "user"].includes(name) && value.length >= 4)
      .map(([, value]) => value);
    for (const value of redaction.values?.() ?? []) if (value.length >= 4) values.push(value);
    if (creds.username !== undefined && creds.password !== undefined) {
      values.push(Buffer.from(`${creds.username}:${creds.password}`).toString("base64"));
    }
    // Longest first so that a secret containing another is replaced whole.
    return values.sort((a, b) => b.length - a.length);
  }

  function text(value: string): string {
    let out = value;
    for (const secret of secrets()) out = out.split(secret).join(REDACTED);
    for (const secret of secrets()) out = out.split(encodeURIComponent(secret)).join(REDACTED);
    return out;
  }

  return {
    headers(headers) {
      const out: Record<string, string> = {};
      for (const [name, raw] of Object.entries(headers)) {
        if (raw === undefined) continue;
        const value = Array.isArray(raw) ? raw.join(", ") : raw;
        if (headerNames.has(name)) {
          // Keep the scheme ("Basic", "Bearer"): tests assert which auth method a client used.
          const scheme = /^([A-Za-z][\w-]*) /.exec(value)?.[1];
          out[name] = scheme && name.endsWith("authorization") ? `${scheme} ${REDACTED}` : REDACTED;
        } else {
          out[name] = text(value);
        }
      }
      return out;
    },
    query(query) {
      const out: Record<string, string | string[]> = {};
      for (const name of new Set(query.keys())) {
        const values = query
          .getAll(name)
          .map((v) => (queryNames.has(name.toLowerCase()) ? REDACTED : text(v)));
        out[name] = values.length === 1 ? (values[0] as string) : values;
      }
      return out;
    },
    text,
  };
}

export class RequestLog {
  private entries: RequestLogEntry[] = [];
  private seq = 0;
  private readonly capacity: number;

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  /** Records an arriving request; the returned entry is completed by `finish`. */
  start(
    entry: Omit<RequestLogEntry, "seq" | "status" | "outcome" | "fault" | "durationMs">,
  ): RequestLogEntry {
    this.seq += 1;
    const full: RequestLogEntry = {
      ...entry,
      seq: this.seq,
      status: null,
      outcome: "pending",
      fault: null,
      durationMs: 0,
    };
    this.entries.push(full);
    if (this.entries.length > this.capacity) this.entries.splice(0, this.entries.length - this.capacity);
    return full;
  }

  finish(entry: RequestLogEntry, outcome: RequestOutcome, status: number | null, startedAt: number): void {
    if (entry.outcome !== "pending") return;
    entry.outcome = outcome;
    entry.status = status;
    entry.durationMs = Math.max(0, performance.now() - startedAt);
  }

  markFault(entry: RequestLogEntry, fault: FaultKind): void {
    entry.fault = fault;
  }

  list(filter: RequestFilter = {}): RequestLogEntry[] {
    return this.entries
      .filter((entry) => filter.method === undefined || entry.method === filter.method.toUpperCase())
      .filter((entry) => filter.pathPrefix === undefined || entry.path.startsWith(filter.pathPrefix))
      .map((entry) => structuredClone(entry));
  }

  clear(): void {
    this.entries = [];
  }

  /** Total requests ever recorded (not reduced by capacity or clear). */
  get total(): number {
    return this.seq;
  }

  resetCounter(): void {
    this.seq = 0;
  }
}
