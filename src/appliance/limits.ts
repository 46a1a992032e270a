// Per-device limits: how many operations run at once (a semaphore; pfSense loses parallel writes, so
// its dictionary says 1) and how many requests start per second (a spacing limiter). Both waits end
// when the caller's signal aborts.
import { untilAborted } from "../runtime/abort.ts";

/** A counting semaphore with FIFO fairness. */
export class Semaphore {
  private available: number;
  private readonly waiters: (() => void)[] = [];
  readonly capacity: number;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new Error(`semaphore capacity must be >= 1, got ${capacity}`);
    this.capacity = capacity;
    this.available = capacity;
  }

  /** Resolves with a release function once a slot is free; rejects if `signal` aborts first. */
  async acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) throw signal.reason;
    if (this.available > 0) {
      this.available -= 1;
    } else {
      let granted = false;
      let grant!: () => void;
      const slot = new Promise<void>((resolve) => {
        grant = () => {
          granted = true;
          resolve();
        };
      });
      this.waiters.push(grant);
      try {
        await untilAborted(slot, signal);
      } catch (error) {
        // Gave up waiting: leave the queue, or pass on a slot granted just as we gave up.
        if (granted) this.releaseSlot();
        else this.waiters.splice(this.waiters.indexOf(grant), 1);
        throw error;
      }
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.releaseSlot();
    };
  }

  private releaseSlot(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.available += 1;
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    const release = await this.acquire();
    try {
      return await fn();
    } finally {
      release();
    }
  }

  /** Operations waiting for a slot. */
  get waiting(): number {
    return this.waiters.length;
  }
}

/** Spaces request starts at least 1/rate seconds apart (FIFO); unlimited when rate is undefined. */
export class RateLimiter {
  private next = 0;
  private readonly intervalMs: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    requestsPerSecond: number | undefined,
    clock: { now?: () => number; sleep?: (ms: number) => Promise<void> } = {},
  ) {
    this.intervalMs =
      requestsPerSecond === undefined || requestsPerSecond <= 0 ? 0 : 1000 / requestsPerSecond;
    this.now = clock.now ?? Date.now;
    this.sleep = clock.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /** Waits for this request's turn; rejects if `signal` aborts first. */
  async take(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) throw signal.reason;
    if (this.intervalMs === 0) return;
    const now = this.now();
    const slot = Math.max(now, this.next);
    this.next = slot + this.intervalMs;
    if (slot > now) await untilAborted(this.sleep(slot - now), signal);
  }
}
