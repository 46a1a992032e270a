// Text that comes from an appliance is untrusted: it may be a hostile service's answer (an endpoint
// pointing somewhere it should not), carry terminal escapes or fake log lines, or simply be huge.
// Only what the dictionary deliberately extracts (its error mapping's vendor code/message, a health
// check's version) reaches status and Events, through `applianceText`; raw bodies go to the debug log
// only, through `rawBodyForLog`.

/** Longest extracted appliance text kept for status, Events and error messages. */
export const MAX_APPLIANCE_TEXT = 500;
/** Longest raw body excerpt written to the debug log. */
export const MAX_LOGGED_BODY = 2048;

/** Control characters (C0, DEL, C1) and the Unicode line/paragraph separators, made visible. */
export function escapeControl(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point.
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => {
    if (c === "\n") return "\\n";
    if (c === "\r") return "\\r";
    if (c === "\t") return "\\t";
    return `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
  });
}

function cap(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}… (${text.length - max} more characters)` : text;
}

/** A value the dictionary extracted from an answer, fit for a status message (or undefined). */
export function applianceText(value: unknown, max = MAX_APPLIANCE_TEXT): string | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  const text = typeof value === "string" ? value : JSON.stringify(value);
  if (text === undefined) return undefined;
  return cap(escapeControl(text), max);
}

/** A raw body for the debug log: capped, control characters escaped. */
export function rawBodyForLog(text: string): string {
  return cap(escapeControl(text), MAX_LOGGED_BODY);
}
