// The endpoint policy applied where it cannot be dodged: on every connection, to the address actually
// dialled. A host that is an IP address in any spelling (2130706434, 0x7f000002, [::ffff:7f00:2])
// reaches here already normalised by the URL parser and is checked before dialling; a DNS name is
// resolved through a lookup that refuses the connection when any of its addresses is forbidden (no
// TOCTOU: the checked address is the one dialled); and the connected socket's remote address is
// checked once more before a single byte of HTTP — credentials included — is written. Redirects are
// never followed (undici's request() does not), so a 30x from an allowed host leads nowhere.
import { lookup as dnsLookup } from "node:dns";
import { isIP, type LookupFunction, type Socket } from "node:net";
import { buildConnector } from "undici";
import type { EndpointPolicy, Verdict } from "./endpoint-policy.ts";

/** The connection was refused by the endpoint policy (nothing was sent). */
export class EndpointRefused extends Error {
  readonly host: string;
  readonly address: string;
  readonly reason: string;
  readonly overridable: boolean;
  constructor(host: string, verdict: Extract<Verdict, { allowed: false }>) {
    const resolved = host === verdict.address ? host : `${host} (${verdict.address})`;
    super(`the endpoint ${resolved} is ${verdict.reason}, where the operator does not send credentials`);
    this.name = "EndpointRefused";
    this.host = host;
    this.address = verdict.address;
    this.reason = verdict.reason;
    this.overridable = verdict.overridable;
  }
}

export interface EndpointGuard {
  policy: EndpointPolicy;
  /** DNS resolution (default: the system resolver). Tests inject names that resolve to loopback. */
  lookup?: LookupFunction;
}

type LookupAddress = { address: string; family: number };

/** A resolver that fails when any address of the name is forbidden. */
function policyLookup(guard: EndpointGuard): LookupFunction {
  const resolve = guard.lookup ?? (dnsLookup as unknown as LookupFunction);
  return ((hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    resolve(hostname, { ...options, all: true }, ((error: Error | null, addresses: LookupAddress[]) => {
      if (error) return callback(error);
      const list = Array.isArray(addresses) ? addresses : [];
      // One forbidden address refuses the name: DNS answers may rotate between connections.
      for (const entry of list) {
        const verdict = guard.policy.check(entry.address);
        if (!verdict.allowed) return callback(new EndpointRefused(hostname, verdict));
      }
      const [first] = list;
      if (!first)
        return callback(Object.assign(new Error(`${hostname} has no address`), { code: "ENOTFOUND" }));
      if (options.all) return callback(null, list);
      return callback(null, first.address, first.family);
    }) as never);
  }) as unknown as LookupFunction;
}

/** An undici connector (Agent `connect` option) that enforces the endpoint policy. */
export function guardedConnector(
  options: buildConnector.BuildOptions,
  guard: EndpointGuard,
): buildConnector.connector {
  const base = buildConnector({ ...options, lookup: policyLookup(guard) } as buildConnector.BuildOptions);
  return (connectOptions, callback) => {
    const host = connectOptions.hostname.replace(/^\[(.*)\]$/, "$1");
    if (isIP(host) !== 0) {
      const verdict = guard.policy.check(host);
      if (!verdict.allowed) {
        callback(new EndpointRefused(host, verdict), null);
        return;
      }
    }
    base(connectOptions, (error, socket) => {
      if (error || !socket) {
        callback(error ?? new Error("no socket"), null);
        return;
      }
      const remote = (socket as Socket).remoteAddress;
      const verdict = remote === undefined ? undefined : guard.policy.check(remote);
      if (verdict && !verdict.allowed) {
        socket.destroy();
        callback(new EndpointRefused(host, verdict), null);
        return;
      }
      callback(null, socket);
    });
  };
}

/** The EndpointRefused behind an undici error, if that is what it is. */
export function endpointRefusal(error: unknown): EndpointRefused | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current && typeof current === "object"; depth++) {
    if (current instanceof EndpointRefused) return current;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}
