// Turning an HTTP response body into a value that JSONPath and templates can read.
// XML is parsed with fast-xml-parser: attributes become "@name" keys, element text "#text" (only when
// the element also has attributes), and values stay strings ("007" is not the number 7). Text is read
// back verbatim (no trimming; character references such as &#13; decoded), so a value written through
// an XML API compares equal when read back; whitespace that only indents elements is dropped. Element
// names listed in `xmlLists` are always lists, even when they occur once (PAN-OS `entry`, `member`).
import { XMLParser, XMLValidator } from "fast-xml-parser";

export type ResponseFormat = "json" | "xml" | "text";

export interface ParsedBody {
  /** The parsed value (undefined for an empty body). */
  value: unknown;
  /** Why the body could not be parsed in the declared format, if it could not. */
  parseError?: string;
}

export interface ParseOptions {
  /** XML element names that always parse as lists. */
  xmlLists?: readonly string[];
}

const parsers = new Map<string, XMLParser>();

function xmlParser(lists: readonly string[]): XMLParser {
  const key = [...lists].sort().join(" ");
  let parser = parsers.get(key);
  if (!parser) {
    const listed = new Set(lists);
    parser = new XMLParser({
      ignoreAttributes: false,
      attributeNamePrefix: "@",
      textNodeName: "#text",
      parseTagValue: false,
      parseAttributeValue: false,
      trimValues: false,
      processEntities: true,
      // Numeric character references (&#13;, &#x1F525;) are XML; named HTML ones are tolerated.
      htmlEntities: true,
      ignoreDeclaration: true,
      ignorePiTags: true,
      isArray: (name, _path, _isLeaf, isAttribute) => !isAttribute && listed.has(name),
    });
    parsers.set(key, parser);
  }
  return parser;
}

/** Drops whitespace-only text that sits between child elements (indentation), recursively. */
function dropIndentation(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(dropIndentation);
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  const entries = Object.entries(value as Record<string, unknown>);
  const hasChildren = entries.some(([key]) => key !== "#text" && !key.startsWith("@"));
  for (const [key, child] of entries) {
    if (key === "#text" && hasChildren && typeof child === "string" && child.trim() === "") continue;
    out[key] = dropIndentation(child);
  }
  return out;
}

export function parseBody(text: string, format: ResponseFormat, options: ParseOptions = {}): ParsedBody {
  if (format === "text") return { value: text };
  if (text.trim() === "") return { value: undefined };
  if (format === "json") {
    try {
      return { value: JSON.parse(text) as unknown };
    } catch (error) {
      return {
        value: text,
        parseError: `not JSON: ${error instanceof Error ? error.message : String(error)}`,
      };
    }
  }
  const valid = XMLValidator.validate(text);
  if (valid !== true)
    return { value: text, parseError: `not XML: ${valid.err.msg} (line ${valid.err.line})` };
  try {
    return { value: dropIndentation(xmlParser(options.xmlLists ?? []).parse(text)) };
  } catch (error) {
    return { value: text, parseError: `not XML: ${error instanceof Error ? error.message : String(error)}` };
  }
}
