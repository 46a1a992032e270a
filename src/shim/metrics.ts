// The shim's Prometheus metrics (its own registry, served on /metrics). Labels are bounded: route
// names, methods, status codes, reasons, states; never subjects, rule ids or tokens.
import { Counter, collectDefaultMetrics, Histogram, Registry } from "prom-client";

export interface ShimMetrics {
  registry: Registry;
  requests: Counter<"method" | "route" | "code">;
  duration: Histogram<"route">;
  rateLimited: Counter;
  jwtInvalid: Counter<"reason">;
  answers: Counter<"kind" | "state">;
}

export function createShimMetrics(defaults = false): ShimMetrics {
  const registry = new Registry();
  if (defaults) collectDefaultMetrics({ register: registry });
  return {
    registry,
    requests: new Counter({
      name: "vnf_shim_http_requests_total",
      help: "HTTP requests answered by the CloudStack shim",
      labelNames: ["method", "route", "code"],
      registers: [registry],
    }),
    duration: new Histogram({
      name: "vnf_shim_request_duration_seconds",
      help: "Time to answer a request, waiting for Ready included",
      labelNames: ["route"],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30],
      registers: [registry],
    }),
    rateLimited: new Counter({
      name: "vnf_shim_rate_limit_blocked_total",
      help: "Requests refused with 429 by the per-subject rate limit",
      registers: [registry],
    }),
    jwtInvalid: new Counter({
      name: "vnf_shim_jwt_invalid_total",
      help: "Requests refused because of their bearer token, by reason",
      labelNames: ["reason"],
      registers: [registry],
    }),
    answers: new Counter({
      name: "vnf_shim_rule_answers_total",
      help: "Rule operations answered, by kind and state (Completed, Failed, Pending)",
      labelNames: ["kind", "state"],
      registers: [registry],
    }),
  };
}
