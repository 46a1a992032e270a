// Loading a dictionary file: YAML (with source positions) → zod validation → compilation. Every
// problem is reported as `file:line: path.in.document: message`, and a file with any problem is refused.
import { readFile } from "node:fs/promises";
import { basename, extname } from "node:path";
import { isMap, isScalar, isSeq, LineCounter, type Node, parseAllDocuments } from "yaml";
import type { z } from "zod";
import { compileDictionary, DictionaryCompileError } from "./compile.ts";
import type { CompiledDictionary } from "./compiled.ts";
import { type DocPath, formatDocPath } from "./located.ts";
import { DictionarySchema } from "./schema.ts";

export interface DictionaryProblem {
  file: string;
  line: number;
  path: DocPath;
  message: string;
}

export function formatProblem(p: DictionaryProblem): string {
  return p.path.length === 0
    ? `${p.file}:${p.line}: ${p.message}`
    : `${p.file}:${p.line}: ${formatDocPath(p.path)}: ${p.message}`;
}

export class DictionaryLoadError extends Error {
  readonly file: string;
  readonly problems: DictionaryProblem[];
  constructor(file: string, problems: DictionaryProblem[]) {
    super(problems.map(formatProblem).join("\n"));
    this.name = "DictionaryLoadError";
    this.file = file;
    this.problems = problems;
  }
}

/** Dictionary files are small; anything bigger is a mistake (the original capped at 1 MiB too). */
const MAX_BYTES = 1024 * 1024;

/**
 * The line of the deepest node on `path` that exists: for a missing key, the line of its parent's
 * key, so "operations.create: required" points at `operations:`.
 */
function lineOf(root: Node | null | undefined, path: DocPath, lines: LineCounter): number {
  let node: unknown = root;
  let offset = root?.range?.[0] ?? 0;
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(segment));
      if (!pair) break;
      const keyRange = isScalar(pair.key) ? pair.key.range : undefined;
      if (keyRange) offset = keyRange[0];
      node = pair.value;
    } else if (isSeq(node) && typeof segment === "number") {
      const item = node.items[segment] as Node | undefined;
      if (!item) break;
      if (item.range) offset = item.range[0];
      node = item;
    } else {
      break;
    }
  }
  return lines.linePos(offset).line;
}

/**
 * For a template in a block scalar (`|` or `>`), the file line of the template's own line N: a
 * problem deep inside a long XML body points at its line, not at the key.
 */
function templateLineOf(
  root: Node | null | undefined,
  path: DocPath,
  message: string,
  lines: LineCounter,
): number | undefined {
  const templateLine = /\(template line (\d+)/.exec(message)?.[1];
  if (templateLine === undefined) return undefined;
  let node: unknown = root;
  for (const segment of path) {
    if (isMap(node))
      node = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(segment))?.value;
    else if (isSeq(node) && typeof segment === "number") node = node.items[segment];
    else return undefined;
  }
  if (!isScalar(node) || !node.range) return undefined;
  if (node.type !== "BLOCK_LITERAL" && node.type !== "BLOCK_FOLDED") return undefined;
  // The content starts on the line after the `|` indicator.
  return lines.linePos(node.range[0]).line + Number(templateLine);
}

function zodProblems(
  error: z.ZodError,
  file: string,
  root: Node | null | undefined,
  lines: LineCounter,
): DictionaryProblem[] {
  const out: DictionaryProblem[] = [];
  for (const issue of error.issues) {
    const path = issue.path.filter((p): p is string | number => typeof p !== "symbol");
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) {
        out.push({
          file,
          line: lineOf(root, [...path, key], lines),
          path: [...path, key],
          message: "unknown key",
        });
      }
      continue;
    }
    const missing = issue.code === "invalid_type" && /received undefined/.test(issue.message);
    out.push({ file, line: lineOf(root, path, lines), path, message: missing ? "required" : issue.message });
  }
  return out;
}

export interface LoadOptions {
  /** The name to report in messages (defaults to the path given). */
  displayPath?: string;
}

/** Parses and compiles dictionary text; throws DictionaryLoadError with every problem found. */
export function loadDictionaryText(text: string, file: string): CompiledDictionary {
  if (Buffer.byteLength(text, "utf8") > MAX_BYTES) {
    throw new DictionaryLoadError(file, [
      { file, line: 1, path: [], message: `larger than ${MAX_BYTES} bytes` },
    ]);
  }
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, {
    lineCounter: lines,
    uniqueKeys: true,
    prettyErrors: false,
    // `<<: *anchor` merges, so a dictionary can share a body between create and update.
    merge: true,
  });
  if (!Array.isArray(docs)) {
    throw new DictionaryLoadError(file, [{ file, line: 1, path: [], message: "empty document" }]);
  }
  if (docs.length !== 1) {
    const line = docs[1]?.range ? lines.linePos(docs[1].range[0]).line : 1;
    throw new DictionaryLoadError(file, [
      { file, line, path: [], message: "one dictionary per file (found several YAML documents)" },
    ]);
  }
  const doc = docs[0];
  if (!doc) throw new DictionaryLoadError(file, [{ file, line: 1, path: [], message: "empty document" }]);
  const yamlErrors = [...doc.errors];
  if (yamlErrors.length > 0) {
    throw new DictionaryLoadError(
      file,
      yamlErrors.map((e) => ({
        file,
        line: lines.linePos(e.pos[0]).line,
        path: [],
        message: `YAML: ${e.message.split("\n")[0]}`,
      })),
    );
  }
  const data: unknown = doc.toJS({ maxAliasCount: 100 });
  const root = doc.contents as Node | null;
  if (data === null || typeof data !== "object" || Array.isArray(data)) {
    throw new DictionaryLoadError(file, [{ file, line: 1, path: [], message: "a dictionary is a YAML map" }]);
  }
  const parsed = DictionarySchema.safeParse(data);
  if (!parsed.success) throw new DictionaryLoadError(file, zodProblems(parsed.error, file, root, lines));
  const name = parsed.data.name ?? basename(file, extname(file));
  try {
    return compileDictionary(parsed.data, name, file);
  } catch (error) {
    if (error instanceof DictionaryCompileError) {
      throw new DictionaryLoadError(
        file,
        error.problems.map((p) => ({
          file,
          line: templateLineOf(root, p.path, p.message, lines) ?? lineOf(root, p.path, lines),
          path: p.path,
          message: p.message,
        })),
      );
    }
    throw error;
  }
}

export async function loadDictionaryFile(
  path: string,
  options: LoadOptions = {},
): Promise<CompiledDictionary> {
  const display = options.displayPath ?? path;
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "";
    throw new DictionaryLoadError(display, [
      { file: display, line: 0, path: [], message: `cannot read (${code || String(error)})` },
    ]);
  }
  return loadDictionaryText(text, display);
}
