// SimulatorControl over HTTP, for a process that did not start the simulator (the demo, an operator test
// driving a simulator started by `cli.ts`). Same semantics as the in-process control, with one limit:
// `up()` cannot reach a listener that is down, so use `down({ forMs })` from here.
import { Agent, fetch } from "undici";
import type {
  ActiveFault,
  Fault,
  ObjectKind,
  ObjectsView,
  ObjectWriteOptions,
  RequestFilter,
  RequestLogEntry,
  SimulatorControl,
  SimulatorStats,
  VendorObject,
} from "./types.ts";

export interface ControlClientOptions {
  /** PEM of the CA that signed the simulator's certificate (not needed for http:// URLs). */
  caPem?: string;
}

export class SimulatorControlHttpError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.name = "SimulatorControlHttpError";
    this.status = status;
  }
}

export function connectSimulatorControl(
  baseUrl: string,
  options: ControlClientOptions = {},
): SimulatorControl {
  const dispatcher = new Agent({ connect: options.caPem ? { ca: options.caPem } : {} });
  const root = `${baseUrl.replace(/\/+$/, "")}/__sim`;

  async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const init: Parameters<typeof fetch>[1] = { method, dispatcher };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers = { "content-type": "application/json" };
    }
    const response = await fetch(`${root}${path}`, init);
    const text = await response.text();
    const parsed: unknown = text === "" ? undefined : JSON.parse(text);
    if (!response.ok) {
      const message =
        typeof parsed === "object" && parsed !== null && "error" in parsed ? String(parsed.error) : text;
      throw new SimulatorControlHttpError(response.status, message);
    }
    return parsed as T;
  }

  const seg = encodeURIComponent;
  function writeQuery(options: ObjectWriteOptions = {}): string {
    const query = new URLSearchParams();
    if (options.apply !== undefined) query.set("apply", String(options.apply));
    if (options.position !== undefined) query.set("position", String(options.position));
    const text = query.toString();
    return text === "" ? "" : `?${text}`;
  }

  return {
    reset: async () => void (await call("POST", "/reset")),
    kinds: async () => (await call<{ kinds: ObjectKind[] }>("GET", "/")).kinds,
    objects: (kind: ObjectKind) => call<ObjectsView>("GET", `/objects/${seg(kind)}`),
    putObject: async (kind: ObjectKind, object: VendorObject, options?: ObjectWriteOptions) =>
      (await call<{ id: string }>("POST", `/objects/${seg(kind)}${writeQuery(options)}`, object)).id,
    updateObject: async (kind: ObjectKind, id: string, patch: VendorObject, options?: ObjectWriteOptions) =>
      void (await call("PATCH", `/objects/${seg(kind)}/${seg(id)}${writeQuery(options)}`, patch)),
    deleteObject: async (kind: ObjectKind, id: string, options?: ObjectWriteOptions) =>
      void (await call("DELETE", `/objects/${seg(kind)}/${seg(id)}${writeQuery(options)}`)),
    requests: (filter: RequestFilter = {}) => {
      const query = new URLSearchParams();
      if (filter.method !== undefined) query.set("method", filter.method);
      if (filter.pathPrefix !== undefined) query.set("pathPrefix", filter.pathPrefix);
      const text = query.toString();
      return call<RequestLogEntry[]>("GET", `/requests${text === "" ? "" : `?${text}`}`);
    },
    clearRequests: async () => void (await call("DELETE", "/requests")),
    injectFault: async (fault: Fault) => (await call<{ id: string }>("POST", "/faults", fault)).id,
    faults: () => call<ActiveFault[]>("GET", "/faults"),
    clearFaults: async () => void (await call("DELETE", "/faults")),
    down: async (options: { forMs?: number } = {}) => void (await call("POST", "/down", options)),
    up: async () => void (await call("POST", "/up")),
    stats: () => call<SimulatorStats>("GET", "/stats"),
    setCredentials: async (credentials: Record<string, string>) =>
      void (await call("PUT", "/credentials", credentials)),
  };
}
