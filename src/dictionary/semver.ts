// A small semver range matcher for dictionary `firmware` ranges. Appliance version strings are rarely
// strict semver ("2.7.2-RELEASE", "v7.4.5", "10.2.3-h1", "24.7.1_1"), so versions are coerced to their
// leading MAJOR[.MINOR[.PATCH]] and suffixes are ignored. Ranges follow npm's grammar for the useful
// subset: comparators (>=, <=, >, <, =) joined by spaces (AND) and `||` (OR), x-ranges (7, 7.x, 7.4.*),
// caret (^7.0.0), tilde (~2.7) and `*`.

export type Version = readonly [number, number, number];

/** The leading numeric version in a vendor version string, or undefined when there is none. */
export function coerceVersion(text: string): Version | undefined {
  const m = /(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(text);
  if (!m) return undefined;
  return [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0)];
}

export function compareVersions(a: Version, b: Version): number {
  for (let i = 0; i < 3; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

type Comparator = { op: "<" | "<=" | ">" | ">=" | "="; version: Version };
/** OR of ANDs. */
export type Range = Comparator[][];

const PART = String.raw`(?:\d+|[xX*])`;
const PARTIAL = new RegExp(String.raw`^v?(${PART})(?:\.(${PART}))?(?:\.(${PART}))?(?:[-+][0-9A-Za-z.-]+)?$`);

type Partial = [number | undefined, number | undefined, number | undefined];

function parsePartial(text: string): Partial | undefined {
  const m = PARTIAL.exec(text);
  if (!m) return undefined;
  const num = (s: string | undefined) => (s === undefined || /^[xX*]$/.test(s) ? undefined : Number(s));
  const parts: Partial = [num(m[1]), num(m[2]), num(m[3])];
  // "7.x.3" is not a range anyone means.
  if (parts[0] === undefined && (parts[1] !== undefined || parts[2] !== undefined)) return undefined;
  if (parts[1] === undefined && parts[2] !== undefined) return undefined;
  return parts;
}

function full(p: Partial): Version {
  return [p[0] ?? 0, p[1] ?? 0, p[2] ?? 0];
}

/** The exclusive upper bound of an x-range such as 7.4 (→ 7.5.0) or 7 (→ 8.0.0). */
function xUpper(p: Partial): Version | undefined {
  if (p[0] === undefined) return undefined;
  if (p[1] === undefined) return [p[0] + 1, 0, 0];
  if (p[2] === undefined) return [p[0], p[1] + 1, 0];
  return undefined;
}

function parseComparatorSet(text: string): Comparator[] {
  const tokens = text
    .trim()
    .replace(/(>=|<=|>|<|=|\^|~)\s+/g, "$1")
    .split(/\s+/)
    .filter((t) => t !== "");
  if (tokens.length === 0) throw new Error("empty comparator set");
  const out: Comparator[] = [];
  for (const token of tokens) {
    const m = /^(>=|<=|>|<|=|\^|~)?(.*)$/.exec(token);
    const op = m?.[1];
    const partial = parsePartial(m?.[2] ?? "");
    if (!partial) throw new Error(`"${token}" is not a version or comparator`);
    const lower = full(partial);
    if (op === "^") {
      const [a, b, c] = lower;
      const upper: Version =
        a > 0 || partial[1] === undefined
          ? [a + 1, 0, 0]
          : b > 0 || partial[2] === undefined
            ? [0, b + 1, 0]
            : [0, 0, c + 1];
      out.push({ op: ">=", version: lower }, { op: "<", version: upper });
    } else if (op === "~") {
      const upper: Version = partial[1] === undefined ? [lower[0] + 1, 0, 0] : [lower[0], lower[1] + 1, 0];
      out.push({ op: ">=", version: lower }, { op: "<", version: upper });
    } else if (op === undefined || op === "=") {
      const upper = xUpper(partial);
      if (partial[0] === undefined) continue; // "*": anything
      if (upper) out.push({ op: ">=", version: lower }, { op: "<", version: upper });
      else out.push({ op: "=", version: lower });
    } else if (op === ">" && xUpper(partial)) {
      out.push({ op: ">=", version: xUpper(partial) as Version });
    } else if (op === "<=" && xUpper(partial)) {
      out.push({ op: "<", version: xUpper(partial) as Version });
    } else {
      out.push({ op: op as Comparator["op"], version: lower });
    }
  }
  return out;
}

/** Parses a range; throws an Error with a readable message when it is not one. */
export function parseRange(text: string): Range {
  if (text.trim() === "") throw new Error("empty range");
  return text.split("||").map((set) => parseComparatorSet(set));
}

function satisfiesComparator(v: Version, c: Comparator): boolean {
  const d = compareVersions(v, c.version);
  switch (c.op) {
    case "<":
      return d < 0;
    case "<=":
      return d <= 0;
    case ">":
      return d > 0;
    case ">=":
      return d >= 0;
    case "=":
      return d === 0;
  }
}

export function satisfies(version: string | Version, range: string | Range): boolean {
  const v = typeof version === "string" ? coerceVersion(version) : version;
  if (!v) return false;
  const r = typeof range === "string" ? parseRange(range) : range;
  return r.some((set) => set.every((c) => satisfiesComparator(v, c)));
}

/** The lowest version a range admits (for ordering candidate dictionaries, most specific first). */
export function rangeFloor(range: Range): Version {
  let floor: Version = [Number.MAX_SAFE_INTEGER, 0, 0];
  for (const set of range) {
    let low: Version = [0, 0, 0];
    for (const c of set)
      if ((c.op === ">=" || c.op === "=" || c.op === ">") && compareVersions(c.version, low) > 0)
        low = c.version;
    if (compareVersions(low, floor) < 0) floor = low;
  }
  return floor;
}

/**
 * Names in code-point order. Not localeCompare: the first locale comparison loads ICU's collation
 * data, about 3 MiB of resident memory for the life of the process, for names that are ASCII.
 */
export function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
