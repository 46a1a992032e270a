// JSONPath over parsed bodies (JSON, or XML parsed by fast-xml-parser). jsonpath-plus is lenient
// (it silently accepts "$..[" or "data.x"), so paths are checked here first: a dictionary with a
// path that cannot mean anything is refused when it loads, not when an appliance answers.
import { JSONPath } from "jsonpath-plus";

export class JsonPathSyntaxError extends Error {
  constructor(path: string, reason: string) {
    super(`invalid JSONPath ${JSON.stringify(path)}: ${reason}`);
    this.name = "JsonPathSyntaxError";
  }
}

const NAME = /^[A-Za-z_@$#][\w@$#-]*/;
const BRACKET_CONTENT = [
  /^\*$/,
  /^-?\d+$/,
  /^-?\d*:-?\d*(:-?\d+)?$/,
  /^(-?\d+)(\s*,\s*-?\d+)+$/,
  /^('([^'\\]|\\.)*'|"([^"\\]|\\.)*")(\s*,\s*('([^'\\]|\\.)*'|"([^"\\]|\\.)*"))*$/,
];

/** Splits a bracket's contents honouring quotes and nested parentheses; returns the end index. */
function readBracket(path: string, start: number): { content: string; end: number } {
  let depth = 0;
  let quote: string | undefined;
  for (let i = start + 1; i < path.length; i++) {
    const c = path[i];
    if (quote) {
      if (c === "\\") i++;
      else if (c === quote) quote = undefined;
      continue;
    }
    if (c === "'" || c === '"') quote = c;
    else if (c === "(") depth++;
    else if (c === ")") depth--;
    else if (c === "]" && depth === 0) return { content: path.slice(start + 1, i).trim(), end: i + 1 };
    if (depth < 0) throw new JsonPathSyntaxError(path, `unbalanced ")" at character ${i + 1}`);
  }
  throw new JsonPathSyntaxError(path, `unclosed "[" at character ${start + 1}`);
}

/** Throws JsonPathSyntaxError unless `path` is a well-formed JSONPath. */
export function checkJsonPath(path: string): void {
  if (!path.startsWith("$")) throw new JsonPathSyntaxError(path, 'must start with "$"');
  let i = 1;
  const filters: string[] = [];
  while (i < path.length) {
    const rest = path.slice(i);
    if (rest.startsWith("..")) {
      i += 2;
      const next = path[i];
      if (next === undefined) throw new JsonPathSyntaxError(path, 'ends with ".."');
      if (next === "[") continue;
      if (next === "*") {
        i++;
        continue;
      }
      const m = NAME.exec(path.slice(i));
      if (!m) throw new JsonPathSyntaxError(path, `expected a name after ".." at character ${i + 1}`);
      i += m[0].length;
    } else if (rest.startsWith(".")) {
      i += 1;
      if (path[i] === "*") {
        i++;
        continue;
      }
      const m = NAME.exec(path.slice(i));
      if (!m) throw new JsonPathSyntaxError(path, `expected a name after "." at character ${i + 1}`);
      i += m[0].length;
    } else if (rest.startsWith("[")) {
      const { content, end } = readBracket(path, i);
      if (content === "") throw new JsonPathSyntaxError(path, `empty "[]" at character ${i + 1}`);
      if (content.startsWith("?(") || content.startsWith("(")) {
        if (!content.endsWith(")"))
          throw new JsonPathSyntaxError(path, `unterminated expression "${content}"`);
        if (content.startsWith("?(")) filters.push(content.slice(2, -1));
      } else if (!BRACKET_CONTENT.some((re) => re.test(content))) {
        throw new JsonPathSyntaxError(
          path,
          `"[${content}]" is not an index, slice, wildcard, name or filter`,
        );
      }
      i = end;
    } else {
      throw new JsonPathSyntaxError(path, `unexpected "${path[i]}" at character ${i + 1}`);
    }
  }
  // Filter expressions are parsed by jsonpath-plus' safe evaluator only when applied: apply each
  // to one element so a syntax error surfaces now.
  for (const filter of filters) {
    try {
      JSONPath({ path: `$[?(${filter})]`, json: [{}], wrap: true, eval: "safe" });
    } catch (error) {
      throw new JsonPathSyntaxError(
        path,
        `filter "${filter}": ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
}

const rewritten = new Map<string, string>();

/**
 * jsonpath-plus reads a segment starting with "@" as a type selector (`@string()`), even when quoted
 * in brackets at the root: `$['@name']` (an XML attribute) throws. Quoted names that start with a
 * character it treats specially become backtick-escaped literals (`` $.`@name ``), which it reads as
 * plain property names.
 */
function forJsonPathPlus(path: string): string {
  let out = rewritten.get(path);
  if (out === undefined) {
    out = path.replace(/\[\s*(['"])([@$~^`][^'"[\].\\]*)\1\s*\]/g, (_m, _q, name: string) => `.\`${name}`);
    rewritten.set(path, out);
  }
  return out;
}

/** Every match, in document order. */
export function queryAll(path: string, json: unknown): unknown[] {
  if (json === undefined) return [];
  // A text body (or null) has no structure: only "$" matches it.
  if (json === null || typeof json !== "object") return path.trim() === "$" ? [json] : [];
  const result = JSONPath({
    path: forJsonPathPlus(path),
    json: json as object,
    wrap: true,
    eval: "safe",
  }) as unknown;
  return Array.isArray(result) ? result : [];
}

/** Every match with the property name (or list index, as text) it was found under. */
export function queryEntries(path: string, json: unknown): { key: string | undefined; value: unknown }[] {
  if (json === undefined) return [];
  if (json === null || typeof json !== "object")
    return path.trim() === "$" ? [{ key: undefined, value: json }] : [];
  const result = JSONPath({
    path: forJsonPathPlus(path),
    json: json as object,
    wrap: true,
    eval: "safe",
    resultType: "all",
  }) as unknown;
  if (!Array.isArray(result)) return [];
  return result.map((match: { value: unknown; parentProperty?: string | number | null }) => ({
    key:
      match.parentProperty === undefined || match.parentProperty === null
        ? undefined
        : String(match.parentProperty),
    value: match.value,
  }));
}

/** The first match, or undefined. */
export function queryFirst(path: string, json: unknown): unknown {
  return queryAll(path, json)[0];
}
