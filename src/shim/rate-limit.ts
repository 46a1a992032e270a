// Per-subject sliding-window limit (the enhanced broker's 100 requests per 60 s). In memory: one shim
// replica answers for itself; the limit is a guard against a runaway caller, not a quota.
export interface RateLimitOptions {
  max: number;
  windowMs: number;
}

export type RateDecision = { allowed: true } | { allowed: false; retryAfterSec: number };

export class SlidingWindowLimiter {
  readonly #options: RateLimitOptions;
  readonly #hits = new Map<string, number[]>();
  #calls = 0;

  constructor(options: RateLimitOptions) {
    this.#options = options;
  }

  check(key: string, nowMs: number): RateDecision {
    const since = nowMs - this.#options.windowMs;
    const hits = (this.#hits.get(key) ?? []).filter((t) => t > since);
    if (++this.#calls % 1000 === 0) this.#prune(since);
    if (hits.length >= this.#options.max) {
      this.#hits.set(key, hits);
      const oldest = hits[0] ?? nowMs;
      return {
        allowed: false,
        retryAfterSec: Math.max(1, Math.ceil((oldest + this.#options.windowMs - nowMs) / 1000)),
      };
    }
    hits.push(nowMs);
    this.#hits.set(key, hits);
    return { allowed: true };
  }

  #prune(since: number): void {
    for (const [key, hits] of this.#hits) if (!hits.some((t) => t > since)) this.#hits.delete(key);
  }
}
