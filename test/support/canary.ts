// A canary for the endpoint policy tests: an HTTPS server on a loopback address the policy refuses
// (127.0.0.2) that records every TCP connection and every request (method, path, all headers, body),
// and answers like an internal service would (200, text that is not JSON, with a recognisable
// secret-looking line: the operator must never copy it into status or Events). A redirector on an
// allowed address answers 302 to the canary. Test doubles only: the operator is the thing under test.
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo, Socket } from "node:net";
import { createCertificateAuthority } from "./pki.ts";

export const CANARY_HOST = "127.0.0.2";
/** A DNS name the tests' injected resolver maps to the canary (no /etc/hosts needed). */
export const CANARY_NAME = "canary.vnf-test.invalid";
/** What the canary answers: an internal service's secret, which must never reach status or Events. */
export const CANARY_TEXT = "INTERNAL-METADATA-TOKEN-7f3a9c";

export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface Canary {
  /** https://127.0.0.2:port */
  url: string;
  port: number;
  caPem: string;
  connections(): number;
  requests(): RecordedRequest[];
  reset(): void;
  stop(): Promise<void>;
}

async function serve(
  host: string,
  names: { ips: string[]; dnsNames: string[] },
  answer: (request: RecordedRequest) => { status: number; headers?: Record<string, string>; body: string },
): Promise<Canary> {
  const ca = await createCertificateAuthority("vnf canary CA");
  const leaf = await ca.issue({ commonName: "canary", ...names, usage: "server" });
  let connections = 0;
  let requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  const server = createHttpsServer({ cert: leaf.certPem, key: leaf.keyPem }, (req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => {
      body += chunk;
    });
    req.on("end", () => {
      const recorded = { method: req.method ?? "", path: req.url ?? "", headers: { ...req.headers }, body };
      requests.push(recorded);
      const reply = answer(recorded);
      res.writeHead(reply.status, { "content-type": "text/plain", ...reply.headers });
      res.end(reply.body);
    });
  });
  server.on("connection", (socket: Socket) => {
    connections++;
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  server.on("tlsClientError", () => {});
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `https://${host.includes(":") ? `[${host}]` : host}:${port}`,
    port,
    caPem: ca.certPem,
    connections: () => connections,
    requests: () => requests,
    reset: () => {
      connections = 0;
      requests = [];
    },
    stop: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The canary on 127.0.0.2; its certificate is valid for the address and CANARY_NAME. */
export function startCanary(): Promise<Canary> {
  return serve(CANARY_HOST, { ips: [CANARY_HOST], dnsNames: [CANARY_NAME] }, () => ({
    status: 200,
    body: `ami-id: i-0123\n${CANARY_TEXT}\n`,
  }));
}

/** An allowed endpoint (127.0.0.1) that redirects every request to `target` (same path). */
export function startRedirector(target: string): Promise<Canary> {
  return serve("127.0.0.1", { ips: ["127.0.0.1"], dnsNames: [] }, (request) => ({
    status: 302,
    headers: { location: `${target}${request.path}` },
    body: "",
  }));
}

/** A resolver for the operator's endpoint policy tests: CANARY_NAME → 127.0.0.2, nothing else. */
export function canaryLookup(
  hostname: string,
  options: { all?: boolean },
  callback: (...args: unknown[]) => void,
): void {
  if (hostname !== CANARY_NAME) {
    callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: "ENOTFOUND" }));
    return;
  }
  if (options.all) callback(null, [{ address: CANARY_HOST, family: 4 }]);
  else callback(null, CANARY_HOST, 4);
}
