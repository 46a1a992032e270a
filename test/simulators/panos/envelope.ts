// PAN-OS XML API answers: `<response status="success|error" [code="N"]>` with `<msg>`/`<result>`.
import type { SimResponse } from "../common/vendor.ts";
import { PanError } from "./errors.ts";
import { escapeAttribute, escapeText } from "./xml.ts";

const XML_TYPE = "application/xml; charset=UTF-8";

export function xmlResponse(body: string, status = 200, headers: Record<string, string> = {}): SimResponse {
  return { status, headers: { "content-type": XML_TYPE, ...headers }, body };
}

function lines(items: readonly string[]): string {
  return items.map((line) => `<line>${escapeText(line)}</line>`).join("");
}

export function errorXml(error: PanError): SimResponse {
  const code = ` code="${escapeAttribute(String(error.code))}"`;
  // 400/403 put the message under <result>, config errors under <msg><line>.
  const inner =
    error.code === 400 || error.code === 403
      ? `<result><msg>${escapeText(error.lines.join(" "))}</msg></result>`
      : `<msg>${lines(error.lines)}</msg>`;
  return xmlResponse(`<response status="${error.status}"${code}>${inner}</response>`, error.httpStatus);
}

/** An error without a PAN-OS code (HTTP-level failures: 5xx, throttling). */
export function httpErrorXml(
  status: number,
  message: string,
  headers: Record<string, string> = {},
): SimResponse {
  return xmlResponse(
    `<response status="error"><msg><line>${escapeText(message)}</line></msg></response>`,
    status,
    headers,
  );
}

export function commandSucceeded(): SimResponse {
  return xmlResponse('<response status="success" code="20"><msg>command succeeded</msg></response>');
}

export function successResult(inner: string, attrs = ""): SimResponse {
  return xmlResponse(`<response status="success"${attrs}><result>${inner}</result></response>`);
}

export function invalidCredentials(): SimResponse {
  return errorXml(new PanError(403, "Invalid credentials."));
}

export function notFoundPage(): SimResponse {
  return {
    status: 404,
    headers: { "content-type": "text/html" },
    body: "<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1></body></html>\n",
  };
}

export { lines as xmlLines };
