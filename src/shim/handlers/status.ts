// GET /health (both broker families check it) and the Prometheus metrics.
import type { HandlerDeps } from "../context.ts";
import type { Reply } from "../dialects.ts";

/**
 * status healthy|unhealthy (200|503), timestamp, kubernetes reachable|unreachable, and redis: the
 * shim keeps no state of its own (the API server is its store), so "not-used" — present because the
 * enhanced broker family's health check requires the member.
 */
export async function health(deps: HandlerDeps): Promise<Reply> {
  const timestamp = new Date().toISOString();
  try {
    await deps.kube.ping();
    return {
      status: 200,
      body: { status: "healthy", timestamp, kubernetes: "reachable", redis: "not-used" },
    };
  } catch (error) {
    deps.log.warn(
      { err: error instanceof Error ? error.message : String(error) },
      "health: API server not reachable",
    );
    return {
      status: 503,
      body: { status: "unhealthy", timestamp, kubernetes: "unreachable", redis: "not-used" },
    };
  }
}

export async function metricsText(deps: HandlerDeps): Promise<Reply> {
  return {
    status: 200,
    body: await deps.metrics.registry.metrics(),
    contentType: deps.metrics.registry.contentType,
  };
}
