// Turning an HTTP response body into a value that JSONPath and templates can read.
// XML is parsed with fast-xml-parser: attributes become "@name" keys, element text "#text" (only when
// the element also has attributes), and values stay strings ("007" is not the number 7).
import { XMLParser, XMLValidator } from "fast-xml-parser";

export type ResponseFormat = "json" | "xml" | "text";

export interface ParsedBody {
  /** The parsed value (undefined for an empty body). */
  value: unknown;
  /** Why the body could not be parsed in the declared format, if it could not. */
  parseError?: string;
}

const xmlParser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: "@",
  textNodeName: "#text",
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  processEntities: true,
  htmlEntities: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
});

export function parseBody(text: string, format: ResponseFormat): ParsedBody {
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
    return { value: xmlParser.parse(text) as unknown };
  } catch (error) {
    return { value: text, parseError: `not XML: ${error instanceof Error ? error.message : String(error)}` };
  }
}
