// pfSense-pkg-RESTAPI v2 response envelope (RESTAPI/Core/Response.inc): every answer, success or error, is
// {"code","status","response_id","message","data"}; `status` is the lower-case reason phrase from the
// package's own table (so 429 reads "unknown": the table has no entry for it), `response_id` is
// UPPER_SNAKE, quotes in messages become backticks, and error `data` is an empty list.
import type { Json, SimResponse } from "../common/vendor.ts";

const reasons: Record<number, string> = {
  200: "ok",
  201: "created",
  202: "accepted",
  204: "no content",
  400: "bad request",
  401: "unauthorized",
  403: "forbidden",
  404: "not found",
  405: "method not allowed",
  406: "not acceptable",
  408: "request timeout",
  409: "conflict",
  413: "request entity too large",
  415: "unsupported media type",
  422: "unprocessable entity",
  423: "locked",
  424: "failed dependency",
  500: "internal server error",
  501: "not implemented",
  502: "bad gateway",
  503: "service unavailable",
  504: "gateway timeout",
};

export function reasonPhrase(code: number): string {
  return reasons[code] ?? "unknown";
}

/** An error the API answers with an envelope; thrown by validation and lookups. */
export class PfError extends Error {
  readonly code: number;
  readonly responseId: string;
  readonly headers: Record<string, string>;
  constructor(code: number, responseId: string, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.name = "PfError";
    this.code = code;
    this.responseId = responseId;
    this.headers = headers;
  }
}

export function envelope(
  code: number,
  responseId: string,
  message: string,
  data: Json,
  headers: Record<string, string> = {},
): SimResponse {
  return {
    status: code,
    headers: { "content-type": "application/json", ...headers },
    body: {
      code,
      status: reasonPhrase(code),
      response_id: responseId.toUpperCase(),
      message: message.replace(/["']/g, "`"),
      data,
    },
  };
}

export function success(data: Json): SimResponse {
  return envelope(200, "SUCCESS", "", data);
}

export function errorEnvelope(error: PfError): SimResponse {
  return envelope(error.code, error.responseId, error.message, [], error.headers);
}

/** The generic envelope for a status with no more specific cause (injected faults). */
export function statusEnvelope(code: number, retryAfterSeconds?: number): SimResponse {
  const ids: Record<number, [string, string]> = {
    400: ["BAD_REQUEST", "The request could not be processed."],
    401: ["AUTH_AUTHENTICATION_FAILED", "Authentication failed."],
    403: ["AUTH_AUTHORIZATION_FAILED", "Authorization failed. You do not have sufficient privileges."],
    404: ["NOT_FOUND", "The requested resource was not found."],
    409: ["CONFLICT", "The request conflicts with the current configuration."],
    415: ["UNSUPPORTED_MEDIA_TYPE", "The requested Content-Type is not supported."],
    422: ["UNPROCESSABLE_ENTITY", "The request could not be processed."],
    424: ["FAILED_DEPENDENCY", "A dependency of this request failed."],
    429: ["TOO_MANY_REQUESTS", "Too many requests. Try again later."],
    500: ["SERVER_ERROR", "An unexpected error occurred."],
    503: ["SERVICE_UNAVAILABLE", "The service is temporarily unavailable. Try again later."],
  };
  const [id, message] = ids[code] ?? ["ERROR", "An error occurred."];
  const retryAfter = retryAfterSeconds ?? (code === 503 ? 5 : undefined);
  return envelope(
    code,
    id,
    message,
    [],
    retryAfter === undefined ? {} : { "retry-after": String(retryAfter) },
  );
}

/** What the web server (nginx) answers for a path no endpoint serves: HTML, not an envelope. */
export function nginxNotFound(): SimResponse {
  return {
    status: 404,
    headers: { "content-type": "text/html" },
    body: "<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n<center><h1>404 Not Found</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n",
  };
}
