// A small XML element tree for the PAN-OS simulator: parsed for real (fast-xml-parser), stored as
// elements, serialised with escaping. What a request's `element` says is exactly what is stored: an
// unescaped `</description><action>` in a description becomes sibling elements, as on the appliance.
import { XMLParser, XMLValidator } from "fast-xml-parser";

export interface XNode {
  tag: string;
  attrs: Record<string, string>;
  children: XNode[];
  /** Text content of a leaf element ("" for `<disabled/>`); undefined when it has child elements. */
  text?: string;
}

export class XmlSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "XmlSyntaxError";
  }
}

const parser = new XMLParser({
  ignoreAttributes: false,
  preserveOrder: true,
  attributeNamePrefix: "",
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  processEntities: true,
  htmlEntities: true,
});

type Ordered = Record<string, unknown> & { ":@"?: Record<string, string> };

/** Parses a fragment that may hold several sibling elements (an `element=` parameter). */
export function parseFragment(text: string): XNode[] {
  // A DTD could define entities; the appliance's parser does not take them from API input.
  if (/<!DOCTYPE|<!ENTITY/i.test(text)) throw new XmlSyntaxError("DTDs are not allowed");
  const wrapped = `<fragment>${text}</fragment>`;
  const valid = XMLValidator.validate(wrapped);
  if (valid !== true) throw new XmlSyntaxError(`${valid.err.msg} (line ${valid.err.line})`);
  const [root] = convert(parser.parse(wrapped) as Ordered[]);
  if (root?.tag !== "fragment") throw new XmlSyntaxError("not one XML fragment");
  return root.children;
}

/** Parses a document with exactly one root element (a `cmd=` parameter). */
export function parseElement(text: string): XNode {
  const nodes = parseFragment(text);
  const [only] = nodes;
  if (only === undefined || nodes.length !== 1) throw new XmlSyntaxError("expected one root element");
  return only;
}

function convert(items: Ordered[]): XNode[] {
  const out: XNode[] = [];
  for (const item of items) {
    const tag = Object.keys(item).find((key) => key !== ":@");
    if (tag === undefined || tag === "#text") continue;
    const rawChildren = (item[tag] as Ordered[] | undefined) ?? [];
    const elements = convert(rawChildren);
    const node: XNode = { tag, attrs: { ...(item[":@"] ?? {}) }, children: elements };
    if (elements.length === 0) {
      node.text = rawChildren.map((child) => String(child["#text"] ?? "")).join("");
    }
    out.push(node);
  }
  return out;
}

/** Text content as libxml2 writes it: `& < >` escaped, CR as a reference (a raw CR would read back as LF). */
export function escapeText(value: string): string {
  return value.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/\r/g, "&#13;");
}

/** Attribute values also keep TAB and LF as references (parsers turn them into spaces otherwise). */
export function escapeAttribute(value: string): string {
  return escapeText(value).replace(/"/g, "&quot;").replace(/\t/g, "&#9;").replace(/\n/g, "&#10;");
}

export function serialize(node: XNode): string {
  const attrs = Object.entries(node.attrs)
    .map(([name, value]) => ` ${name}="${escapeAttribute(value)}"`)
    .join("");
  if (node.children.length > 0) {
    return `<${node.tag}${attrs}>${node.children.map(serialize).join("")}</${node.tag}>`;
  }
  const text = node.text ?? "";
  return text === "" ? `<${node.tag}${attrs}/>` : `<${node.tag}${attrs}>${escapeText(text)}</${node.tag}>`;
}

export function element(tag: string, children: XNode[] = [], attrs: Record<string, string> = {}): XNode {
  return { tag, attrs, children };
}

export function leaf(tag: string, text: string, attrs: Record<string, string> = {}): XNode {
  return { tag, attrs, children: [], text };
}

export function clone(node: XNode): XNode {
  return structuredClone(node);
}

export function child(node: XNode, tag: string): XNode | undefined {
  return node.children.find((c) => c.tag === tag);
}

export function entryNamed(node: XNode, name: string): XNode | undefined {
  return node.children.find((c) => c.tag === "entry" && c.attrs.name === name);
}

/** Text of a leaf child, if present. */
export function textOf(node: XNode, tag: string): string | undefined {
  const found = child(node, tag);
  return found === undefined ? undefined : (found.text ?? "");
}

/** `<member>` texts of a list child (`<from><member>a</member></from>`). */
export function membersOf(node: XNode, tag: string): string[] | undefined {
  const list = child(node, tag);
  if (list === undefined) return undefined;
  return list.children.filter((c) => c.tag === "member").map((c) => c.text ?? "");
}

/** Structural equality (attribute order ignored). */
export function sameNode(a: XNode, b: XNode): boolean {
  return serialize(canonical(a)) === serialize(canonical(b));
}

function canonical(node: XNode): XNode {
  const attrs = Object.fromEntries(Object.entries(node.attrs).sort(([x], [y]) => x.localeCompare(y)));
  const out: XNode = { tag: node.tag, attrs, children: node.children.map(canonical) };
  if (node.text !== undefined) out.text = node.text;
  return out;
}

/**
 * The control API's JSON view of an element: attributes as `@name`, a leaf as its text, a list of
 * `<member>`s as an array of strings (always an array), repeated children as arrays.
 */
export function toJson(node: XNode): unknown {
  if (node.children.length === 0 && Object.keys(node.attrs).length === 0) return node.text ?? "";
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(node.attrs)) out[`@${name}`] = value;
  if (node.children.length > 0 && node.children.every((c) => c.tag === "member")) {
    return node.children.map((c) => c.text ?? "");
  }
  for (const c of node.children) {
    const value = toJson(c);
    if (Object.hasOwn(out, c.tag)) {
      const existing = out[c.tag];
      out[c.tag] = Array.isArray(existing) && c.tag === "entry" ? [...existing, value] : [existing, value];
    } else {
      out[c.tag] = c.tag === "entry" ? [value] : value;
    }
  }
  if (node.children.length === 0 && node.text) out["#text"] = node.text;
  return out;
}

/** The inverse of toJson for the control API: arrays of strings become `<member>` lists. */
export function fromJson(tag: string, value: unknown): XNode {
  if (value === null || value === undefined) return leaf(tag, "");
  if (typeof value !== "object") return leaf(tag, String(value));
  if (Array.isArray(value)) {
    return element(
      tag,
      value.map((item) => leaf("member", String(item))),
    );
  }
  const attrs: Record<string, string> = {};
  const children: XNode[] = [];
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    if (key.startsWith("@")) attrs[key.slice(1)] = String(item);
    else if (key === "entry" && Array.isArray(item))
      for (const entry of item) children.push(fromJson("entry", entry));
    else children.push(fromJson(key, item));
  }
  return element(tag, children, attrs);
}
