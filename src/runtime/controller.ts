// A Controller = name + work queue + reconcile function (controller-runtime's split with Manager).
// Informer events only enqueue keys; workers call reconcile(key) with at most
// maxConcurrentReconciles at once and never two for one key. The outcome decides the requeue exactly
// as controller-runtime's reconcileHandler: error → rate-limited retry (not for TerminalError),
// requeueAfter → forget + addAfter, success → forget.
import { randomUUID } from "node:crypto";
import type { Clock } from "./clock.ts";
import { systemClock } from "./clock.ts";
import type { EventHandler, EventSource } from "./informer.ts";
import { type Logger, lazyChild, silentLogger } from "./logging.ts";
import { RuntimeMetrics } from "./metrics.ts";
import type { RateLimiter } from "./rate-limiter.ts";
import { defaultControllerRateLimiter } from "./rate-limiter.ts";
import { formatKey, type KubeObject, keyOf, type ObjectKey, parseKey } from "./resource.ts";
import { Priority, WorkQueue } from "./workqueue.ts";

export interface ReconcileResult {
  /** Reconcile again after this long (e.g. a periodic drift check); resets the failure backoff. */
  requeueAfterMs?: number;
  /** Reconcile again with the rate limiter's backoff, without counting as an error. */
  requeue?: boolean;
}

export interface ReconcileContext {
  controller: string;
  /** A fresh UUID per call, also on `log`. */
  reconcileID: string;
  /** pino child logger carrying controller, namespace, name and reconcileID. */
  log: Logger;
  /** Aborted when shutdown's drain times out or the reconcile times out: stop at the next await. */
  signal: AbortSignal;
}

/** Level-triggered: it gets a key, never the event; it re-reads what it needs from the caches. */
export type Reconciler = (
  key: ObjectKey,
  ctx: ReconcileContext,
  // biome-ignore lint/suspicious/noConfusingVoidType: a reconciler that returns nothing means success
) => Promise<ReconcileResult | undefined | void>;

/** An error that retrying cannot fix (e.g. an invalid spec): logged and counted, never retried. */
export class TerminalError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "TerminalError";
  }
}

/** True if error or any error in its cause chain is a TerminalError. */
export function isTerminalError(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 10; e = e.cause, depth++) {
    if (e instanceof TerminalError) return true;
  }
  return false;
}

/**
 * JavaScript has no panics; we count as one what signals a programming error rather than a failed
 * operation: ReferenceError, RangeError, SyntaxError, EvalError, a TypeError without a cause (fetch's
 * network failures are TypeErrors with a cause), or a thrown non-Error. They are retried like errors
 * (RecoverPanic) and counted in controller_runtime_reconcile_panics_total.
 */
export function isPanic(error: unknown): boolean {
  if (!(error instanceof Error)) return true;
  if (error instanceof ReferenceError || error instanceof RangeError || error instanceof SyntaxError)
    return true;
  if (error instanceof EvalError) return true;
  return error instanceof TypeError && error.cause === undefined;
}

/** Maps an event on another kind to the keys to reconcile (e.g. a Secret → the devices using it). */
export type MapFunc<T extends KubeObject> = (obj: T) => ObjectKey | ObjectKey[] | undefined | null;

export interface WatchOptions<T extends KubeObject> {
  /** Skip events for which this returns false (e.g. only generation changes). */
  predicate?: (event: { type: "add" | "update" | "delete"; obj: T; oldObj?: T }) => boolean;
}

export interface ControllerOptions<T extends KubeObject = KubeObject> {
  /** Unique: it labels the metrics and the logs. */
  name: string;
  /** The primary kind: its events enqueue the object's own key. */
  for?: EventSource<T>;
  reconcile: Reconciler;
  /** Default 1 (controller-runtime's default). */
  maxConcurrentReconciles?: number;
  /** Cap of the per-key retry backoff when no rateLimiter is given; default 1000 s (client-go). */
  maxRetryDelayMs?: number;
  rateLimiter?: RateLimiter;
  /** Abort a reconcile's signal after this long; default none. */
  reconcileTimeoutMs?: number;
  /** Wait this long for the caches before failing the start; default 2 min. */
  cacheSyncTimeoutMs?: number;
  logger?: Logger;
  metrics?: RuntimeMetrics;
  clock?: Clock;
}

interface Source {
  informer: EventSource<KubeObject>;
  handler: EventHandler<KubeObject>;
  remove?: () => void;
}

export class Controller {
  readonly name: string;
  readonly queue: WorkQueue;
  readonly maxConcurrentReconciles: number;
  readonly #reconcile: Reconciler;
  readonly #log: Logger;
  readonly #metrics: RuntimeMetrics;
  readonly #clock: Clock;
  readonly #reconcileTimeoutMs: number | undefined;
  readonly #cacheSyncTimeoutMs: number;
  readonly #sources: Source[] = [];
  /** Aborted when in-flight reconciles must stop now (drain timeout, second signal). */
  readonly #hardStop = new AbortController();
  #started = false;
  #running: Promise<void> | undefined;

  constructor(options: ControllerOptions) {
    this.name = options.name;
    this.maxConcurrentReconciles = Math.max(1, options.maxConcurrentReconciles ?? 1);
    this.#reconcile = options.reconcile;
    this.#clock = options.clock ?? systemClock;
    this.#log = (options.logger ?? silentLogger).child({ controller: options.name });
    this.#metrics = options.metrics ?? new RuntimeMetrics();
    this.#reconcileTimeoutMs = options.reconcileTimeoutMs;
    this.#cacheSyncTimeoutMs = options.cacheSyncTimeoutMs ?? 120_000;
    this.queue = new WorkQueue({
      name: options.name,
      clock: this.#clock,
      rateLimiter:
        options.rateLimiter ??
        defaultControllerRateLimiter({ clock: this.#clock, maxDelayMs: options.maxRetryDelayMs }),
      metrics: this.#metrics.workQueueSink(options.name),
      onHandlerError: (key, error) => this.#log.error({ err: error, item: key }, "work item handler failed"),
    });
    this.#metrics.initController(options.name, this.maxConcurrentReconciles);
    this.#metrics.trackQueue(options.name, () => this.queue.inFlightStats());
    if (options.for) this.watches(options.for, (obj) => keyOf(obj));
  }

  /**
   * Enqueues the keys that map(obj) returns for every event of informer (default: the object's own
   * key). Call before start.
   */
  watches<T extends KubeObject>(
    informer: EventSource<T>,
    map?: MapFunc<T>,
    options: WatchOptions<T> = {},
  ): this {
    if (this.#started) throw new Error(`controller ${this.name}: watches() must be called before start()`);
    const toKeys = (obj: T): ObjectKey[] => {
      const mapped = map ? map(obj) : keyOf(obj);
      if (!mapped) return [];
      return Array.isArray(mapped) ? mapped : [mapped];
    };
    const enqueue = (obj: T, priority: number) => {
      for (const key of toKeys(obj)) this.queue.add(formatKey(key), { priority });
    };
    const allowed = options.predicate ?? (() => true);
    const handler: EventHandler<T> = {
      onAdd: (obj, { initialList }) => {
        if (allowed({ type: "add", obj })) enqueue(obj, initialList ? Priority.Low : Priority.Normal);
      },
      onUpdate: (oldObj, obj, { resync }) => {
        if (!allowed({ type: "update", obj, oldObj })) return;
        // A mapping may change with the object (a rule moved to another device): enqueue both.
        if (map && !resync) enqueue(oldObj, Priority.Normal);
        enqueue(obj, resync ? Priority.Low : Priority.Normal);
      },
      onDelete: (obj) => {
        if (allowed({ type: "delete", obj })) enqueue(obj, Priority.Normal);
      },
    };
    this.#sources.push({ informer, handler } as unknown as Source);
    return this;
  }

  /** Enqueues a key from outside the informers (e.g. a rule when its device becomes Ready). */
  enqueue(key: ObjectKey, options: { afterMs?: number; priority?: number } = {}): void {
    const k = formatKey(key);
    if (options.afterMs && options.afterMs > 0) this.queue.addAfter(k, options.afterMs, options);
    else this.queue.add(k, options);
  }

  /**
   * Registers the event handlers, waits for the caches, then runs the workers. Resolves when the
   * queue has shut down and the workers have exited; rejects if the caches do not sync in time.
   */
  async start(signal?: AbortSignal): Promise<void> {
    if (this.#started) throw new Error(`controller ${this.name} already started`);
    this.#started = true;
    for (const source of this.#sources) source.remove = source.informer.addEventHandler(source.handler);
    this.#log.info("starting event sources");
    for (const { informer } of this.#sources) {
      const synced = await informer.waitForSync(this.#cacheSyncTimeoutMs, signal);
      if (signal?.aborted || this.queue.shuttingDown()) return;
      if (!synced) {
        throw new Error(
          `controller ${this.name}: timed out after ${this.#cacheSyncTimeoutMs} ms waiting for the ${informer.resource.plural} cache to sync`,
        );
      }
    }
    this.#log.info({ workers: this.maxConcurrentReconciles }, "starting workers");
    this.#running = this.queue.run(this.maxConcurrentReconciles, (key) => this.#process(key));
    await this.#running;
  }

  /**
   * Stops intake and waits up to drainTimeoutMs for in-flight reconciles; past that, their signals
   * are aborted. Returns true if every reconcile finished in time.
   */
  async stop(drainTimeoutMs: number): Promise<boolean> {
    for (const source of this.#sources) source.remove?.();
    const drained = await this.queue.shutDownWithDrain(drainTimeoutMs);
    if (!drained) {
      this.#log.warn({ drainTimeoutMs }, "in-flight reconciles did not finish in time; aborting them");
      this.abort();
    }
    return drained;
  }

  /** Aborts the signals of in-flight reconciles at once (second shutdown signal). */
  abort(): void {
    this.queue.shutDown();
    this.#hardStop.abort(new Error(`controller ${this.name} stopped`));
  }

  async #process(keyString: string): Promise<void> {
    const key = parseKey(keyString);
    const reconcileID = randomUUID();
    const log = lazyChild(this.#log, { namespace: key.namespace, name: key.name, reconcileID });
    const signals = [this.#hardStop.signal];
    if (this.#reconcileTimeoutMs) signals.push(AbortSignal.timeout(this.#reconcileTimeoutMs));
    const signal = AbortSignal.any(signals);
    const labels = { controller: this.name };
    const metrics = this.#metrics;
    metrics.activeWorkers.inc(labels);
    const started = performance.now();
    try {
      const result = (await this.#reconcile(key, { controller: this.name, reconcileID, log, signal })) ?? {};
      if (result.requeueAfterMs !== undefined && result.requeueAfterMs > 0) {
        this.queue.forget(keyString);
        this.queue.addAfter(keyString, result.requeueAfterMs);
        metrics.reconcileTotal.inc({ ...labels, result: "requeue_after" });
      } else if (result.requeue) {
        this.queue.addRateLimited(keyString);
        metrics.reconcileTotal.inc({ ...labels, result: "requeue" });
      } else {
        this.queue.forget(keyString);
        metrics.reconcileTotal.inc({ ...labels, result: "success" });
      }
    } catch (error) {
      metrics.reconcileTotal.inc({ ...labels, result: "error" });
      metrics.reconcileErrors.inc(labels);
      if (signal.aborted && !this.#hardStop.signal.aborted) metrics.reconcileTimeouts.inc(labels);
      if (isPanic(error)) {
        metrics.reconcilePanics.inc(labels);
        log.error({ err: error }, "observed a panic (programming error) in reconciler; recovered");
      }
      if (isTerminalError(error)) {
        metrics.terminalReconcileErrors.inc(labels);
        this.queue.forget(keyString);
        log.error({ err: error }, "terminal reconciler error; not retrying");
      } else {
        this.queue.addRateLimited(keyString);
        log.error(
          { err: error, retries: this.queue.numRequeues(keyString) },
          "reconciler error; retrying with backoff",
        );
      }
    } finally {
      metrics.activeWorkers.dec(labels);
      metrics.reconcileTime.observe(labels, (performance.now() - started) / 1000);
    }
  }
}
