// The control API over HTTP, under the reserved prefix /__sim/ on the simulator's own port: the demo and a
// human with curl get exactly what SimulatorControl offers in-process. No vendor auth (it is a test
// double), but only loopback peers are served.
import type { IncomingMessage, ServerResponse } from "node:http";
import { prettifyError, ZodError } from "zod";
import { faultSchema } from "./faults.ts";
import { isLoopback, readBody, send } from "./http.ts";
import type { ObjectWriteOptions, SimulatorControl, VendorObject } from "./types.ts";
import { type Json, SimulatorControlError } from "./vendor.ts";

export const CONTROL_PREFIX = "/__sim";

export interface ControlInfo {
  vendor: string;
  url: string;
}

/** Handles one request under /__sim/. `afterResponse` runs once the answer is flushed (used by down). */
export async function handleControlRequest(
  request: IncomingMessage,
  response: ServerResponse,
  url: URL,
  control: SimulatorControl,
  info: () => ControlInfo,
): Promise<void> {
  if (!isLoopback(request.socket.remoteAddress)) {
    send(response, { status: 403, body: { error: "the simulator control API only answers loopback peers" } });
    return;
  }
  try {
    const body = await readBody(request);
    const route = url.pathname.slice(CONTROL_PREFIX.length).replace(/\/+$/, "");
    const segments = route.split("/").filter(Boolean).map(decodeURIComponent);
    const method = request.method ?? "GET";
    const result = await dispatch(method, segments, url.searchParams, body, control, info, response);
    if (result !== undefined) send(response, { status: 200, body: result as Json });
  } catch (error) {
    send(response, errorResponse(error));
  }
}

async function dispatch(
  method: string,
  segments: string[],
  query: URLSearchParams,
  body: string,
  control: SimulatorControl,
  info: () => ControlInfo,
  response: ServerResponse,
): Promise<unknown> {
  const [head, ...rest] = segments;
  const key = `${method} ${head ?? ""}${rest.length > 0 ? `/${"*".repeat(rest.length)}` : ""}`;
  switch (key) {
    case "GET ":
      return { ...info(), kinds: await control.kinds(), endpoints: ENDPOINTS };
    case "POST reset":
      await control.reset();
      return { ok: true };
    case "GET objects/*":
      return control.objects(rest[0] as string);
    case "POST objects/*":
      return { id: await control.putObject(rest[0] as string, parseObject(body), writeOptions(query)) };
    case "PATCH objects/**":
      await control.updateObject(
        rest[0] as string,
        rest[1] as string,
        parseObject(body),
        writeOptions(query),
      );
      return { ok: true };
    case "DELETE objects/**":
      await control.deleteObject(rest[0] as string, rest[1] as string, writeOptions(query));
      return { ok: true };
    case "GET requests": {
      const filter: { method?: string; pathPrefix?: string } = {};
      const m = query.get("method");
      const p = query.get("pathPrefix");
      if (m !== null) filter.method = m;
      if (p !== null) filter.pathPrefix = p;
      return control.requests(filter);
    }
    case "DELETE requests":
      await control.clearRequests();
      return { ok: true };
    case "GET faults":
      return control.faults();
    case "POST faults":
      return { id: await control.injectFault(faultSchema.parse(parseJson(body))) };
    case "DELETE faults":
      await control.clearFaults();
      return { ok: true };
    case "GET stats":
      return control.stats();
    case "PUT credentials":
      await control.setCredentials(parseStringMap(body));
      return { ok: true };
    case "POST up":
      // Reachable only while up: a listener that is down answers nothing. Kept for symmetry.
      await control.up();
      return { ok: true };
    case "POST down": {
      const parsed = body.trim() === "" ? {} : parseJson(body);
      const forMs = isRecord(parsed) && typeof parsed.forMs === "number" ? parsed.forMs : undefined;
      // Answer first: going down destroys every connection, this one included.
      response.once("finish", () => void control.down(forMs === undefined ? {} : { forMs }));
      send(response, { status: 200, body: { ok: true, forMs: forMs ?? null } });
      return undefined;
    }
    default:
      throw new SimulatorControlError(
        404,
        `no control endpoint ${method} ${CONTROL_PREFIX}/${segments.join("/")}`,
      );
  }
}

const ENDPOINTS = [
  "GET    /__sim/                          vendor, url, kinds",
  "POST   /__sim/reset                     initial state (objects, faults, log, stats, sessions)",
  "GET    /__sim/objects/{kind}            {candidate, running, pending}",
  "POST   /__sim/objects/{kind}[?apply=false]      body: object -> {id}",
  "PATCH  /__sim/objects/{kind}/{id}[?apply=false] body: fields to change",
  "DELETE /__sim/objects/{kind}/{id}[?apply=false]",
  "GET    /__sim/requests[?method=&pathPrefix=]   request log (credentials redacted)",
  "DELETE /__sim/requests",
  "GET    /__sim/faults | POST /__sim/faults (body: fault) | DELETE /__sim/faults",
  "GET    /__sim/stats",
  "PUT    /__sim/credentials               body: new credentials",
  'POST   /__sim/down                      body: {"forMs": N} to come back up after N ms',
];

function writeOptions(query: URLSearchParams): ObjectWriteOptions {
  const options: ObjectWriteOptions = {};
  const apply = query.get("apply");
  if (apply !== null) options.apply = apply !== "false" && apply !== "0";
  const position = query.get("position");
  if (position !== null) options.position = Number(position);
  return options;
}

function parseJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    throw new SimulatorControlError(400, "request body is not valid JSON");
  }
}

function parseObject(body: string): VendorObject {
  const parsed = parseJson(body);
  if (!isRecord(parsed)) throw new SimulatorControlError(400, "request body must be a JSON object");
  return parsed;
}

function parseStringMap(body: string): Record<string, string> {
  const parsed = parseObject(body);
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(parsed)) {
    if (typeof value !== "string")
      throw new SimulatorControlError(400, `credential ${name} must be a string`);
    out[name] = value;
  }
  return out;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function errorResponse(error: unknown): { status: number; body: { error: string } } {
  if (error instanceof SimulatorControlError) return { status: error.status, body: { error: error.message } };
  if (error instanceof ZodError)
    return { status: 400, body: { error: `invalid fault: ${prettifyError(error)}` } };
  return { status: 500, body: { error: error instanceof Error ? error.message : String(error) } };
}
