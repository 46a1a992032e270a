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
// Failure isolation: a request may say what it wrote (a member); an activation that isolated a failure
// (isolation.ts) throws PartialActivation, and each member then gets its own outcome.
// Safe apply (a `prepare` hook, the OPNsense savepoint): a writer calls beginWrite() BEFORE writing.
// The first writer of a batch runs prepare (after the previous batch's activation has finished, so the
// savepoint holds none of another batch's writes); the others of the batch wait for it; the batch does
// not start while any writer of it is still writing. Each slot ends with requestActivation(…, {slot})
// or release(). Writers that find the batch closed wait for the next one.
import { untilAborted } from "../runtime/abort.ts";

export type ActivationMode = { mode: "Immediate" } | { mode: "Batched"; windowMs: number };

/**
 * What an activation callback throws when it isolated a failure (isolation.ts): the members it names
 * fail with their own error; the others get `error` when set (what remained failed), else `value`.
 */
export class PartialActivation<T, M> extends Error {
  readonly failed: ReadonlyMap<M, unknown>;
  readonly outcome: { value: T } | { error: unknown };
  constructor(failed: ReadonlyMap<M, unknown>, outcome: { value: T } | { error: unknown }) {
    super("activation partly failed");
    this.failed = failed;
    this.outcome = outcome;
  }
}

type BatchOutcome<T, M> =
  | { ok: true; value: T; failed?: ReadonlyMap<M, unknown> }
  | { ok: false; error: unknown; failed?: ReadonlyMap<M, unknown> };

/** A Batched window stays open at most this many windowMs after its first request. */
export const MAX_WINDOW_FACTOR = 5;

interface Batch<T, M> {
  /** Never rejects: each request reads its own outcome from it. */
  promise: Promise<BatchOutcome<T, M>>;
  resolve: (outcome: BatchOutcome<T, M>) => void;
  requests: number;
  /** Callers still waiting for it (a caller without a signal never stops). */
  waiting: number;
  /** Aborted once nobody waits any more. */
  aborter: AbortController;
  started: boolean;
  /** The requests that said what they wrote (failure isolation). */
  members: M[];
  /** Batched mode: the window is open until this timer fires. */
  timer?: ReturnType<typeof setTimeout>;
  /** Batched mode: when the window opened (for its cap). */
  openedAt?: number;
  windowClosed: boolean;
  /** Safe apply: writers that began and have neither asked for the activation nor given up. */
  writers: number;
  /** Safe apply: settles when the batch's prepare (savepoint) is done; rejects when it failed. */
  prepared?: Promise<void>;
}

/** A write that joined a batch before it was made (safe apply): ends with requestActivation or release. */
export interface WriteSlot {
  /** The write did not happen (or failed): the batch need not wait for it. Idempotent. */
  release(): void;
}

interface Slot<T, M> extends WriteSlot {
  batch: Batch<T, M>;
  done: boolean;
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

/** Runs one activation covering `changes` requests, `members` of which said what they wrote. */
export type ActivateFn<T, M = never> = (
  signal: AbortSignal,
  changes: number,
  members: readonly M[],
) => Promise<T>;

export interface RequestOptions<M> {
  /** What this caller wrote (failure isolation). */
  member?: M;
  /** The slot its write took with beginWrite() (safe apply). */
  slot?: WriteSlot;
}

export class ActivationCoalescer<T, M = never> {
  private readonly activate: ActivateFn<T, M>;
  private mode: ActivationMode;
  private readonly timers: CoalescerTimers;
  /** Safe apply: what runs before a batch's first write (a savepoint). */
  private readonly prepare: (() => Promise<void>) | undefined;
  private running: Promise<void> | undefined;
  private next: Batch<T, M> | undefined;
  private closed = false;
  readonly stats: CoalescerStats = { requests: 0, activations: 0 };

  constructor(
    activate: ActivateFn<T, M>,
    mode: ActivationMode = { mode: "Immediate" },
    timers?: CoalescerTimers,
    prepare?: () => Promise<void>,
  ) {
    this.activate = activate;
    this.mode = mode;
    this.prepare = prepare;
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
   * the signal's reason if it aborts first. A `member` gets its own outcome from an isolated failure.
   */
  requestActivation(signal?: AbortSignal, options: RequestOptions<M> = {}): Promise<T> {
    const { member } = options;
    const slot = options.slot as Slot<T, M> | undefined;
    if (this.closed || signal?.aborted) {
      slot?.release();
      return Promise.reject(this.closed ? new Error("activation coalescer closed") : signal?.reason);
    }
    this.stats.requests += 1;
    if (slot && !slot.done && slot.batch === this.next) {
      // The batch this write joined before it was made (it cannot have started while we wrote).
      const batch = slot.batch;
      slot.done = true;
      batch.writers -= 1;
      return this.join(batch, signal, member, true);
    }
    slot?.release();
    if (this.next) return this.join(this.next, signal, member, false);
    const batch = this.newBatch(1);
    this.next = batch;
    if (member !== undefined) batch.members.push(member);
    if (this.mode.mode === "Batched") {
      batch.openedAt = this.now();
      this.armWindow(batch, this.mode.windowMs);
    } else {
      batch.windowClosed = true;
      // Start on the next microtask: writes completing in the same tick share this activation.
      queueMicrotask(() => this.maybeStart());
    }
    return this.wait(batch, signal, member);
  }

  private join(batch: Batch<T, M>, signal: AbortSignal | undefined, member: M | undefined, slotted: boolean) {
    batch.requests += 1;
    if (member !== undefined) batch.members.push(member);
    if (this.mode.mode === "Batched" && !batch.windowClosed) this.armWindow(batch, this.mode.windowMs);
    // Immediate: the first request of a prepared batch closes it to new writers; it starts once the
    // writers already in it have asked too.
    if (this.mode.mode === "Immediate") batch.windowClosed = true;
    const mine = this.wait(batch, signal, member);
    if (slotted || this.mode.mode === "Immediate") queueMicrotask(() => this.maybeStart());
    return mine;
  }

  private newBatch(requests: number): Batch<T, M> {
    let resolve!: (outcome: BatchOutcome<T, M>) => void;
    const promise = new Promise<BatchOutcome<T, M>>((res) => {
      resolve = res;
    });
    return {
      promise,
      resolve,
      requests,
      waiting: 0,
      aborter: new AbortController(),
      started: false,
      members: [],
      windowClosed: false,
      writers: 0,
    };
  }

  /** One caller's wait for `batch`; the batch is given up once no caller waits any more. */
  private wait(batch: Batch<T, M>, signal: AbortSignal | undefined, member: M | undefined): Promise<T> {
    batch.waiting += 1;
    const mine = batch.promise.then((outcome) => {
      if (member !== undefined && outcome.failed?.has(member)) throw outcome.failed.get(member);
      if (!outcome.ok) throw outcome.error;
      return outcome.value;
    });
    // A request nobody awaits any more must not become an unhandled rejection.
    mine.catch(() => undefined);
    if (!signal) return mine;
    const left = () => {
      batch.waiting -= 1;
      if (batch.waiting > 0) return;
      batch.aborter.abort(signal.reason);
      if (!batch.started && this.next === batch) {
        if (batch.timer) this.timers.clearTimeout(batch.timer);
        this.next = undefined;
        batch.resolve({ ok: false, error: signal.reason });
      }
    };
    signal.addEventListener("abort", left, { once: true });
    return untilAborted(mine, signal).finally(() => signal.removeEventListener("abort", left));
  }

  /**
   * Safe apply: joins the batch a write is about to be made in, once its prepare (savepoint) is done.
   * Rejects when the savepoint cannot be taken (nothing may be written then) or the signal aborts.
   */
  async beginWrite(signal?: AbortSignal): Promise<WriteSlot> {
    for (;;) {
      if (this.closed) throw new Error("activation coalescer closed");
      if (signal?.aborted) throw signal.reason;
      const open = this.next;
      const joinable =
        open !== undefined && (this.mode.mode === "Batched" ? !open.windowClosed : open.requests === 0);
      if (open !== undefined && joinable) {
        const slot = this.slotIn(open);
        try {
          await (signal ? untilAborted(open.prepared ?? Promise.resolve(), signal) : open.prepared);
        } catch (error) {
          slot.release();
          throw error;
        }
        return slot;
      }
      // A batch about to activate, or one activating: the savepoint must come after its writes.
      const busy: Promise<unknown> | undefined = open?.promise ?? this.running;
      if (busy !== undefined) {
        await (signal ? untilAborted(busy, signal) : busy);
        continue;
      }
      return this.openPreparedBatch(signal);
    }
  }

  private slotIn(batch: Batch<T, M>): Slot<T, M> {
    batch.writers += 1;
    const slot: Slot<T, M> = {
      batch,
      done: false,
      release: () => {
        if (slot.done) return;
        slot.done = true;
        batch.writers -= 1;
        if (this.mode.mode === "Immediate" && batch.writers === 0) batch.windowClosed = true;
        this.maybeStart();
      },
    };
    return slot;
  }

  private async openPreparedBatch(signal: AbortSignal | undefined): Promise<WriteSlot> {
    const batch = this.newBatch(0);
    this.next = batch;
    const slot = this.slotIn(batch);
    if (this.mode.mode === "Batched") {
      batch.openedAt = this.now();
      this.armWindow(batch, this.mode.windowMs);
    }
    const prepared = this.prepare ? this.prepare() : Promise.resolve();
    batch.prepared = prepared;
    prepared.catch(() => undefined);
    try {
      await (signal ? untilAborted(prepared, signal) : prepared);
    } catch (error) {
      slot.release();
      throw error;
    }
    return slot;
  }

  /** (Re)arms the window's timer: windowMs from now, but never past the cap. */
  private armWindow(batch: Batch<T, M>, windowMs: number): void {
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
    if (!batch?.windowClosed || this.running || batch.writers > 0) return;
    this.next = undefined;
    if (batch.requests === 0) {
      // Every writer gave up (or its savepoint failed): nothing to activate.
      if (batch.timer) this.timers.clearTimeout(batch.timer);
      batch.resolve({ ok: false, error: new Error("nothing was written in this batch") });
      this.maybeStart();
      return;
    }
    this.stats.activations += 1;
    batch.started = true;
    this.running = (async () => {
      try {
        const value = await this.activate(batch.aborter.signal, batch.requests, batch.members);
        batch.resolve({ ok: true, value });
      } catch (error) {
        if (error instanceof PartialActivation) {
          const { failed, outcome } = error as PartialActivation<T, M>;
          batch.resolve(
            "value" in outcome
              ? { ok: true, value: outcome.value, failed }
              : { ok: false, error: outcome.error, failed },
          );
        } else {
          batch.resolve({ ok: false, error });
        }
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
