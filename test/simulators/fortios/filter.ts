// GET query handling of the FortiOS CMDB API: `filter=` (operators ==, !=, =@ contains, !@ not contains,
// <, <=, >, >=; a comma inside one filter means OR, escaped as `\,` when part of a value; several filter
// parameters mean AND), `format=a|b` (attributes to return), `start=`/`count=` (paging).
import type { FoRecord } from "./tables.ts";

const operators = ["==", "!=", "=@", "!@", "<=", ">=", "<", ">"] as const;
type Operator = (typeof operators)[number];

interface Condition {
  attribute: string;
  operator: Operator;
  value: string;
}

function splitUnescaped(text: string, separator: string): string[] {
  const parts: string[] = [];
  let current = "";
  for (let i = 0; i < text.length; i += 1) {
    const char = text[i] as string;
    if (char === "\\" && text[i + 1] === separator) {
      current += separator;
      i += 1;
    } else if (char === separator) {
      parts.push(current);
      current = "";
    } else {
      current += char;
    }
  }
  parts.push(current);
  return parts;
}

function parseCondition(text: string): Condition | undefined {
  let best: { index: number; operator: Operator } | undefined;
  for (const operator of operators) {
    const index = text.indexOf(operator);
    if (index > 0 && (best === undefined || index < best.index)) best = { index, operator };
  }
  if (!best) return undefined;
  return {
    attribute: text.slice(0, best.index),
    operator: best.operator,
    value: text.slice(best.index + best.operator.length),
  };
}

function values(record: FoRecord, attribute: string): string[] {
  const value = record[attribute];
  if (Array.isArray(value)) {
    return value.map((member) =>
      typeof member === "object" && member !== null
        ? String((member as FoRecord).q_origin_key ?? "")
        : String(member),
    );
  }
  return value === undefined || value === null ? [] : [String(value)];
}

function compare(left: string, right: string): number {
  const a = Number(left);
  const b = Number(right);
  if (left !== "" && right !== "" && Number.isFinite(a) && Number.isFinite(b)) return a - b;
  return left.localeCompare(right);
}

function holds(record: FoRecord, condition: Condition): boolean {
  const actual = values(record, condition.attribute);
  const v = condition.value;
  switch (condition.operator) {
    case "==":
      return actual.includes(v);
    case "!=":
      return !actual.includes(v);
    case "=@":
      return actual.some((item) => item.includes(v));
    case "!@":
      return !actual.some((item) => item.includes(v));
    case "<":
      return actual.some((item) => compare(item, v) < 0);
    case "<=":
      return actual.some((item) => compare(item, v) <= 0);
    case ">":
      return actual.some((item) => compare(item, v) > 0);
    case ">=":
      return actual.some((item) => compare(item, v) >= 0);
  }
}

/** True when `filter` is malformed (FortiOS answers 400 for it). */
export function invalidFilter(query: URLSearchParams): string | undefined {
  for (const filter of query.getAll("filter")) {
    for (const part of splitUnescaped(filter, ",")) if (parseCondition(part) === undefined) return filter;
  }
  return undefined;
}

export interface ListResult {
  results: FoRecord[];
  matched: number;
  nextIndex: number;
}

export function list(records: FoRecord[], query: URLSearchParams): ListResult {
  const groups = query
    .getAll("filter")
    .map((filter) => splitUnescaped(filter, ",").map((part) => parseCondition(part) as Condition));
  const matched = records.filter((record) => groups.every((group) => group.some((c) => holds(record, c))));
  const start = Number(query.get("start") ?? 0) || 0;
  const count = Number(query.get("count") ?? 0) || 0;
  const page = matched.slice(start, count > 0 ? start + count : undefined);
  const format = query.get("format");
  const fields = format === null ? undefined : format.split("|").filter(Boolean);
  const results = fields
    ? page.map((record) =>
        Object.fromEntries(fields.filter((f) => Object.hasOwn(record, f)).map((f) => [f, record[f]])),
      )
    : page;
  return { results, matched: matched.length, nextIndex: start + page.length - 1 };
}
