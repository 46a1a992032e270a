// Text into XML and XPath: what the `xml` escaping target and the `xml` / `xpathLiteral` filters
// (templates.ts) produce, kept apart so that the rules for XML text are in one place.

// CR, LF and TAB travel as character references: XML parsers turn a literal CR (or CR LF) in text
// into LF, and each of them in an attribute value into a space, so only a reference round-trips.
const XML_ENTITIES: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&apos;",
  "\r": "&#13;",
  "\n": "&#10;",
  "\t": "&#9;",
};

/** Characters XML 1.0 cannot represent even as references: refused rather than silently dropped. */
export function xmlForbidden(text: string): boolean {
  for (const ch of text) {
    const c = ch.codePointAt(0) ?? 0;
    if (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return true;
    // Lone surrogates iterate as themselves; paired ones as one astral code point.
    if ((c >= 0xd800 && c <= 0xdfff) || c === 0xfffe || c === 0xffff) return true;
  }
  return false;
}

/** Escapes text for an XML element body or attribute value (either quote style). */
export function escapeXml(value: string): string {
  return value.replace(/[&<>"'\r\n\t]/g, (c) => XML_ENTITIES[c] ?? c);
}

/** An XPath 1.0 string literal for any text (XPath has no escapes inside literals: concat() quotes). */
export function xpathLiteral(value: string): string {
  if (!value.includes("'")) return `'${value}'`;
  if (!value.includes('"')) return `"${value}"`;
  return `concat(${value
    .split("'")
    .map((part) => `'${part}'`)
    .join(`, "'", `)})`;
}
