// Small HTTP helpers shared by the vendor server and the control API.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { SimResponse } from "./vendor.ts";

/** Reads the whole request body as UTF-8 text. Rejects when the client goes away first. */
export function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    request.on("error", reject);
    request.on("aborted", () => reject(new Error("client aborted the request")));
  });
}

/** Writes a simulator response; returns false when the connection is already gone. */
export function send(response: ServerResponse, simResponse: SimResponse): boolean {
  if (response.destroyed || response.headersSent) return false;
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(simResponse.headers ?? {})) headers[name.toLowerCase()] = value;
  if (simResponse.cookies !== undefined && simResponse.cookies.length > 0)
    headers["set-cookie"] = simResponse.cookies;
  let payload = "";
  if (typeof simResponse.body === "string") {
    payload = simResponse.body;
    headers["content-type"] ??= "text/plain; charset=utf-8";
  } else if (simResponse.body !== undefined) {
    payload = JSON.stringify(simResponse.body);
    headers["content-type"] ??= "application/json";
  }
  headers["content-length"] = String(Buffer.byteLength(payload));
  response.writeHead(simResponse.status, headers);
  response.end(payload);
  return true;
}

/** Drops the TCP connection abruptly: an RST when the platform allows it, else a plain destroy. */
export function resetConnection(socket: Socket): void {
  try {
    socket.resetAndDestroy();
  } catch {
    socket.destroy();
  }
}

export function isLoopback(address: string | undefined): boolean {
  if (address === undefined) return false;
  return address === "::1" || address.startsWith("127.") || address.startsWith("::ffff:127.");
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
