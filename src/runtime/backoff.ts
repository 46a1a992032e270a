// Jittered exponential backoff for informer restarts, after client-go's reflector and kube-rs's
// DefaultBackoff: 800 ms doubling to 30 s, reset once the last failure is 120 s old.
import type { Clock } from "./clock.ts";
import { systemClock } from "./clock.ts";

export interface BackoffOptions {
  initialMs?: number;
  maxMs?: number;
  factor?: number;
  /**
   * Fraction taken off at random: a delay lies in [d·(1−jitter), d] where d = min(max, initial·factor^n).
   * Jittering downwards keeps every delay within the documented 800 ms → 30 s bounds, and keeps
   * restarting informers apart even once they all sit at the cap.
   */
  jitter?: number;
  /** After this long without a failure the next delay starts from initialMs again. */
  resetAfterMs?: number;
  clock?: Clock;
  random?: () => number;
}

export class Backoff {
  readonly #initialMs: number;
  readonly #maxMs: number;
  readonly #factor: number;
  readonly #jitter: number;
  readonly #resetAfterMs: number;
  readonly #clock: Clock;
  readonly #random: () => number;
  #attempt = 0;
  #lastFailureAt: number | undefined;

  constructor(options: BackoffOptions = {}) {
    this.#initialMs = options.initialMs ?? 800;
    this.#maxMs = options.maxMs ?? 30_000;
    this.#factor = options.factor ?? 2;
    this.#jitter = options.jitter ?? 0.25;
    this.#resetAfterMs = options.resetAfterMs ?? 120_000;
    this.#clock = options.clock ?? systemClock;
    this.#random = options.random ?? Math.random;
  }

  /** The delay before the next attempt; each call counts one more failure. */
  next(): number {
    const now = this.#clock.now();
    if (this.#lastFailureAt !== undefined && now - this.#lastFailureAt >= this.#resetAfterMs)
      this.#attempt = 0;
    this.#lastFailureAt = now;
    const base = Math.min(this.#maxMs, this.#initialMs * this.#factor ** this.#attempt);
    this.#attempt++;
    return Math.round(base * (1 - this.#jitter * this.#random()));
  }

  /** Forget all failures (used when a caller knows it is healthy again). */
  reset(): void {
    this.#attempt = 0;
    this.#lastFailureAt = undefined;
  }
}
