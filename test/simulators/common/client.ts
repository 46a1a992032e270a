// A raw HTTP client for a simulator's vendor API (tests, demo scripts): undici fetch with a dispatcher that
// trusts the simulator's CA, answers read whole. It sends exactly what it is given: no auth, no retries.
import { Agent, fetch } from "undici";
import type { SimulatorHandle } from "./types.ts";

export interface RawResponse {
  status: number;
  headers: Headers;
  text: string;
  /** The body parsed as JSON; throws when it is not JSON. */
  json<T = unknown>(): T;
}

export interface RawRequestInit {
  headers?: Record<string, string>;
  /** A string is sent as is; anything else as JSON with content-type application/json. */
  body?: unknown;
  query?: Record<string, string | number | boolean>;
  signal?: AbortSignal;
}

export interface RawClient {
  request(method: string, path: string, init?: RawRequestInit): Promise<RawResponse>;
  close(): Promise<void>;
}

export function rawClient(handle: Pick<SimulatorHandle, "url" | "caPem">): RawClient {
  const dispatcher = new Agent({ connect: handle.caPem === "" ? {} : { ca: handle.caPem } });
  return {
    async request(method, path, init = {}) {
      const url = new URL(path, handle.url);
      for (const [name, value] of Object.entries(init.query ?? {}))
        url.searchParams.append(name, String(value));
      const headers: Record<string, string> = { ...init.headers };
      let body: string | undefined;
      if (typeof init.body === "string") body = init.body;
      else if (init.body !== undefined) {
        body = JSON.stringify(init.body);
        headers["content-type"] ??= "application/json";
      }
      const requestInit: Parameters<typeof fetch>[1] = { method, headers, dispatcher };
      if (body !== undefined) requestInit.body = body;
      if (init.signal !== undefined) requestInit.signal = init.signal;
      const response = await fetch(url, requestInit);
      const text = await response.text();
      return {
        status: response.status,
        headers: response.headers as unknown as Headers,
        text,
        json: <T>() => JSON.parse(text) as T,
      };
    },
    close: () => dispatcher.close(),
  };
}

/** `Authorization: Basic` for a username/password pair. */
export function basicAuth(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
}
