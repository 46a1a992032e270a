// One running simulator: an HTTP(S) listener on loopback that routes /__sim/ to the control API and
// everything else through faults and the request log to the vendor's simulation. It can go down (close
// the listener and every connection) and come back on the same port.
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { Socket } from "node:net";
import { CONTROL_PREFIX, handleControlRequest } from "./control-http.ts";
import { FaultBook } from "./faults.ts";
import { delay, readBody, resetConnection, send } from "./http.ts";
import { createRedactor, type Redactor, RequestLog } from "./request-log.ts";
import type {
  ActiveFault,
  CommonSimulatorOptions,
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
import type { SimRequest, SimResponse, VendorCounters, VendorDefinition, VendorSimulator } from "./vendor.ts";

/** Served by a `garbage` fault: looks like the start of JSON, parses as nothing. */
export const GARBAGE_BODY = '{"status":"success","results":[{\u0000\u00ff<html>';

export interface HostTls {
  certPem: string;
  keyPem: string;
}

export class SimulatorHost {
  readonly vendorName: string;
  readonly vendor: VendorSimulator;
  readonly control: SimulatorControl;
  private readonly server: Server;
  private readonly host: string;
  private port: number;
  private readonly secure: boolean;
  private readonly faults = new FaultBook();
  private readonly log: RequestLog;
  private readonly redactor: Redactor;
  private readonly counters: VendorCounters = { applyCount: 0, loginCount: 0, lostWrites: 0, throttled: 0 };
  private readonly sockets = new Set<Socket>();
  private readonly latencyMs: number;
  private inFlight = 0;
  private maxInFlight = 0;
  private listening = false;
  private stopped = false;
  private upTimer: NodeJS.Timeout | undefined;

  constructor(
    definition: VendorDefinition<object>,
    options: CommonSimulatorOptions,
    tls: HostTls | undefined,
  ) {
    this.vendorName = definition.vendor;
    this.host = options.host ?? "127.0.0.1";
    this.port = options.port ?? 0;
    this.secure = tls !== undefined;
    this.latencyMs = options.latencyMs ?? 0;
    this.log = new RequestLog(options.maxLogEntries ?? 10_000);
    this.vendor = definition.create(
      {
        inFlight: () => this.inFlight,
        counters: this.counters,
        now: options.clock ?? (() => Date.now()),
        sleep: delay,
      },
      options,
    );
    this.redactor = createRedactor(this.vendor.redaction, () => this.vendor.credentials);
    const handler = (request: IncomingMessage, response: ServerResponse) =>
      void this.onRequest(request, response);
    this.server = tls
      ? createHttpsServer({ cert: tls.certPem, key: tls.keyPem }, handler)
      : createHttpServer(handler);
    this.server.on("connection", (socket: Socket) => {
      this.sockets.add(socket);
      socket.once("close", () => this.sockets.delete(socket));
    });
    // A client that hangs up mid-handshake is not our problem; never crash the test process over it.
    this.server.on("tlsClientError", () => {});
    this.server.on("clientError", (_error, socket: Socket) => socket.destroy());
    this.control = this.createLocalControl();
  }

  get url(): string {
    const hostPart = this.host.includes(":")
      ? `[${this.host}]`
      : this.host === "0.0.0.0"
        ? "127.0.0.1"
        : this.host;
    return `${this.secure ? "https" : "http"}://${hostPart}:${this.port}`;
  }

  async listen(): Promise<void> {
    if (this.stopped) throw new Error("simulator stopped");
    if (this.listening) return;
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error) => reject(error);
      this.server.once("error", onError);
      this.server.listen(this.port, this.host, () => {
        this.server.off("error", onError);
        resolve();
      });
    });
    const address = this.server.address();
    if (address !== null && typeof address === "object") this.port = address.port;
    this.listening = true;
  }

  async close(): Promise<void> {
    if (!this.listening) return;
    this.listening = false;
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
      for (const socket of this.sockets) socket.destroy();
    });
  }

  async stop(): Promise<void> {
    clearTimeout(this.upTimer);
    this.vendor.dispose();
    await this.close();
    this.stopped = true;
  }

  private async onRequest(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? "/", "http://simulator");
    if (url.pathname === CONTROL_PREFIX || url.pathname.startsWith(`${CONTROL_PREFIX}/`)) {
      await handleControlRequest(request, response, url, this.control, () => ({
        vendor: this.vendorName,
        url: this.url,
      }));
      return;
    }
    await this.onVendorRequest(request, response, url);
  }

  private async onVendorRequest(request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
    const startedAt = performance.now();
    const method = (request.method ?? "GET").toUpperCase();
    const path = (request.url ?? "/").split("?")[0] ?? "/";
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    const entry = this.log.start({
      time: new Date().toISOString(),
      method,
      path,
      query: this.redactor.query(url.searchParams),
      headers: this.redactor.headers(request.headers),
      body: "",
    });
    let heldOpen = false;
    let done = false;
    // "finish" (answer handed to the OS) or "close" (connection gone first), whichever comes first.
    const settle = () => {
      if (done) return;
      done = true;
      this.inFlight -= 1;
      this.log.finish(entry, heldOpen ? "timeout" : "aborted", null, startedAt);
    };
    response.once("finish", settle);
    response.once("close", settle);
    const answer = (simResponse: SimResponse) => {
      if (send(response, simResponse)) this.log.finish(entry, "answered", simResponse.status, startedAt);
      // Settle now, not on "finish": a client in this process may read the answer before it fires.
      settle();
    };

    let body: string;
    try {
      body = await readBody(request);
    } catch {
      return;
    }
    entry.body = this.redactor.text(body);
    const simRequest: SimRequest = {
      method,
      path,
      query: url.searchParams,
      headers: request.headers,
      body,
      remoteAddress: request.socket.remoteAddress ?? "",
    };

    const refusal = this.vendor.admit?.(simRequest);
    if (refusal) {
      answer(refusal);
      return;
    }
    const fault = this.faults.take(method, path, String(request.headers["user-agent"] ?? ""));
    let loseAnswer: { reset: boolean } | undefined;
    if (fault) {
      this.log.markFault(entry, fault.kind);
      switch (fault.kind) {
        case "latency":
          await delay(fault.ms);
          break;
        case "timeout":
          heldOpen = true;
          return;
        case "reset":
          this.log.finish(entry, "reset", null, startedAt);
          resetConnection(request.socket);
          settle();
          return;
        case "garbage":
          answer({
            status: 200,
            headers: { "content-type": "application/json" },
            body: fault.body ?? GARBAGE_BODY,
          });
          return;
        case "status": {
          const base =
            fault.body !== undefined
              ? { status: fault.status, body: fault.body }
              : this.vendor.errorResponse(fault.status, simRequest);
          answer({ ...base, headers: { ...base.headers, ...fault.headers } });
          return;
        }
        case "rateLimit":
          answer(this.vendor.rateLimitResponse(fault.retryAfterSeconds ?? 1, simRequest, fault.status));
          return;
        case "authExpire":
          this.vendor.expireSessions();
          answer(this.vendor.authFailureResponse(simRequest));
          return;
        case "lostAnswer":
          loseAnswer = { reset: fault.reset ?? false };
          break;
      }
    }

    if (this.latencyMs > 0) await delay(this.latencyMs);
    if (response.destroyed) return;
    let simResponse: SimResponse;
    try {
      simResponse = await this.vendor.handle(simRequest);
    } catch (error) {
      // A simulator bug must look like an appliance 500, and still be visible to whoever debugs it.
      console.error(`[${this.vendorName} simulator] unexpected error:`, error);
      simResponse = this.vendor.errorResponse(500, simRequest);
    }
    if (simResponse.affected) entry.affected = simResponse.affected;
    if (loseAnswer?.reset) {
      this.log.finish(entry, "reset", null, startedAt);
      resetConnection(request.socket);
      settle();
      return;
    }
    if (loseAnswer) {
      heldOpen = true;
      return;
    }
    answer(simResponse);
  }

  private createLocalControl(): SimulatorControl {
    return {
      reset: async () => {
        this.vendor.reset();
        this.faults.clear();
        this.log.clear();
        this.log.resetCounter();
        this.counters.applyCount = 0;
        this.counters.loginCount = 0;
        this.counters.lostWrites = 0;
        this.counters.throttled = 0;
        this.maxInFlight = this.inFlight;
      },
      kinds: async () => [...this.vendor.kinds],
      objects: async (kind: ObjectKind): Promise<ObjectsView> => this.vendor.objects(kind),
      putObject: async (kind: ObjectKind, object: VendorObject, options: ObjectWriteOptions = {}) =>
        this.vendor.putObject(kind, object, options),
      updateObject: async (
        kind: ObjectKind,
        id: string,
        patch: VendorObject,
        options: ObjectWriteOptions = {},
      ) => this.vendor.updateObject(kind, id, patch, options),
      deleteObject: async (kind: ObjectKind, id: string, options: ObjectWriteOptions = {}) =>
        this.vendor.deleteObject(kind, id, options),
      requests: async (filter?: RequestFilter): Promise<RequestLogEntry[]> => this.log.list(filter),
      clearRequests: async () => this.log.clear(),
      injectFault: async (fault: Fault) => this.faults.add(fault),
      faults: async (): Promise<ActiveFault[]> => this.faults.list(),
      clearFaults: async () => this.faults.clear(),
      down: async (options: { forMs?: number } = {}) => {
        clearTimeout(this.upTimer);
        await this.close();
        if (options.forMs !== undefined) {
          this.upTimer = setTimeout(() => {
            this.listen().catch((error: unknown) =>
              console.error(`[${this.vendorName} simulator] up failed:`, error),
            );
          }, options.forMs);
        }
      },
      up: async () => {
        clearTimeout(this.upTimer);
        await this.listen();
      },
      stats: async (): Promise<SimulatorStats> => ({
        requests: this.log.total,
        inFlight: this.inFlight,
        maxInFlight: this.maxInFlight,
        ...this.counters,
      }),
      setCredentials: async (credentials: Record<string, string>) => this.vendor.setCredentials(credentials),
    };
  }
}
