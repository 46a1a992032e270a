// Every route the shim serves, grouped by the client family that calls it; the family decides the
// dialect of the answers (dialects.ts). Paths are matched below an optional /vnf/{vnfInstanceId}
// prefix (a per-device broker URL) and an optional /v1 prefix (the scaffold broker's).
import type { Context, HandlerDeps, Route } from "./context.ts";
import type { Reply } from "./dialects.ts";
import { deleteRequest } from "./handlers/delete.ts";
import { createFirewall, getFirewall, listFirewall, updateFirewall } from "./handlers/firewall.ts";
import { createNat } from "./handlers/nat.ts";
import { reconcileNetwork } from "./handlers/reconcile.ts";
import { health, metricsText } from "./handlers/status.ts";

/** Where /metrics and /metrics.prom are served on the broker port. */
export type MetricsAccess = "public" | "token" | "off";

type Handler = (deps: HandlerDeps, ctx: Context, params: string[]) => Promise<Reply>;

const param = (params: string[]) => params[0] ?? "";

export function buildRoutes(deps: HandlerDeps, metrics: MetricsAccess): Route[] {
  const route = (
    method: Route["method"],
    pattern: RegExp,
    name: string,
    access: Route["access"],
    dialect: Route["dialect"],
    handler: Handler,
  ): Route => ({
    method,
    pattern,
    name,
    access,
    dialect,
    handle: (ctx, params) => handler(deps, ctx, params),
  });

  const metricsRoutes =
    metrics === "off"
      ? []
      : [/^\/metrics$/, /^\/metrics\.prom$/].map((pattern) =>
          route("GET", pattern, "metrics", metrics === "token" ? "read" : "public", "enhanced", (d) =>
            metricsText(d),
          ),
        );

  return [
    route("GET", /^\/health$/, "health", "public", "service", (d) => health(d)),
    ...metricsRoutes,

    // CloudStack's client.VnfBrokerClient (the network element, per-device broker URL); the scaffold
    // broker family serves the same paths (and the DELETE …/{ruleId} forms).
    route("POST", /^\/firewall\/rules$/, "firewall.create", "write", "network-element", createFirewall),
    route("POST", /^\/firewall\/rules\/delete$/, "firewall.delete", "write", "network-element", (d, c) =>
      deleteRequest(d, c, "firewall"),
    ),
    route("POST", /^\/nat\/rules$/, "nat.create", "write", "network-element", createNat),
    route("POST", /^\/nat\/rules\/delete$/, "nat.delete", "write", "network-element", (d, c) =>
      deleteRequest(d, c, "nat"),
    ),
    route("GET", /^\/firewall\/rules\/([^/]+)$/, "firewall.get", "read", "network-element", (d, c, p) =>
      getFirewall(d, c, param(p)),
    ),
    route(
      "DELETE",
      /^\/firewall\/rules\/([^/]+)$/,
      "firewall.delete",
      "write",
      "network-element",
      (d, c, p) => deleteRequest(d, c, "firewall", param(p)),
    ),
    route("DELETE", /^\/nat\/rules\/([^/]+)$/, "nat.delete", "write", "network-element", (d, c, p) =>
      deleteRequest(d, c, "nat", param(p)),
    ),

    // CloudStack's broker.VnfBrokerClient (the service, global vnf.broker.url).
    route("POST", /^\/rules\/firewall$/, "rules.firewall.create", "write", "service", createFirewall),
    route("GET", /^\/rules\/firewall$/, "rules.firewall.list", "read", "service", listFirewall),
    route("GET", /^\/rules\/firewall\/([^/]+)$/, "rules.firewall.get", "read", "service", (d, c, p) =>
      getFirewall(d, c, param(p)),
    ),
    route("PUT", /^\/rules\/firewall\/([^/]+)$/, "rules.firewall.update", "write", "service", (d, c, p) =>
      updateFirewall(d, c, param(p)),
    ),
    route("DELETE", /^\/rules\/firewall\/([^/]+)$/, "rules.firewall.delete", "write", "service", (d, c, p) =>
      deleteRequest(d, c, "firewall", param(p)),
    ),
    route("POST", /^\/rules\/nat$/, "rules.nat.create", "write", "service", createNat),
    route("DELETE", /^\/rules\/nat\/([^/]+)$/, "rules.nat.delete", "write", "service", (d, c, p) =>
      deleteRequest(d, c, "nat", param(p)),
    ),
    route("POST", /^\/reconcile\/([^/]+)$/, "reconcile", "write", "service", (d, c, p) =>
      reconcileNetwork(d, c, param(p)),
    ),

    // The enhanced (Flask) broker family.
    route(
      "POST",
      /^\/api\/vnf\/firewall\/create$/,
      "api.firewall.create",
      "write",
      "enhanced",
      createFirewall,
    ),
    route(
      "PUT",
      /^\/api\/vnf\/firewall\/update\/([^/]+)$/,
      "api.firewall.update",
      "write",
      "enhanced",
      (d, c, p) => updateFirewall(d, c, param(p)),
    ),
    route(
      "DELETE",
      /^\/api\/vnf\/firewall\/delete\/([^/]+)$/,
      "api.firewall.delete",
      "write",
      "enhanced",
      (d, c, p) => deleteRequest(d, c, "firewall", param(p)),
    ),
    route("GET", /^\/api\/vnf\/firewall\/list$/, "api.firewall.list", "read", "enhanced", listFirewall),
    route("POST", /^\/api\/vnf\/nat\/create$/, "api.nat.create", "write", "enhanced", createNat),
  ];
}

/** Routes served on a separate metrics listener (--metrics-listen). */
export function metricsOnlyRoutes(deps: HandlerDeps): Route[] {
  return [/^\/metrics$/, /^\/metrics\.prom$/].map((pattern) => ({
    method: "GET" as const,
    pattern,
    name: "metrics",
    access: "public" as const,
    dialect: "service" as const,
    handle: () => metricsText(deps),
  }));
}
