// A scripted, plain-HTTP stand-in for the API server, ONLY for fault paths the real one will not
// produce on demand (410 Gone on a watch, a watch that goes silent, 403/500 on a list). Happy paths
// are tested against the real kube-apiserver.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { KubeConfig } from "@kubernetes/client-node";

export interface FakeRequest {
  method: string;
  path: string;
  query: URLSearchParams;
}

/** A watch request the test answers: open it and stream events, fail it, or leave it silent. */
export class FakeWatch {
  readonly request: FakeRequest;
  readonly #res: ServerResponse;
  /** Resolves when the client (or we) closed the connection. */
  readonly closed: Promise<void>;
  #open = false;

  constructor(request: FakeRequest, req: IncomingMessage, res: ServerResponse) {
    this.request = request;
    this.#res = res;
    this.closed = new Promise((resolve) => {
      res.on("close", () => resolve());
      req.on("close", () => resolve());
    });
  }

  /** Sends 200 and the headers of a chunked stream (no event yet). */
  open(): void {
    if (this.#open) return;
    this.#open = true;
    this.#res.writeHead(200, { "content-type": "application/json", "transfer-encoding": "chunked" });
    this.#res.flushHeaders();
  }

  send(type: string, object: unknown): void {
    this.open();
    this.#res.write(`${JSON.stringify({ type, object })}\n`);
  }

  /** Answers the watch request itself with an error status. */
  fail(status: number, reason: string, message = reason): void {
    this.#res.writeHead(status, { "content-type": "application/json" });
    this.#res.end(
      JSON.stringify({ kind: "Status", apiVersion: "v1", status: "Failure", code: status, reason, message }),
    );
  }

  /** Ends the stream cleanly (as the server does at timeoutSeconds). */
  end(): void {
    this.open();
    this.#res.end();
  }

  /** Drops the connection abruptly. */
  destroy(): void {
    this.#res.socket?.destroy();
  }
}

export type ListAnswer = { status: number; body: unknown };

export class FakeApiServer {
  readonly requests: FakeRequest[] = [];
  readonly watches: FakeWatch[] = [];
  /** Answers list (and other non-watch) requests. */
  onRequest: (req: FakeRequest) => ListAnswer = () => ({ status: 404, body: status(404, "NotFound") });
  /** Called for each watch request; default: open it and keep it silent. */
  onWatch: (watch: FakeWatch) => void = (watch) => watch.open();
  readonly #server: Server;
  readonly #waiters: Array<() => void> = [];

  private constructor(server: Server) {
    this.#server = server;
  }

  static async start(): Promise<FakeApiServer> {
    let fake!: FakeApiServer;
    const server = createServer((req, res) => fake.#handle(req, res));
    fake = new FakeApiServer(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return fake;
  }

  get url(): string {
    const { port } = this.#server.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  /** A KubeConfig pointing at this server (plain HTTP, a dummy token). */
  kubeConfig(): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: "fake", server: this.url, skipTLSVerify: true }],
      users: [{ name: "fake", token: "fake-token" }],
      contexts: [{ name: "fake", cluster: "fake", user: "fake" }],
      currentContext: "fake",
    });
    return kc;
  }

  lists(): FakeRequest[] {
    return this.requests.filter((r) => r.method === "GET" && r.query.get("watch") === null);
  }

  /** Resolves once the n-th watch request (1-based) has arrived. */
  async waitForWatch(n: number, timeoutMs = 15_000): Promise<FakeWatch> {
    const deadline = Date.now() + timeoutMs;
    while (this.watches.length < n) {
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for watch #${n} (saw ${this.watches.length})`);
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 50).unref();
      });
    }
    return this.watches[n - 1]!;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? "/", this.url);
    const request: FakeRequest = { method: req.method ?? "GET", path: url.pathname, query: url.searchParams };
    this.requests.push(request);
    if (request.method === "GET" && url.searchParams.get("watch") !== null) {
      const watch = new FakeWatch(request, req, res);
      this.watches.push(watch);
      this.onWatch(watch);
      for (const wake of this.#waiters.splice(0)) wake();
      return;
    }
    const answer = this.onRequest(request);
    res.writeHead(answer.status, { "content-type": "application/json" });
    res.end(JSON.stringify(answer.body));
  }
}

export function status(code: number, reason: string, message = reason) {
  return { kind: "Status", apiVersion: "v1", status: "Failure", code, reason, message };
}

export function configMapList(resourceVersion: string, names: string[], namespace = "ns") {
  return {
    kind: "ConfigMapList",
    apiVersion: "v1",
    metadata: { resourceVersion },
    // an item's resourceVersion depends on its name only, so an unchanged object looks unchanged
    items: names.map((name) => ({
      metadata: { name, namespace, resourceVersion: String(name.charCodeAt(0)), managedFields: [{}] },
      data: {},
    })),
  };
}
