// Prometheus metrics with controller-runtime's and client-go's names (existing dashboards work), in a
// registry owned by the manager (not prom-client's global one, so two managers in one process don't
// collide).
// Domain metrics (appliance requests, drift repairs, ...) register on the same `registry`.
import { Counter, exponentialBuckets, Gauge, Histogram, Registry } from "prom-client";
import type { KubeHttp } from "./kube-http.ts";
import type { InFlightStats, WorkQueueMetricsSink } from "./workqueue.ts";

export const RECONCILE_RESULTS = ["success", "error", "requeue", "requeue_after"] as const;
export type ReconcileResultLabel = (typeof RECONCILE_RESULTS)[number];

/** controller-runtime pkg/internal/controller/metrics: 5 ms … 60 s. */
const RECONCILE_TIME_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.25,
  1.5, 1.75, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60,
];
/** client-go workqueue: 1e-8 s ×10, twelve buckets. */
const WORKQUEUE_BUCKETS = exponentialBuckets(1e-8, 10, 12);

interface TrackedQueue {
  name: string;
  stats: () => InFlightStats;
}

export class RuntimeMetrics {
  readonly registry: Registry;
  readonly reconcileTotal: Counter<"controller" | "result">;
  readonly reconcileErrors: Counter<"controller">;
  readonly terminalReconcileErrors: Counter<"controller">;
  readonly reconcilePanics: Counter<"controller">;
  readonly reconcileTimeouts: Counter<"controller">;
  readonly reconcileTime: Histogram<"controller">;
  readonly maxConcurrentReconciles: Gauge<"controller">;
  readonly activeWorkers: Gauge<"controller">;
  readonly workqueueDepth: Gauge<"name" | "controller" | "priority">;
  readonly workqueueAdds: Counter<"name" | "controller">;
  readonly workqueueQueueDuration: Histogram<"name" | "controller">;
  readonly workqueueWorkDuration: Histogram<"name" | "controller">;
  readonly workqueueUnfinishedWork: Gauge<"name" | "controller">;
  readonly workqueueLongestRunning: Gauge<"name" | "controller">;
  readonly workqueueRetries: Counter<"name" | "controller">;
  readonly restClientRequests: Counter<"code" | "method" | "host">;
  readonly restClientRequestDuration: Histogram<"verb" | "host">;
  readonly leaderElectionMasterStatus: Gauge<"name">;
  readonly #queues: TrackedQueue[] = [];

  constructor(registry: Registry = new Registry()) {
    this.registry = registry;
    const registers = [registry];
    const queues = this.#queues;
    this.reconcileTotal = new Counter({
      name: "controller_runtime_reconcile_total",
      help: "Total number of reconciliations per controller",
      labelNames: ["controller", "result"],
      registers,
    });
    this.reconcileErrors = new Counter({
      name: "controller_runtime_reconcile_errors_total",
      help: "Total number of reconciliation errors per controller",
      labelNames: ["controller"],
      registers,
    });
    this.terminalReconcileErrors = new Counter({
      name: "controller_runtime_terminal_reconcile_errors_total",
      help: "Total number of terminal reconciliation errors per controller",
      labelNames: ["controller"],
      registers,
    });
    this.reconcilePanics = new Counter({
      name: "controller_runtime_reconcile_panics_total",
      help: "Total number of reconciliation panics (programming errors caught) per controller",
      labelNames: ["controller"],
      registers,
    });
    this.reconcileTimeouts = new Counter({
      name: "controller_runtime_reconcile_timeouts_total",
      help: "Total number of reconciliation timeouts per controller",
      labelNames: ["controller"],
      registers,
    });
    this.reconcileTime = new Histogram({
      name: "controller_runtime_reconcile_time_seconds",
      help: "Length of time per reconciliation per controller",
      labelNames: ["controller"],
      buckets: RECONCILE_TIME_BUCKETS,
      registers,
    });
    this.maxConcurrentReconciles = new Gauge({
      name: "controller_runtime_max_concurrent_reconciles",
      help: "Maximum number of concurrent reconciles per controller",
      labelNames: ["controller"],
      registers,
    });
    this.activeWorkers = new Gauge({
      name: "controller_runtime_active_workers",
      help: "Number of currently used workers per controller",
      labelNames: ["controller"],
      registers,
    });
    this.workqueueDepth = new Gauge({
      name: "workqueue_depth",
      help: "Current depth of workqueue by workqueue and priority",
      labelNames: ["name", "controller", "priority"],
      registers,
    });
    this.workqueueAdds = new Counter({
      name: "workqueue_adds_total",
      help: "Total number of adds handled by workqueue",
      labelNames: ["name", "controller"],
      registers,
    });
    this.workqueueQueueDuration = new Histogram({
      name: "workqueue_queue_duration_seconds",
      help: "How long in seconds an item stays in workqueue before being requested",
      labelNames: ["name", "controller"],
      buckets: WORKQUEUE_BUCKETS,
      registers,
    });
    this.workqueueWorkDuration = new Histogram({
      name: "workqueue_work_duration_seconds",
      help: "How long in seconds processing an item from workqueue takes",
      labelNames: ["name", "controller"],
      buckets: WORKQUEUE_BUCKETS,
      registers,
    });
    this.workqueueUnfinishedWork = new Gauge({
      name: "workqueue_unfinished_work_seconds",
      help: "How many seconds of work has been done that is in progress and hasn't been observed by work_duration",
      labelNames: ["name", "controller"],
      registers,
      collect() {
        for (const q of queues) this.set({ name: q.name, controller: q.name }, q.stats().unfinishedSeconds);
      },
    });
    this.workqueueLongestRunning = new Gauge({
      name: "workqueue_longest_running_processor_seconds",
      help: "How many seconds has the longest running processor for workqueue been running",
      labelNames: ["name", "controller"],
      registers,
      collect() {
        for (const q of queues) this.set({ name: q.name, controller: q.name }, q.stats().longestSeconds);
      },
    });
    this.workqueueRetries = new Counter({
      name: "workqueue_retries_total",
      help: "Total number of retries handled by workqueue",
      labelNames: ["name", "controller"],
      registers,
    });
    this.restClientRequests = new Counter({
      name: "rest_client_requests_total",
      help: "Number of HTTP requests to the API server, partitioned by status code, method, and host",
      labelNames: ["code", "method", "host"],
      registers,
    });
    this.restClientRequestDuration = new Histogram({
      name: "rest_client_request_duration_seconds",
      help: "Request latency in seconds, broken down by verb and host",
      labelNames: ["verb", "host"],
      buckets: [0.005, 0.025, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60],
      registers,
    });
    this.leaderElectionMasterStatus = new Gauge({
      name: "leader_election_master_status",
      help: "Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master",
      labelNames: ["name"],
      registers,
    });
  }

  /** Pre-initialises a controller's series to 0, as controller-runtime does. */
  initController(controller: string, maxConcurrentReconciles: number): void {
    for (const result of RECONCILE_RESULTS) this.reconcileTotal.inc({ controller, result }, 0);
    this.reconcileErrors.inc({ controller }, 0);
    this.terminalReconcileErrors.inc({ controller }, 0);
    this.reconcilePanics.inc({ controller }, 0);
    this.reconcileTimeouts.inc({ controller }, 0);
    this.maxConcurrentReconciles.set({ controller }, maxConcurrentReconciles);
    this.activeWorkers.set({ controller }, 0);
    const labels = { name: controller, controller };
    this.workqueueAdds.inc(labels, 0);
    this.workqueueRetries.inc(labels, 0);
    this.workqueueDepth.set({ ...labels, priority: "0" }, 0);
  }

  /** A WorkQueue metrics sink labelled with the controller's name (client-go uses it for both labels). */
  workQueueSink(controller: string): WorkQueueMetricsSink {
    const labels = { name: controller, controller };
    return {
      added: () => this.workqueueAdds.inc(labels),
      depth: (priority, depth) => this.workqueueDepth.set({ ...labels, priority: String(priority) }, depth),
      queued: (seconds) => this.workqueueQueueDuration.observe(labels, seconds),
      worked: (seconds) => this.workqueueWorkDuration.observe(labels, seconds),
      retried: () => this.workqueueRetries.inc(labels),
    };
  }

  /** Reports a queue's in-flight work at scrape time (unfinished / longest-running gauges). */
  trackQueue(name: string, stats: () => InFlightStats): void {
    this.#queues.push({ name, stats });
  }

  /** Counts every request a KubeHttp sends; returns a function that stops counting. */
  observeKubeHttp(http: KubeHttp): () => void {
    return http.observe(({ method, host, code, seconds }) => {
      this.restClientRequests.inc({ code, method, host });
      this.restClientRequestDuration.observe({ verb: method, host }, seconds);
    });
  }
}
