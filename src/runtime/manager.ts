// The Manager owns what controllers share (controller-runtime's split): the informers (one per
// resource + scope + selector), the metrics registry, the probe/metrics servers, leader election and
// the shutdown order. Caches run on every replica (a follower is warm when it takes over); controllers
// and leader-only runnables start only once this replica leads and their caches have synced.
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import type { Clock } from "./clock.ts";
import { systemClock } from "./clock.ts";
import { Controller, type ControllerOptions } from "./controller.ts";
import { Informer, type InformerOptions } from "./informer.ts";
import { KubeHttp } from "./kube-http.ts";
import type { KubeConfigSource } from "./kubeconfig.ts";
import { type LeaderElectionOptions, LeaderElector } from "./leader-election.ts";
import { type Logger, silentLogger } from "./logging.ts";
import { RuntimeMetrics } from "./metrics.ts";
import { type Check, ProbeServer } from "./probes.ts";
import type { KubeObject, ResourceType } from "./resource.ts";

export interface ManagerOptions {
  kubeConfig: KubeConfigSource;
  logger?: Logger;
  /** Default namespaces of informers: undefined or [] = all namespaces. */
  namespaces?: readonly string[];
  /** Off when undefined. identity defaults to hostname_uuid. */
  leaderElection?: Omit<LeaderElectionOptions, "identity"> & { identity?: string };
  /** Default ":8081"; "0" disables. */
  probeAddress?: string;
  /** Default ":8080"; "0" disables; equal to probeAddress to share one server. */
  metricsAddress?: string;
  /** Budget for in-flight reconciles to finish on shutdown; default 30 s. */
  gracefulShutdownTimeoutMs?: number;
  /** Default for controllers; 2 min. */
  cacheSyncTimeoutMs?: number;
  metrics?: RuntimeMetrics;
  clock?: Clock;
  /** Defaults for every informer (watch timeouts, idle watchdog, backoff…); tests shorten them. */
  informerDefaults?: Partial<Omit<InformerOptions, "resource">>;
}

export interface ManagerExit {
  exitCode: number;
  reason: string;
}

export interface InformerSelection {
  namespaces?: readonly string[];
  labelSelector?: string;
  fieldSelector?: string;
  /** The cache transform (InformerOptions.transform); the informer's first user sets it. */
  transform?: InformerOptions["transform"];
}

/** Something the manager starts and stops: gets a signal aborted at shutdown, resolves when done. */
export type Runnable = (signal: AbortSignal) => Promise<void>;

export class Manager {
  readonly kubeConfig: KubeConfigSource;
  readonly http: KubeHttp;
  readonly metrics: RuntimeMetrics;
  readonly log: Logger;
  readonly probes: ProbeServer;
  readonly identity: string;
  readonly done: Promise<ManagerExit>;
  readonly #options: ManagerOptions;
  readonly #clock: Clock;
  readonly #informers = new Map<string, Informer<KubeObject>>();
  readonly #controllers: Controller[] = [];
  readonly #runnables: Array<{ name: string; run: Runnable; needLeaderElection: boolean }> = [];
  readonly #leaderWork = new AbortController();
  readonly #anyWork = new AbortController();
  readonly #electionStop = new AbortController();
  readonly #workers: Promise<void>[] = [];
  #elector: LeaderElector | undefined;
  #election: Promise<void> | undefined;
  #started = false;
  #stopping: Promise<ManagerExit> | undefined;
  #resolveDone!: (exit: ManagerExit) => void;
  #leading = false;
  #electedWaiters: Array<{ resolve: () => void; reject: (error: Error) => void }> = [];

  constructor(options: ManagerOptions) {
    this.#options = options;
    this.kubeConfig = options.kubeConfig;
    this.http = KubeHttp.for(options.kubeConfig);
    this.metrics = options.metrics ?? new RuntimeMetrics();
    this.log = options.logger ?? silentLogger;
    this.#clock = options.clock ?? systemClock;
    this.identity = options.leaderElection?.identity ?? `${hostname()}_${randomUUID()}`;
    this.probes = new ProbeServer({
      probeAddress: options.probeAddress ?? ":8081",
      metricsAddress: options.metricsAddress ?? ":8080",
      registry: this.metrics.registry,
    });
    this.probes.addReadyzCheck("informers-synced", () => {
      const pending = [...this.#informers.values()]
        .filter((i) => !i.hasSynced())
        .map((i) => i.resource.plural);
      if (pending.length > 0) throw new Error(`caches not synced yet: ${pending.join(", ")}`);
    });
    this.done = new Promise((resolve) => {
      this.#resolveDone = resolve;
    });
  }

  /** The shared informer for a resource and scope (created on first use, started with the manager). */
  informer<T extends KubeObject = KubeObject>(
    resource: ResourceType,
    selection: InformerSelection = {},
  ): Informer<T> {
    const namespaces = [...(selection.namespaces ?? this.#options.namespaces ?? [])].sort();
    const id = JSON.stringify([
      resource.group,
      resource.version,
      resource.plural,
      resource.namespaced ? namespaces : [],
      selection.labelSelector ?? "",
      selection.fieldSelector ?? "",
    ]);
    let informer = this.#informers.get(id);
    if (!informer) {
      informer = new Informer<KubeObject>(this.http, {
        ...this.#options.informerDefaults,
        resource,
        namespaces,
        labelSelector: selection.labelSelector,
        fieldSelector: selection.fieldSelector,
        ...(selection.transform ? { transform: selection.transform } : {}),
        logger: this.log,
        clock: this.#clock,
      });
      this.#informers.set(id, informer);
      if (this.#started && !this.#stopping) informer.start();
    }
    return informer as unknown as Informer<T>;
  }

  /** Creates a controller that starts when this replica leads (see Controller for the options). */
  addController<T extends KubeObject>(
    options: Omit<ControllerOptions<T>, "logger" | "metrics" | "clock">,
  ): Controller {
    if (this.#controllers.some((c) => c.name === options.name)) {
      throw new Error(`a controller named "${options.name}" already exists (names label metrics and logs)`);
    }
    const controller = new Controller({
      cacheSyncTimeoutMs: this.#options.cacheSyncTimeoutMs,
      ...(options as unknown as ControllerOptions),
      logger: this.log,
      metrics: this.metrics,
      clock: this.#clock,
    });
    this.#controllers.push(controller);
    if (this.#leading) this.#startController(controller);
    return controller;
  }

  /** Adds a long-running task (e.g. a periodic job); by default only the leader runs it. */
  addRunnable(name: string, run: Runnable, options: { needLeaderElection?: boolean } = {}): void {
    const runnable = { name, run, needLeaderElection: options.needLeaderElection ?? true };
    this.#runnables.push(runnable);
    if (this.#started && (!runnable.needLeaderElection || this.#leading)) this.#startRunnable(runnable);
  }

  addHealthzCheck(name: string, check: Check): void {
    this.probes.addHealthzCheck(name, check);
  }

  addReadyzCheck(name: string, check: Check): void {
    this.probes.addReadyzCheck(name, check);
  }

  isLeader(): boolean {
    return this.#leading;
  }

  /** Resolves once this replica leads (at once without leader election); rejects if it stops first. */
  elected(): Promise<void> {
    if (this.#leading) return Promise.resolve();
    if (this.#stopping) return Promise.reject(new Error("the manager stopped before it led"));
    return new Promise((resolve, reject) => this.#electedWaiters.push({ resolve, reject }));
  }

  get leaderElector(): LeaderElector | undefined {
    return this.#elector;
  }

  /** Starts the servers, the informers and the election (or the controllers); resolves once started. */
  async start(): Promise<void> {
    if (this.#started) throw new Error("manager already started");
    this.#started = true;
    this.metrics.observeKubeHttp(this.http);
    await this.probes.start();
    for (const informer of this.#informers.values()) informer.start();
    for (const runnable of this.#runnables) if (!runnable.needLeaderElection) this.#startRunnable(runnable);
    const election = this.#options.leaderElection;
    if (!election) {
      this.#becomeLeader();
      return;
    }
    const leaseName = election.name;
    this.#elector = new LeaderElector(
      this.http,
      { ...election, identity: this.identity },
      {
        onStartedLeading: () => this.#becomeLeader(),
        onStoppedLeading: (reason) => {
          this.#leading = false;
          if (reason !== "lost") return;
          // Another replica may lead already: stop writing now, with no graceful drain
          // (controller-runtime sets the graceful timeout to 0 when the lease is lost).
          this.abort();
          void this.#shutdown({ exitCode: 1, reason: "leader election lost" }, 0);
        },
      },
      {
        clock: this.#clock,
        logger: this.log,
        onStatus: (leading) =>
          this.metrics.leaderElectionMasterStatus.set({ name: leaseName }, leading ? 1 : 0),
      },
    );
    this.#election = this.#elector.run(this.#electionStop.signal).catch((error: unknown) => {
      this.log.error({ err: error }, "leader election failed");
      void this.#shutdown({ exitCode: 1, reason: "leader election failed" });
    });
  }

  /**
   * Graceful shutdown (idempotent): stop intake → drain in-flight reconciles (up to the graceful
   * timeout, then abort them) → stop informers → release the lease → close the HTTP servers last.
   */
  stop(reason = "shutdown requested"): Promise<ManagerExit> {
    return this.#shutdown({ exitCode: 0, reason });
  }

  /** Aborts in-flight reconciles at once (a second signal); the shutdown then completes quickly. */
  abort(): void {
    for (const controller of this.#controllers) controller.abort();
    this.#leaderWork.abort(new Error("aborted"));
    this.#anyWork.abort(new Error("aborted"));
  }

  #becomeLeader(): void {
    if (this.#stopping) return;
    this.#leading = true;
    for (const controller of this.#controllers) this.#startController(controller);
    for (const runnable of this.#runnables) if (runnable.needLeaderElection) this.#startRunnable(runnable);
    const waiters = this.#electedWaiters;
    this.#electedWaiters = [];
    for (const { resolve } of waiters) resolve();
  }

  #startController(controller: Controller): void {
    this.#workers.push(
      controller.start(this.#leaderWork.signal).catch((error: unknown) => {
        this.log.error({ err: error, controller: controller.name }, "controller failed");
        void this.#shutdown({ exitCode: 1, reason: `controller ${controller.name} failed` });
      }),
    );
  }

  #startRunnable(runnable: { name: string; run: Runnable; needLeaderElection: boolean }): void {
    const signal = runnable.needLeaderElection ? this.#leaderWork.signal : this.#anyWork.signal;
    this.#workers.push(
      runnable.run(signal).catch((error: unknown) => {
        if (signal.aborted) return;
        this.log.error({ err: error, runnable: runnable.name }, "runnable failed");
        void this.#shutdown({ exitCode: 1, reason: `runnable ${runnable.name} failed` });
      }),
    );
  }

  #shutdown(exit: ManagerExit, gracefulTimeoutMs?: number): Promise<ManagerExit> {
    if (this.#stopping) return this.#stopping;
    this.#stopping = (async () => {
      const started = this.#clock.now();
      const timeoutMs = gracefulTimeoutMs ?? this.#options.gracefulShutdownTimeoutMs ?? 30_000;
      this.log.info({ reason: exit.reason }, "stopping: draining in-flight reconciles");
      for (const { reject } of this.#electedWaiters.splice(0))
        reject(new Error("the manager stopped before it led"));
      // 1+2. Stop intake and drain the controllers and leader-only runnables.
      this.#leaderWork.abort(new Error(exit.reason));
      this.#anyWork.abort(new Error(exit.reason));
      const drained = await Promise.all(this.#controllers.map((c) => c.stop(timeoutMs)));
      const remaining = Math.max(0, timeoutMs - (this.#clock.now() - started));
      const workersDone = await settleWithin(
        Promise.all(this.#workers),
        Math.min(remaining, 5_000),
        this.#clock,
      );
      if (!drained.every(Boolean) || !workersDone) this.log.warn("graceful shutdown timed out for some work");
      // 3. Stop the informers.
      await Promise.all([...this.#informers.values()].map((i) => i.stop()));
      // 4. Release the lease if we lead (after a loss the elector has already returned).
      this.#electionStop.abort(new Error(exit.reason));
      if (this.#election) await settleWithin(this.#election, 10_000, this.#clock);
      this.#leading = false;
      // 5. Close the probe and metrics servers last.
      await this.probes.close();
      this.log.info({ exitCode: exit.exitCode, reason: exit.reason }, "stopped");
      this.#resolveDone(exit);
      return exit;
    })();
    return this.#stopping;
  }
}

async function settleWithin(promise: Promise<unknown>, ms: number, clock: Clock): Promise<boolean> {
  let timer: { cancel(): void } | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = clock.setTimeout(() => resolve(false), ms);
  });
  const result = await Promise.race([promise.then(() => true), timeout]);
  timer?.cancel();
  return result;
}
