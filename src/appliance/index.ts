// The appliance layer's public surface: one session per device, its activation coalescer, metrics.
export { ActivationCoalescer, type ActivationMode } from "./activation.ts";
export type { TlsOptions } from "./http.ts";
export { type ApplianceMetrics, noopMetrics, PromApplianceMetrics } from "./metrics.ts";
export {
  type ActivationResult,
  type ApplianceObject,
  ApplianceSession,
  type ApplianceSessionOptions,
  type CreateResult,
  type HealthResult,
  type Position,
  type RenderedOperation,
  type SessionLimits,
  TRANSPORT_RETRY,
  type TransportRetry,
  type WriteInput,
} from "./session.ts";
