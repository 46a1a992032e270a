// A keyed work queue with client-go semantics (util/workqueue/queue.go + delaying + rate limiting),
// plus controller-runtime's priorities so real changes go ahead of initial-list and resync work.
//
// - `add` is a no-op while the key is waiting in the queue (a burst of events → one reconcile);
// - a key held by a worker is only marked dirty and re-queued once, by `done`: no two workers ever
//   hold the same key, and a change during a reconcile gets exactly one more pass;
// - `addAfter` keeps one pending slot per key (the earliest deadline wins);
// - `addRateLimited` delays by the rate limiter (per-key exponential, max-of an overall bucket);
// - `shutDown` stops intake: queued and delayed keys are dropped (the next start re-lists them, the
//   system is level-triggered), workers finish what they hold. `shutDownWithDrain` also waits for them.
import type { Clock, TimerHandle } from "./clock.ts";
import { systemClock } from "./clock.ts";
import type { RateLimiter } from "./rate-limiter.ts";
import { defaultControllerRateLimiter } from "./rate-limiter.ts";

/** controller-runtime's priorities (pkg/handler/eventhandler.go): higher is served first. */
export const Priority = {
  Normal: 0,
  /** Initial list and periodic resync: serve after real changes. */
  Low: -100,
} as const;

export interface AddOptions {
  /** Higher first; ties are FIFO. Default Priority.Normal. */
  priority?: number;
}

/** Where the queue reports its metrics (see metrics.ts); every method is optional work for tests. */
export interface WorkQueueMetricsSink {
  added(): void;
  depth(priority: number, depth: number): void;
  /** Seconds a key waited in the queue before a worker took it. */
  queued(seconds: number): void;
  /** Seconds a worker held a key. */
  worked(seconds: number): void;
  /** An add with a non-zero delay. */
  retried(): void;
}

export interface WorkQueueOptions {
  name?: string;
  clock?: Clock;
  rateLimiter?: RateLimiter;
  metrics?: WorkQueueMetricsSink;
  /** Called when a worker's handler throws (the key is still marked done). */
  onHandlerError?: (key: string, error: unknown) => void;
}

export interface InFlightStats {
  /** Sum of the seconds every held key has been processing. */
  unfinishedSeconds: number;
  /** Seconds the longest-held key has been processing. */
  longestSeconds: number;
}

interface Waiting {
  readyAt: number;
  priority: number;
}

export class WorkQueue {
  readonly name: string;
  readonly #clock: Clock;
  readonly #limiter: RateLimiter;
  readonly #metrics: WorkQueueMetricsSink | undefined;
  readonly #onHandlerError: ((key: string, error: unknown) => void) | undefined;

  /** Queued keys by priority; a Set keeps insertion (FIFO) order and O(1) removal. */
  readonly #buckets = new Map<number, Set<string>>();
  readonly #queuedPriority = new Map<string, number>();
  readonly #queuedAt = new Map<string, number>();
  /** Keys that need processing (queued, or held and changed since), with their priority. */
  readonly #dirty = new Map<string, number>();
  /** Keys held by a worker, with the time the worker took them. */
  readonly #processing = new Map<string, number>();
  readonly #waiting = new Map<string, Waiting>();
  #waitTimer: { handle: TimerHandle; at: number } | undefined;
  #getters: Array<(key: string | undefined) => void> = [];
  #drainWaiters: Array<() => void> = [];
  #shuttingDown = false;

  constructor(options: WorkQueueOptions = {}) {
    this.name = options.name ?? "";
    this.#clock = options.clock ?? systemClock;
    this.#limiter = options.rateLimiter ?? defaultControllerRateLimiter({ clock: this.#clock });
    this.#metrics = options.metrics;
    this.#onHandlerError = options.onHandlerError;
  }

  /** Marks key as needing work. */
  add(key: string, options: AddOptions = {}): void {
    if (this.#shuttingDown) return;
    const priority = options.priority ?? Priority.Normal;
    const dirtyPriority = this.#dirty.get(key);
    if (dirtyPriority !== undefined) {
      // Already pending: keep one entry, but let a real change lift a low-priority one.
      if (priority > dirtyPriority) {
        this.#dirty.set(key, priority);
        if (this.#queuedPriority.has(key)) {
          this.#removeFromBucket(key);
          this.#pushToBucket(key, priority);
        }
      }
      return;
    }
    this.#metrics?.added(); // like client-go, a deduplicated add is not counted
    this.#dirty.set(key, priority);
    if (this.#processing.has(key)) return; // done() re-queues it
    this.#enqueue(key, priority);
  }

  /** Adds key once ms have passed; of several pending delays for one key the earliest wins. */
  addAfter(key: string, ms: number, options: AddOptions = {}): void {
    if (this.#shuttingDown) return;
    if (ms <= 0) {
      this.add(key, options);
      return;
    }
    this.#metrics?.retried();
    const priority = options.priority ?? Priority.Normal;
    const readyAt = this.#clock.now() + ms;
    const existing = this.#waiting.get(key);
    if (existing && existing.readyAt <= readyAt) {
      existing.priority = Math.max(existing.priority, priority);
      return;
    }
    this.#waiting.set(key, { readyAt, priority });
    this.#armWaitTimer();
  }

  /** Adds key after the rate limiter's delay for it (one more failure recorded). */
  addRateLimited(key: string, options: AddOptions = {}): void {
    if (this.#shuttingDown) return;
    this.addAfter(key, this.#limiter.when(key), options);
  }

  /** Stops tracking key's failures (call after a success, or when giving up on it). */
  forget(key: string): void {
    this.#limiter.forget(key);
  }

  numRequeues(key: string): number {
    return this.#limiter.numRequeues(key);
  }

  /** Keys waiting to be taken (not counting delayed or held ones). */
  len(): number {
    return this.#queuedPriority.size;
  }

  /** Keys scheduled by addAfter/addRateLimited that are not yet due. */
  delayedLen(): number {
    return this.#waiting.size;
  }

  /** Keys currently held by workers. */
  processingLen(): number {
    return this.#processing.size;
  }

  isProcessing(key: string): boolean {
    return this.#processing.has(key);
  }

  shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /**
   * The next key to process, highest priority first; resolves undefined once the queue shuts down.
   * The caller must call done(key) when finished with it.
   */
  get(): Promise<string | undefined> {
    if (this.#shuttingDown) return Promise.resolve(undefined);
    const key = this.#pop();
    if (key !== undefined) return Promise.resolve(key);
    return new Promise((resolve) => this.#getters.push(resolve));
  }

  /** Releases key; if it changed while held, it goes back in the queue exactly once. */
  done(key: string): void {
    const startedAt = this.#processing.get(key);
    if (startedAt === undefined) return;
    this.#processing.delete(key);
    this.#metrics?.worked((this.#clock.now() - startedAt) / 1000);
    const priority = this.#dirty.get(key);
    if (priority !== undefined && !this.#shuttingDown) this.#enqueue(key, priority);
    if (this.#processing.size === 0) {
      const waiters = this.#drainWaiters;
      this.#drainWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  /**
   * Runs `workers` loops that take keys and await handler(key): at most `workers` keys are processed
   * at once, never the same key twice. Resolves when the queue has shut down and every loop has exited.
   */
  async run(workers: number, handler: (key: string) => Promise<void>): Promise<void> {
    const loop = async () => {
      for (;;) {
        const key = await this.get();
        if (key === undefined) return;
        try {
          await handler(key);
        } catch (error) {
          this.#onHandlerError?.(key, error);
        } finally {
          this.done(key);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, workers) }, loop));
  }

  /** Stops intake: adds are ignored, queued and delayed keys are dropped, idle workers exit. */
  shutDown(): void {
    if (this.#shuttingDown) return;
    this.#shuttingDown = true;
    this.#waitTimer?.handle.cancel();
    this.#waitTimer = undefined;
    this.#waiting.clear();
    for (const [priority, bucket] of this.#buckets) {
      bucket.clear();
      this.#metrics?.depth(priority, 0);
    }
    this.#queuedPriority.clear();
    this.#queuedAt.clear();
    this.#dirty.clear();
    const getters = this.#getters;
    this.#getters = [];
    for (const resolve of getters) resolve(undefined);
  }

  /** shutDown, then wait up to timeoutMs for held keys to be done; true when all were. */
  async shutDownWithDrain(timeoutMs: number): Promise<boolean> {
    this.shutDown();
    if (this.#processing.size === 0) return true;
    return new Promise<boolean>((resolve) => {
      const timer = this.#clock.setTimeout(() => resolve(this.#processing.size === 0), timeoutMs);
      this.#drainWaiters.push(() => {
        timer.cancel();
        resolve(true);
      });
    });
  }

  inFlightStats(): InFlightStats {
    const now = this.#clock.now();
    let unfinished = 0;
    let longest = 0;
    for (const startedAt of this.#processing.values()) {
      const seconds = (now - startedAt) / 1000;
      unfinished += seconds;
      longest = Math.max(longest, seconds);
    }
    return { unfinishedSeconds: unfinished, longestSeconds: longest };
  }

  #enqueue(key: string, priority: number): void {
    const getter = this.#getters.shift();
    this.#pushToBucket(key, priority);
    this.#queuedAt.set(key, this.#clock.now());
    if (getter) getter(this.#pop());
  }

  #pushToBucket(key: string, priority: number): void {
    let bucket = this.#buckets.get(priority);
    if (!bucket) {
      bucket = new Set();
      this.#buckets.set(priority, bucket);
    }
    bucket.add(key);
    this.#queuedPriority.set(key, priority);
    this.#metrics?.depth(priority, bucket.size);
  }

  #removeFromBucket(key: string): void {
    const priority = this.#queuedPriority.get(key);
    if (priority === undefined) return;
    const bucket = this.#buckets.get(priority);
    bucket?.delete(key);
    this.#queuedPriority.delete(key);
    this.#metrics?.depth(priority, bucket?.size ?? 0);
  }

  #pop(): string | undefined {
    let best: number | undefined;
    for (const [priority, bucket] of this.#buckets) {
      if (bucket.size > 0 && (best === undefined || priority > best)) best = priority;
    }
    if (best === undefined) return undefined;
    const bucket = this.#buckets.get(best)!;
    const key = bucket.values().next().value as string;
    this.#removeFromBucket(key);
    const now = this.#clock.now();
    this.#metrics?.queued((now - (this.#queuedAt.get(key) ?? now)) / 1000);
    this.#queuedAt.delete(key);
    this.#dirty.delete(key);
    this.#processing.set(key, now);
    return key;
  }

  #armWaitTimer(): void {
    let earliest = Number.POSITIVE_INFINITY;
    for (const waiting of this.#waiting.values()) earliest = Math.min(earliest, waiting.readyAt);
    if (earliest === Number.POSITIVE_INFINITY) return;
    if (this.#waitTimer && this.#waitTimer.at <= earliest) return;
    this.#waitTimer?.handle.cancel();
    const handle = this.#clock.setTimeout(() => this.#fireDue(), earliest - this.#clock.now());
    this.#waitTimer = { handle, at: earliest };
  }

  #fireDue(): void {
    this.#waitTimer = undefined;
    const now = this.#clock.now();
    const due = [...this.#waiting]
      .filter(([, w]) => w.readyAt <= now)
      .sort((a, b) => a[1].readyAt - b[1].readyAt);
    for (const [key, waiting] of due) {
      this.#waiting.delete(key);
      this.add(key, { priority: waiting.priority });
    }
    this.#armWaitTimer();
  }
}
