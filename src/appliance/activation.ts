// Coalescing activations (pfSense apply, PAN-OS commit, OPNsense apply) per device. A caller that
// wrote to the appliance asks for an activation and gets a promise that settles when an activation
// that STARTED AFTER its request has finished, so its write is covered:
//   Immediate: the first request starts one at once; requests arriving while it runs share the next.
//   Batched(windowMs): the first request opens a window; every request in the window shares the one
//   activation that starts when it closes (50 writes in a window → 1 activation). The window is
//   trailing: each request keeps it open for another windowMs, so a burst of writes that a device
//   serialises (pfSense takes one write at a time) still gets one activation; it closes at the latest
//   MAX_WINDOW_FACTOR × windowMs after it opened, so a steady trickle is activated regularly.
// A caller may stop waiting (its signal aborted: shutdown, lost lease). When every caller of a batch
// has stopped waiting, the batch is dropped before it starts, or its activation's signal is aborted
// while it runs: after a lost lease nobody activates on this replica's behalf. The writes stay on the
// appliance with their intents on the API server; the next leader verifies and activates them.
import { untilAborted } from "../runtime/abort.ts";

export type ActivationMode = { mode: "Immediate" } | { mode: "Batched"; windowMs: number };

/** A Batched window stays open at most this many windowMs after its first request. */
export const MAX_WINDOW_FACTOR = 5;

interface Batch<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
  requests: number;
  /** Callers still waiting for it (a caller without a signal never stops). */
  waiting: number;
  /** Aborted once nobody waits any more. */
  aborter: AbortController;
  started: boolean;
  /** Batched mode: the window is open until this timer fires. */
  timer?: ReturnType<typeof setTimeout>;
  /** Batched mode: when the window opened (for its cap). */
  openedAt?: number;
  windowClosed: boolean;
}

export interface CoalescerStats {
  requests: number;
  activations: number;
}

export interface CoalescerTimers {
  setTimeout: (fn: () => void, ms: number) => ReturnType<typeof setTimeout>;
  clearTimeout: (timer: ReturnType<typeof setTimeout>) => void;
  /** The clock the window's cap is measured with; default Date.now. */
  now?: () => number;
}

/** Runs one activation covering `changes` requests. */
export type ActivateFn<T> = (signal: AbortSignal, changes: number) => Promise<T>;

export class ActivationCoalescer<T> {
  private readonly activate: ActivateFn<T>;
  private mode: ActivationMode;
  private readonly timers: CoalescerTimers;
  private running: Promise<void> | undefined;
  private next: Batch<T> | undefined;
  private closed = false;
  readonly stats: CoalescerStats = { requests: 0, activations: 0 };

  constructor(
    activate: ActivateFn<T>,
    mode: ActivationMode = { mode: "Immediate" },
    timers?: CoalescerTimers,
  ) {
    this.activate = activate;
    this.mode = mode;
    this.timers = timers ?? {
      setTimeout: (fn, ms) => setTimeout(fn, ms),
      clearTimeout: (t) => clearTimeout(t),
    };
  }

  setMode(mode: ActivationMode): void {
    this.mode = mode;
  }

  /** Requests waiting for an activation that has not started yet (a Batched window's writes). */
  get pending(): number {
    return this.next?.requests ?? 0;
  }

  /**
   * Settles when an activation that started after this call has completed (or failed); rejects with
   * the signal's reason if it aborts first.
   */
  requestActivation(signal?: AbortSignal): Promise<T> {
    if (this.closed) return Promise.reject(new Error("activation coalescer closed"));
    if (signal?.aborted) return Promise.reject(signal.reason);
    this.stats.requests += 1;
    if (this.next) {
      this.next.requests += 1;
      if (this.mode.mode === "Batched" && !this.next.windowClosed)
        this.armWindow(this.next, this.mode.windowMs);
      return this.wait(this.next, signal);
    }
    let resolve!: (value: T) => void;
    let reject!: (error: unknown) => void;
    const promise = new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // A batch nobody awaits any more must not become an unhandled rejection.
    promise.catch(() => undefined);
    const batch: Batch<T> = {
      promise,
      resolve,
      reject,
      requests: 1,
      waiting: 0,
      aborter: new AbortController(),
      started: false,
      windowClosed: false,
    };
    this.next = batch;
    if (this.mode.mode === "Batched") {
      batch.openedAt = this.now();
      this.armWindow(batch, this.mode.windowMs);
    } else {
      batch.windowClosed = true;
      // Start on the next microtask: writes completing in the same tick share this activation.
      queueMicrotask(() => this.maybeStart());
    }
    return this.wait(batch, signal);
  }

  /** One caller's wait for `batch`; the batch is given up once no caller waits any more. */
  private wait(batch: Batch<T>, signal: AbortSignal | undefined): Promise<T> {
    batch.waiting += 1;
    if (!signal) return batch.promise;
    const left = () => {
      batch.waiting -= 1;
      if (batch.waiting > 0) return;
      batch.aborter.abort(signal.reason);
      if (!batch.started && this.next === batch) {
        if (batch.timer) this.timers.clearTimeout(batch.timer);
        this.next = undefined;
        batch.reject(signal.reason);
      }
    };
    signal.addEventListener("abort", left, { once: true });
    return untilAborted(batch.promise, signal).finally(() => signal.removeEventListener("abort", left));
  }

  /** (Re)arms the window's timer: windowMs from now, but never past the cap. */
  private armWindow(batch: Batch<T>, windowMs: number): void {
    if (batch.timer) this.timers.clearTimeout(batch.timer);
    const cap = (batch.openedAt ?? this.now()) + MAX_WINDOW_FACTOR * windowMs;
    const delay = Math.max(0, Math.min(windowMs, cap - this.now()));
    batch.timer = this.timers.setTimeout(() => {
      batch.windowClosed = true;
      this.maybeStart();
    }, delay);
  }

  private now(): number {
    return this.timers.now ? this.timers.now() : Date.now();
  }

  private maybeStart(): void {
    const batch = this.next;
    if (!batch?.windowClosed || this.running) return;
    this.next = undefined;
    this.stats.activations += 1;
    batch.started = true;
    this.running = (async () => {
      try {
        batch.resolve(await this.activate(batch.aborter.signal, batch.requests));
      } catch (error) {
        batch.reject(error);
      }
    })().finally(() => {
      this.running = undefined;
      this.maybeStart();
    });
  }

  /** Starts the pending batch now, without waiting for its window to close. */
  flush(): void {
    const batch = this.next;
    if (!batch) return;
    if (batch.timer) this.timers.clearTimeout(batch.timer);
    batch.windowClosed = true;
    this.maybeStart();
  }

  /**
   * Stops accepting requests. A pending batch still runs (its writes are on the appliance and must
   * not stay unactivated); resolves when nothing is running any more.
   */
  async close(): Promise<void> {
    this.closed = true;
    this.flush();
    while (this.running) await this.running;
  }
}
