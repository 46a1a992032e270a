// Queries on plural endpoints (docs/QUERIES_FILTERS_AND_SORTING.md): `field=value` (exact),
// `field__contains`, `__startswith`, `__endswith`, `__lt/__lte/__gt/__gte`, `__regex`, combined with AND;
// then `sort_by`/`sort_order`/`reverse`, then `offset`/`limit`. Query-string values are typed the way the
// package's URL-encoded content handler types them: integers become numbers, true/false booleans, so
// `?tracker=1700000000` matches the integer tracker and `?disabled=false` the boolean.
import { PfError } from "./envelope.ts";
import type { PfRecord } from "./fields.ts";

const controlParameters = new Set([
  "limit",
  "offset",
  "sort_by",
  "sort_order",
  "reverse",
  "sort_flags",
  "all",
]);

export function typedValue(raw: string): string | number | boolean {
  if (/^-?\d+$/.test(raw) && Number.isSafeInteger(Number(raw))) return Number(raw);
  if (raw === "true") return true;
  if (raw === "false") return false;
  return raw;
}

interface Filter {
  field: string;
  operator: string;
  value: string | number | boolean;
}

function parseFilters(query: URLSearchParams): Filter[] {
  const filters: Filter[] = [];
  for (const [key, raw] of query) {
    if (controlParameters.has(key)) continue;
    const separator = key.indexOf("__");
    const field = separator < 0 ? key : key.slice(0, separator);
    const operator = separator < 0 ? "exact" : key.slice(separator + 2);
    filters.push({ field, operator, value: typedValue(raw) });
  }
  return filters;
}

function matches(item: PfRecord, filter: Filter): boolean {
  const actual = item[filter.field];
  const expected = filter.value;
  switch (filter.operator) {
    case "exact":
      return actual === expected;
    case "contains":
      if (Array.isArray(actual)) return actual.includes(expected);
      return typeof actual === "string" && actual.includes(String(expected));
    case "startswith":
      if (Array.isArray(actual)) return actual[0] === expected;
      return typeof actual === "string" && actual.startsWith(String(expected));
    case "endswith":
      if (Array.isArray(actual)) return actual[actual.length - 1] === expected;
      return typeof actual === "string" && actual.endsWith(String(expected));
    case "lt":
      return typeof actual === "number" && actual < Number(expected);
    case "lte":
      return typeof actual === "number" && actual <= Number(expected);
    case "gt":
      return typeof actual === "number" && actual > Number(expected);
    case "gte":
      return typeof actual === "number" && actual >= Number(expected);
    case "regex":
      return typeof actual === "string" && new RegExp(String(expected)).test(actual);
    default:
      throw new PfError(400, "QUERY_FILTER_NOT_FOUND", `Query filter \`${filter.operator}\` does not exist.`);
  }
}

function integerParameter(query: URLSearchParams, name: string, fallback: number): number {
  const raw = query.get(name);
  if (raw === null) return fallback;
  const value = typedValue(raw);
  if (typeof value !== "number") {
    throw new PfError(
      400,
      `ENDPOINT_${name.toUpperCase()}_FIELD_INVALID_TYPE`,
      `Field \`${name}\` must be of type \`integer\`.`,
    );
  }
  return value;
}

/** Items carry their `id`; the query never changes it (the id is the position in the configuration). */
export function runQuery(items: PfRecord[], query: URLSearchParams): PfRecord[] {
  const filters = parseFilters(query);
  let result = items.filter((item) => filters.every((filter) => matches(item, filter)));
  const sortBy = query.get("sort_by");
  if (sortBy !== null) {
    const descending = query.get("sort_order") === "SORT_DESC";
    result = [...result].sort((a, b) => {
      const left = String(a[sortBy] ?? "");
      const right = String(b[sortBy] ?? "");
      return descending ? right.localeCompare(left) : left.localeCompare(right);
    });
  }
  if (query.get("reverse") === "true") result = [...result].reverse();
  const offset = integerParameter(query, "offset", 0);
  const limit = integerParameter(query, "limit", 0);
  return result.slice(offset, limit > 0 ? offset + limit : undefined);
}
