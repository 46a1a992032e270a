// /healthz and /readyz with named checks (controller-runtime pkg/healthz: per-check subpaths,
// ?verbose, ?exclude=<name>), and /metrics from a prom-client registry. Probes and metrics may share
// one server or use two; ":0" picks a free port (tests).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";

/** Resolves (or returns) when healthy; throws with a reason otherwise. */
export type Check = () => void | Promise<void>;

export interface CheckOutcome {
  status: number;
  body: string;
}

/** Evaluates checks for /healthz or /readyz (pure apart from running the checks). */
export async function evaluateChecks(
  kind: "healthz" | "readyz",
  checks: ReadonlyMap<string, Check>,
  options: { only?: string; verbose?: boolean; exclude?: readonly string[] } = {},
): Promise<CheckOutcome> {
  if (options.only !== undefined) {
    const check = checks.get(options.only);
    if (!check) return { status: 404, body: `no ${kind} check named "${options.only}"\n` };
    const failure = await run(check);
    return failure === undefined
      ? { status: 200, body: "ok" }
      : { status: 500, body: `internal server error: ${failure}\n` };
  }
  const excluded = new Set(options.exclude ?? []);
  const lines: string[] = [];
  let failed = false;
  for (const [name, check] of checks) {
    if (excluded.has(name)) {
      lines.push(`[+]${name} excluded: ok`);
      continue;
    }
    const failure = await run(check);
    if (failure === undefined) lines.push(`[+]${name} ok`);
    else {
      failed = true;
      lines.push(`[-]${name} failed: ${failure}`);
    }
  }
  if (failed) return { status: 500, body: `${lines.join("\n")}\n${kind} check failed\n` };
  if (options.verbose) return { status: 200, body: `${lines.join("\n")}\n${kind} check passed\n` };
  return { status: 200, body: "ok" };
}

async function run(check: Check): Promise<string | undefined> {
  try {
    await check();
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/** ":8081" → all interfaces; "127.0.0.1:0" → loopback, any port; "0" or "" → disabled. */
export function parseAddress(address: string): { host: string | undefined; port: number } | undefined {
  if (address === "" || address === "0") return undefined;
  const colon = address.lastIndexOf(":");
  if (colon < 0) throw new Error(`invalid address "${address}" (use host:port or :port)`);
  const host = address.slice(0, colon).replace(/^\[|\]$/g, "");
  const port = Number(address.slice(colon + 1));
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`invalid port in address "${address}"`);
  return { host: host || undefined, port };
}

export interface ProbeServerOptions {
  /** Serve /healthz and /readyz here; "" or "0" = off. */
  probeAddress: string;
  /** Serve /metrics here; equal to a fixed probeAddress to share that server; "" or "0" = off. */
  metricsAddress: string;
  registry: Registry;
}

export class ProbeServer {
  readonly healthChecks = new Map<string, Check>([["ping", () => {}]]);
  readonly readyChecks = new Map<string, Check>([["ping", () => {}]]);
  readonly #options: ProbeServerOptions;
  #servers: Array<{ server: Server; role: Set<"probes" | "metrics"> }> = [];

  constructor(options: ProbeServerOptions) {
    this.#options = options;
  }

  addHealthzCheck(name: string, check: Check): void {
    this.healthChecks.set(name, check);
  }

  addReadyzCheck(name: string, check: Check): void {
    this.readyChecks.set(name, check);
  }

  async start(): Promise<void> {
    const probe = parseAddress(this.#options.probeAddress);
    const metrics = parseAddress(this.#options.metricsAddress);
    // The same fixed address means one shared server; ":0" twice means two servers on two free ports.
    const shared =
      probe && metrics && probe.port !== 0 && this.#options.probeAddress === this.#options.metricsAddress;
    if (shared) await this.#listen(probe, new Set(["probes", "metrics"]));
    else {
      if (probe) await this.#listen(probe, new Set(["probes"]));
      if (metrics) await this.#listen(metrics, new Set(["metrics"]));
    }
  }

  /** Base URL of the probe server (after start), e.g. http://127.0.0.1:40123. */
  get probeUrl(): string | undefined {
    return this.#urlOf("probes");
  }

  get metricsUrl(): string | undefined {
    return this.#urlOf("metrics");
  }

  async close(): Promise<void> {
    const servers = this.#servers;
    this.#servers = [];
    await Promise.all(
      servers.map(
        ({ server }) =>
          new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeAllConnections();
          }),
      ),
    );
  }

  #urlOf(role: "probes" | "metrics"): string | undefined {
    const entry = this.#servers.find((s) => s.role.has(role));
    const address = entry?.server.address() as AddressInfo | null | undefined;
    if (!address) return undefined;
    const host = address.address === "::" || address.address === "0.0.0.0" ? "127.0.0.1" : address.address;
    return `http://${host.includes(":") ? `[${host}]` : host}:${address.port}`;
  }

  async #listen(
    address: { host: string | undefined; port: number },
    role: Set<"probes" | "metrics">,
  ): Promise<void> {
    const server = createServer((req, res) => {
      this.#handle(req, res, role).catch((error: unknown) => {
        res.statusCode = 500;
        res.end(`internal error: ${error instanceof Error ? error.message : String(error)}\n`);
      });
    });
    server.keepAliveTimeout = 5_000;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(address.port, address.host, () => {
        server.off("error", reject);
        resolve();
      });
    });
    this.#servers.push({ server, role });
  }

  async #handle(req: IncomingMessage, res: ServerResponse, role: Set<"probes" | "metrics">): Promise<void> {
    const url = new URL(req.url ?? "/", "http://probe");
    const send = (status: number, body: string, contentType = "text/plain; charset=utf-8") => {
      res.writeHead(status, { "content-type": contentType, "x-content-type-options": "nosniff" });
      res.end(body);
    };
    if (req.method !== "GET" && req.method !== "HEAD") return send(405, "method not allowed\n");
    if (role.has("metrics") && url.pathname === "/metrics") {
      const registry = this.#options.registry;
      return send(200, await registry.metrics(), registry.contentType);
    }
    const match = /^\/(healthz|readyz)(?:\/([^/]+))?\/?$/.exec(url.pathname);
    if (role.has("probes") && match) {
      const kind = match[1] as "healthz" | "readyz";
      const checks = kind === "healthz" ? this.healthChecks : this.readyChecks;
      const outcome = await evaluateChecks(kind, checks, {
        only: match[2] === undefined ? undefined : decodeURIComponent(match[2]),
        verbose: url.searchParams.has("verbose") && url.searchParams.get("verbose") !== "false",
        exclude: url.searchParams.getAll("exclude"),
      });
      return send(outcome.status, outcome.body);
    }
    send(404, "not found\n");
  }
}
