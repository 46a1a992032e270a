// The types that tie routes, the request pipeline and the handlers together.
import type http from "node:http";
import type { Logger } from "pino";
import type { Dialect, Reply } from "./dialects.ts";
import type { ShimKube } from "./kube.ts";
import type { ShimMetrics } from "./metrics.ts";
import type { WaitOptions } from "./waiting.ts";

/** What a route needs from the caller's token: nothing, scope vnf:r (or vnf:rw), or vnf:rw. */
export type Access = "public" | "read" | "write";

export interface Context {
  req: http.IncomingMessage;
  url: URL;
  /** The path below any /vnf/{id} or /v1 prefix. */
  path: string;
  /** The instance id of a /vnf/{id} prefix. */
  pathInstance: string | undefined;
  requestId: string;
  /** The client family whose routes these are: how outcomes and failures are told. */
  dialect: Dialect;
  /** The JSON body (undefined when empty); read once. */
  body(): Promise<unknown>;
}

export interface Route {
  method: "GET" | "POST" | "PUT" | "DELETE";
  pattern: RegExp;
  /** A bounded name for logs and metrics (never a rule id). */
  name: string;
  access: Access;
  dialect: Dialect;
  handle(ctx: Context, params: string[]): Promise<Reply>;
}

/** What handlers work with. */
export interface HandlerDeps {
  kube: ShimKube;
  log: Logger;
  metrics: ShimMetrics;
  /** The namespaces whose VnfDevices CloudStack may name (for messages). */
  namespaces: readonly string[];
  wait: WaitOptions;
  /** Interface for rules whose request names none, when the device has no default either. */
  defaultInterface: string | undefined;
  /** CloudStack vendor names (X-VNF-Vendor, normalised) → VnfDevice spec.vendor. */
  vendorAliases: Readonly<Record<string, string>>;
}
