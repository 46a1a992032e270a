// From an unsuccessful response to one of the ten codes: the operation's error rules first, then the
// dictionary's, then the built-in status table. The vendor message is taken from where the matching
// rule says (never from the request, so it cannot echo credentials; the session scrubs it anyway).
import { applianceText, rawBodyForLog } from "./appliance-text.ts";
import type { CompiledErrorRule, CompiledExtractor } from "./compiled.ts";
import { type ErrorCode, VnfError } from "./errors.ts";
import { queryFirst } from "./jsonpath.ts";
import type { ResponseView } from "./predicates.ts";

/** The built-in mapping for statuses no rule matched. */
export function codeForStatus(status: number): ErrorCode {
  switch (status) {
    case 401:
    case 403:
      return "VNF_AUTH";
    case 408:
    case 504:
      return "VNF_TIMEOUT";
    case 409:
      return "VNF_CONFLICT";
    case 429:
      return "VNF_RATE_LIMIT";
    case 503:
      return "VNF_CAPACITY";
  }
  if (status >= 500) return "VNF_UPSTREAM";
  if (status >= 400) return "VNF_INVALID";
  // A 1xx/2xx/3xx that the dictionary does not count as success: the appliance answered something
  // we do not understand.
  return "VNF_UPSTREAM";
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | undefined, now: number = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

export function extractValue(
  extractor: CompiledExtractor,
  response: ResponseView,
  context: Record<string, unknown>,
): unknown {
  if (extractor.path !== undefined) return queryFirst(extractor.path, response.body);
  return extractor.template?.evaluate({ ...context, response }, { allowUndefined: true });
}

export interface MapErrorInput {
  response: ResponseView;
  rules: CompiledErrorRule[];
  context: Record<string, unknown>;
  label: string;
  now?: number;
  /** The raw body, for the debug log (never the message). */
  rawText?: string;
}

/**
 * The error for an answer the operation does not count as success. Its message holds the label, the
 * status, and what the dictionary's error mapping extracted (vendor code/message): never the raw
 * body, which an endpoint pointing at the wrong service would otherwise copy into status and Events.
 */
export function mapResponseError({ response, rules, context, label, now, rawText }: MapErrorInput): VnfError {
  const retryAfterMs = parseRetryAfter(response.headers["retry-after"], now);
  let code: ErrorCode | undefined;
  let vendorMessage: string | undefined;
  for (const rule of rules) {
    let matched = false;
    try {
      matched = rule.when.test(response, context);
    } catch {
      matched = false;
    }
    if (!matched) continue;
    code = rule.code;
    if (rule.message) {
      try {
        vendorMessage = applianceText(extractValue(rule.message, response, context));
      } catch {
        vendorMessage = undefined;
      }
    }
    break;
  }
  code ??= codeForStatus(response.status);
  const options: ConstructorParameters<typeof VnfError>[2] = { httpStatus: response.status };
  if (retryAfterMs !== undefined) options.retryAfterMs = retryAfterMs;
  if (vendorMessage !== undefined) options.vendorMessage = vendorMessage;
  if (rawText !== undefined && rawText !== "") options.responseBody = rawBodyForLog(rawText);
  const detail = vendorMessage === undefined ? "" : `: ${vendorMessage}`;
  const redirect =
    response.status >= 300 && response.status < 400 ? " (a redirect: the operator never follows one)" : "";
  return new VnfError(code, `${label}: HTTP ${response.status}${redirect}${detail}`, options);
}
