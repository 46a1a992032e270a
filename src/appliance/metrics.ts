// Appliance metrics. Labels carry the vendor, the operation ("firewallRule.create", "activation",
// "health", "auth.login") and the outcome code ("OK" or one of the ten error codes): never a device
// address, a rule, or anything secret.
import { Counter, Histogram, type Registry } from "prom-client";

export interface ApplianceMetrics {
  /** One attempt of an operation against the appliance (retries count separately). */
  observeRequest(labels: { vendor: string; operation: string; code: string }, durationSeconds: number): void;
  observeActivation(labels: { vendor: string; result: "success" | "failure" }): void;
}

export const noopMetrics: ApplianceMetrics = {
  observeRequest: () => undefined,
  observeActivation: () => undefined,
};

export class PromApplianceMetrics implements ApplianceMetrics {
  private readonly requests: Counter<"vendor" | "operation" | "code">;
  private readonly duration: Histogram<"vendor" | "operation">;
  private readonly activations: Counter<"vendor" | "result">;

  constructor(registry: Registry) {
    this.requests = new Counter({
      name: "vnf_appliance_requests_total",
      help: "Operation attempts against appliances, by vendor, operation and outcome code (OK or an error code).",
      labelNames: ["vendor", "operation", "code"],
      registers: [registry],
    });
    this.duration = new Histogram({
      name: "vnf_appliance_request_duration_seconds",
      help: "Duration of operation attempts against appliances.",
      labelNames: ["vendor", "operation"],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [registry],
    });
    this.activations = new Counter({
      name: "vnf_appliance_activations_total",
      help: "Activations (apply, commit) run on appliances, by vendor and result.",
      labelNames: ["vendor", "result"],
      registers: [registry],
    });
  }

  observeRequest(labels: { vendor: string; operation: string; code: string }, durationSeconds: number): void {
    this.requests.inc(labels);
    this.duration.observe({ vendor: labels.vendor, operation: labels.operation }, durationSeconds);
  }

  observeActivation(labels: { vendor: string; result: "success" | "failure" }): void {
    this.activations.inc(labels);
  }
}
