// FortiOS REST API v2 response shapes (terraform-provider-fortios sdk/sdkcore, the Ansible fortios
// collection, Fortinet's "REST API administrator" docs): a flat JSON object with http_method, revision
// data, mkey, status "success"|"error", http_status, the scope (vdom, path, name) and the appliance
// identity (serial, version, build). Errors add a numeric `error` (-3 not found, -5 duplicate...) and,
// when the CLI layer refused the value, `cli_error`. A missing or wrong token gets the web server's HTML
// 401 page, not JSON.
import type { Json, SimResponse } from "../common/vendor.ts";

export interface Identity {
  serial: string;
  version: string;
  build: number;
}

export interface Scope {
  method: string;
  vdom: string;
  path: string;
  name: string;
}

export class FortiError extends Error {
  readonly httpStatus: number;
  readonly code: number | undefined;
  readonly cliError: string | undefined;
  readonly mkey: Json | undefined;
  constructor(httpStatus: number, code?: number, cliError?: string, mkey?: Json) {
    super(`FortiOS error ${httpStatus}${code === undefined ? "" : ` (${code})`}`);
    this.name = "FortiError";
    this.httpStatus = httpStatus;
    this.code = code;
    this.cliError = cliError;
    this.mkey = mkey;
  }
}

export const errors = {
  notFound: (mkey?: Json) => new FortiError(404, -3, undefined, mkey),
  duplicate: () => new FortiError(424, -5),
  inUse: () => new FortiError(424, -23),
  missing: (attribute: string) =>
    new FortiError(424, -56, `Attribute '${attribute}' MUST be set.\nCommand fail. Return code -56`),
  invalidValue: (value: string) =>
    new FortiError(424, -651, `value parse error before '${value}'\nCommand fail. Return code -651`),
  tooLong: (attribute: string, max: number) =>
    new FortiError(
      424,
      -1,
      `The string length of '${attribute}' exceeds the maximum of ${max}.\nCommand fail. Return code -1`,
    ),
  badReference: (attribute: string, value: string) =>
    new FortiError(
      424,
      -3,
      `node_check_object fail! for ${attribute} ${value}\n\nattribute set operator error, -3, discard the setting\nCommand fail. Return code -3`,
    ),
  nameClash: (code: number) => new FortiError(424, code),
};

export function body(
  scope: Scope,
  identity: Identity,
  fields: Record<string, Json>,
  status: "success" | "error",
  httpStatus: number,
): Json {
  return {
    http_method: scope.method,
    ...fields,
    vdom: scope.vdom,
    path: scope.path,
    name: scope.name,
    status,
    http_status: httpStatus,
    serial: identity.serial,
    version: identity.version,
    build: identity.build,
  };
}

export function jsonResponse(
  httpStatus: number,
  payload: Json,
  headers: Record<string, string> = {},
): SimResponse {
  return { status: httpStatus, headers: { "content-type": "application/json", ...headers }, body: payload };
}

export function errorResponse(
  scope: Scope,
  identity: Identity,
  error: FortiError,
  revision?: string,
): SimResponse {
  const fields: Record<string, Json> = {};
  if (revision !== undefined) fields.revision = revision;
  if (error.mkey !== undefined) fields.mkey = error.mkey;
  if (error.code !== undefined) fields.error = error.code;
  if (error.cliError !== undefined) fields.cli_error = error.cliError;
  return jsonResponse(error.httpStatus, body(scope, identity, fields, "error", error.httpStatus));
}

export function unauthorizedPage(): SimResponse {
  return {
    status: 401,
    headers: { "content-type": "text/html; charset=iso-8859-1" },
    body: '<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">\n<HTML><HEAD>\n<TITLE>401 Authorization Required</TITLE>\n</HEAD><BODY>\nAuthorization Required\nThis server could not verify that you\nare authorized to access the document\nrequested.  Either you supplied the wrong\ncredentials (e.g., bad password), or your\nbrowser doesn\'t understand how to supply\nthe credentials required.\n</BODY></HTML>\n',
  };
}

export function tooManyRequestsPage(retryAfterSeconds?: number): SimResponse {
  return {
    status: 429,
    headers: {
      "content-type": "text/html",
      ...(retryAfterSeconds === undefined ? {} : { "retry-after": String(retryAfterSeconds) }),
    },
    body: "<!DOCTYPE html>\n<html><head><title>429 Too Many Requests</title></head><body><h1>Too Many Requests</h1><p>The server is busy, please retry later.</p></body></html>\n",
  };
}

export function notFoundPage(): SimResponse {
  return {
    status: 404,
    headers: { "content-type": "text/html" },
    body: "<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1></body></html>\n",
  };
}
