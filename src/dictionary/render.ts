// Rendering a compiled request into the exact HTTP request to send. User values land only in
// rendered leaves: path outputs are percent-encoded per value, query values encoded whole, JSON bodies
// built as structures then serialised, form fields URL-encoded, XML outputs escaped. Headers are
// checked for CR/LF. Auth material is added separately (applyAuth) and marked secret, so the
// redacted view, logs and the opHash never carry it.
import type { BodyFormat, CompiledDictionary, CompiledRequest, HttpMethod } from "./compiled.ts";
import { TemplateRefusal } from "./errors.ts";
import { renderStructure } from "./structure.ts";
import { OMIT, Placeholder, type RenderOptions, TemplateError } from "./templates.ts";

export interface RenderedBody {
  format: BodyFormat;
  contentType: string;
  /** The structure before encoding (JSON value, form map, XML/text string); auth form fields excluded. */
  value: unknown;
  /** The bytes to send (as text), auth form fields included. */
  text: string;
}

export interface RenderedRequest {
  method: HttpMethod;
  /** basePath + path, percent-encoded. */
  path: string;
  query: [string, string][];
  /** Header name (as written) → value. */
  headers: Record<string, string>;
  body?: RenderedBody;
  /** Names of the header, query and form fields the auth added: secrets. */
  secret: { headers: string[]; query: string[]; form: string[] };
  /** "firewallRule.create step 2" — for logs and metrics. */
  label: string;
  /** Every header value and the whole body are secret (a login request). */
  sensitive?: boolean;
  responseFormat: "json" | "xml" | "text";
  timeoutMs?: number;
}

export const MASK = "***";

const CONTENT_TYPES: Record<BodyFormat, string> = {
  json: "application/json",
  form: "application/x-www-form-urlencoded",
  xml: "application/xml",
  text: "text/plain",
};

function scalarText(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (value instanceof Placeholder) return value.toString();
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

function checkHeaderValue(name: string, value: string): void {
  // A user value must never split a header or start a new one.
  if (/[\r\n\0]/.test(value)) throw new TemplateRefusal(`header ${name} would contain a line break`);
}

function encodeForm(pairs: [string, string][]): string {
  return pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join("&");
}

export function encodeQuery(pairs: [string, string][]): string {
  return pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join("&");
}

function formPairs(value: unknown): [string, string][] {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new TemplateRefusal("a form body must render to a map of fields");
  }
  const pairs: [string, string][] = [];
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    if (v === OMIT) continue;
    pairs.push([key, scalarText(v)]);
  }
  return pairs;
}

/** Renders one request of an operation (without auth). Throws TemplateError / StructureError. */
export function renderRequest(
  dictionary: CompiledDictionary,
  request: CompiledRequest,
  context: Record<string, unknown>,
  label: string,
  options?: RenderOptions,
): RenderedRequest {
  const path = `${dictionary.connection.basePath}${request.path.render(context, options)}`;
  // Appended to the device's endpoint: anything but "/" first could name another host (schema.ts).
  if (!path.startsWith("/"))
    throw new TemplateError('the request path must start with "/"', { forbidden: true });
  const query: [string, string][] = [];
  for (const [key, node] of request.query) {
    const value = renderStructure(node, context, options, [...request.docPath, "query", key]);
    if (value === OMIT) continue;
    // A list repeats the parameter (?id=1&id=2); objects travel as JSON text.
    if (Array.isArray(value)) for (const v of value) query.push([key, scalarText(v)]);
    else query.push([key, scalarText(value)]);
  }
  const headers: Record<string, string> = {};
  const setHeader = (name: string, value: string) => {
    checkHeaderValue(name, value);
    for (const existing of Object.keys(headers)) {
      if (existing.toLowerCase() === name.toLowerCase()) delete headers[existing];
    }
    headers[name] = value;
  };
  for (const [name, template] of dictionary.connection.headerTemplates)
    setHeader(name, template.render(context, options));
  for (const [name, template] of request.headers) setHeader(name, template.render(context, options));

  const rendered: RenderedRequest = {
    method: request.method,
    path,
    query,
    headers,
    secret: { headers: [], query: [], form: [] },
    label,
    responseFormat: request.responseFormat,
  };
  if (request.timeoutMs !== undefined) rendered.timeoutMs = request.timeoutMs;
  if (request.body !== undefined && request.bodyFormat !== undefined) {
    const format = request.bodyFormat;
    const value = renderStructure(request.body, context, options, [...request.docPath, "body"]);
    if (value !== OMIT) {
      let text: string;
      if (format === "json") text = JSON.stringify(value);
      else if (format === "form") text = encodeForm(formPairs(value));
      else text = scalarText(value);
      rendered.body = { format, contentType: CONTENT_TYPES[format], value, text };
      if (!Object.keys(headers).some((h) => h.toLowerCase() === "content-type")) {
        headers["Content-Type"] = CONTENT_TYPES[format];
      }
    }
  }
  return rendered;
}

export interface AuthMaterial {
  headers: Record<string, string>;
  query: Record<string, string>;
  form: Record<string, string>;
}

export const NO_AUTH: AuthMaterial = { headers: {}, query: {}, form: {} };

/** The request with the auth material added (every added field marked secret). */
export function applyAuth(request: RenderedRequest, material: AuthMaterial): RenderedRequest {
  const headers = { ...request.headers };
  for (const [name, value] of Object.entries(material.headers)) {
    checkHeaderValue(name, value);
    headers[name] = value;
  }
  const query: [string, string][] = [
    ...request.query.filter(([k]) => !Object.hasOwn(material.query, k)),
    ...Object.entries(material.query),
  ];
  let body = request.body;
  const formFields = Object.entries(material.form);
  if (formFields.length > 0) {
    if (body === undefined) {
      body = { format: "form", contentType: CONTENT_TYPES.form, value: {}, text: encodeForm(formFields) };
      headers["Content-Type"] = CONTENT_TYPES.form;
    } else if (body.format === "form") {
      const pairs = formPairs(body.value).filter(([k]) => !Object.hasOwn(material.form, k));
      body = { ...body, text: encodeForm([...pairs, ...formFields]) };
    } else {
      throw new TemplateRefusal(`the auth sends form fields but this request's body is ${body.format}`);
    }
  }
  const out: RenderedRequest = {
    ...request,
    headers,
    query,
    secret: {
      headers: [...request.secret.headers, ...Object.keys(material.headers)],
      query: [...request.secret.query, ...Object.keys(material.query)],
      form: [...request.secret.form, ...Object.keys(material.form)],
    },
  };
  if (body !== undefined) out.body = body;
  return out;
}

/** The same request with every secret value replaced by "***" (for logs, errors and dry runs). */
export function redactRequest(request: RenderedRequest): RenderedRequest {
  if (request.sensitive) {
    const headers = Object.fromEntries(
      Object.entries(request.headers).map(([k, v]) => [k, /^(content-type|accept)$/i.test(k) ? v : MASK]),
    );
    const query = request.query.map(([k]): [string, string] => [k, MASK]);
    const out: RenderedRequest = { ...request, headers, query };
    if (request.body) out.body = { ...request.body, value: MASK, text: MASK };
    return out;
  }
  const secretHeaders = new Set(request.secret.headers.map((h) => h.toLowerCase()));
  const headers = Object.fromEntries(
    Object.entries(request.headers).map(([k, v]) => [k, secretHeaders.has(k.toLowerCase()) ? MASK : v]),
  );
  const query = request.query.map(([k, v]): [string, string] => [
    k,
    request.secret.query.includes(k) ? MASK : v,
  ]);
  const out: RenderedRequest = { ...request, headers, query };
  if (request.body) {
    if (request.body.format === "form" && request.secret.form.length > 0) {
      const pairs = new URLSearchParams(request.body.text);
      const masked: [string, string][] = [...pairs].map(([k, v]) => [
        k,
        request.secret.form.includes(k) ? MASK : v,
      ]);
      out.body = { ...request.body, text: encodeForm(masked) };
    } else {
      out.body = request.body;
    }
  }
  return out;
}

/** The full URL for an endpoint such as https://192.0.2.10:8443 (its own base path kept). */
export function requestUrl(endpoint: string, request: RenderedRequest): string {
  const base = endpoint.replace(/\/+$/, "");
  const qs = encodeQuery(request.query);
  return `${base}${request.path}${qs === "" ? "" : `?${qs}`}`;
}

/** A human-readable HTTP request (for `vnf-operator render`); pass a redacted request. */
export function formatRequest(endpoint: string, request: RenderedRequest): string {
  const lines = [`${request.method} ${requestUrl(endpoint, request)}`];
  for (const [k, v] of Object.entries(request.headers)) lines.push(`${k}: ${v}`);
  if (request.body) {
    lines.push("");
    lines.push(request.body.text);
  }
  return lines.join("\n");
}
