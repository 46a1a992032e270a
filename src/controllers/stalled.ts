// When a state that needs a person is declared, and when a Stalled object is looked at again.
//
// Grace period: GitOps tools apply a batch of objects in an order of their own (Argo CD sync waves,
// Flux Kustomizations depending on each other, a Secret written later by an external-secrets
// controller), so a rule may arrive before its device and a device before its Secret. Until the grace
// period after the object's creation has passed, such a missing reference is a wait (InProgress);
// after it, Stalled (Failed: a pipeline stops waiting and says why). Either way the object recovers
// by itself when the reference appears: its arrival re-queues the object.
//
// Stalled is not forever: a Stalled object is tried again after a long backoff (1 min, doubling, capped
// at 15 min by default) — an appliance fixed by hand, an account given the missing permission — and
// at once when its device's health goes from failing to passing. The bookkeeping is in memory; after a
// restart every Stalled object is tried once more, which is what a restart is for.

/** How long a missing device (for a rule) or Secret (for a device) is waited for before Stalled. */
export const DEFAULT_GRACE_PERIOD_MS = 120_000;

export interface StalledRetryPolicy {
  /** The first wait after an object stalls. */
  initialMs: number;
  /** The longest wait between two attempts. */
  maxMs: number;
}

export const DEFAULT_STALLED_RETRY: StalledRetryPolicy = { initialMs: 60_000, maxMs: 15 * 60_000 };

/** The wait after the n-th consecutive stall (n >= 1): initial, doubling, capped. */
export function stalledRetryDelay(policy: StalledRetryPolicy, stalls: number): number {
  const exponent = Math.max(0, Math.min(stalls - 1, 30));
  return Math.min(policy.initialMs * 2 ** exponent, policy.maxMs);
}

/**
 * The grace period left for an object created at `created` (metadata.creationTimestamp), in ms; 0 when
 * it is over. An object without a creation time (never the case on the API server) gets all of it.
 */
export function graceLeft(created: string | undefined, now: Date, graceMs: number): number {
  const at = created ? Date.parse(created) : Number.NaN;
  if (Number.isNaN(at)) return graceMs;
  return Math.max(0, at + graceMs - now.getTime());
}

interface Stall {
  /** Consecutive stalls. */
  count: number;
  /** When the last attempt stalled. */
  at: number;
}

/** Per-object stall bookkeeping of one controller (keys: object uids). */
export class StallBook {
  readonly #policy: StalledRetryPolicy;
  readonly #stalls = new Map<string, Stall>();

  constructor(policy: StalledRetryPolicy = DEFAULT_STALLED_RETRY) {
    this.#policy = policy;
  }

  /** Records a stall of `key` at `now`; returns how long to wait before the next attempt. */
  stalled(key: string, now: Date): number {
    const count = (this.#stalls.get(key)?.count ?? 0) + 1;
    this.#stalls.set(key, { count, at: now.getTime() });
    return stalledRetryDelay(this.#policy, count);
  }

  /**
   * Whether `key` may be tried again now: its backoff is over, its device became healthy after the last
   * attempt (`recoveredAt`, the device's Ready=True transition), or nothing is known about it (first
   * look since the operator started). Otherwise the wait left.
   */
  due(key: string, now: Date, recoveredAt?: Date): { due: true } | { due: false; inMs: number } {
    const stall = this.#stalls.get(key);
    if (!stall) return { due: true };
    // Transition times have whole seconds: a recovery in the second of the last attempt counts.
    if (recoveredAt && recoveredAt.getTime() >= Math.floor(stall.at / 1000) * 1000) return { due: true };
    const inMs = stall.at + stalledRetryDelay(this.#policy, stall.count) - now.getTime();
    return inMs <= 0 ? { due: true } : { due: false, inMs };
  }

  /** The object is no longer stalled (or gone). */
  clear(key: string): void {
    this.#stalls.delete(key);
  }
}
