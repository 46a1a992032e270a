// Decides what a repeated Event costs, after client-go tools/events (series) and the core correlator's
// spam filter: the first occurrence creates an Event, the second turns it into a series at once, later
// repeats only bump the series in memory (flushed periodically), and each object may create at most
// `burst` distinct Events, refilled one per `refillMs`. A hot loop therefore writes O(1) Events.

export interface CorrelatorOptions {
  /** Repeats within this window join the series; default 6 min (client-go). */
  seriesWindowMs?: number;
  /** Distinct new Events per object before throttling; default 25. */
  burst?: number;
  /** One more distinct Event allowed per object this often; default 5 min. */
  refillMs?: number;
}

export type Correlation =
  | { action: "create"; key: string }
  | { action: "series"; key: string; count: number }
  | { action: "deferred"; key: string; count: number }
  | { action: "drop"; key: string };

export interface EventRef {
  namespace: string;
  name: string;
}

interface SeriesEntry {
  count: number;
  lastSeen: number;
  /** The Event once created (series patches need it). */
  ref?: EventRef;
  /** A repeat not yet written. */
  dirty: boolean;
}

interface Bucket {
  tokens: number;
  last: number;
}

export class EventCorrelator {
  readonly #windowMs: number;
  readonly #burst: number;
  readonly #refillMs: number;
  readonly #series = new Map<string, SeriesEntry>();
  readonly #buckets = new Map<string, Bucket>();

  constructor(options: CorrelatorOptions = {}) {
    this.#windowMs = options.seriesWindowMs ?? 6 * 60_000;
    this.#burst = options.burst ?? 25;
    this.#refillMs = options.refillMs ?? 5 * 60_000;
  }

  /** Records an occurrence of the Event identified by key, for the object identified by objectKey. */
  observe(key: string, objectKey: string, now: number): Correlation {
    const entry = this.#series.get(key);
    if (entry && now - entry.lastSeen <= this.#windowMs) {
      entry.count++;
      entry.lastSeen = now;
      if (entry.count === 2) return { action: "series", key, count: 2 };
      entry.dirty = true;
      return { action: "deferred", key, count: entry.count };
    }
    if (!this.#take(objectKey, now)) return { action: "drop", key };
    this.#series.set(key, { count: 1, lastSeen: now, dirty: false });
    return { action: "create", key };
  }

  /** Remembers the created Event so its series can be patched. */
  created(key: string, ref: EventRef): void {
    const entry = this.#series.get(key);
    if (entry) entry.ref = ref;
  }

  refOf(key: string): EventRef | undefined {
    return this.#series.get(key)?.ref;
  }

  /** Series with unwritten repeats (then marked clean); also forgets series older than the window. */
  takeDirty(now: number): Array<{ key: string; ref: EventRef; count: number; lastSeen: number }> {
    const out: Array<{ key: string; ref: EventRef; count: number; lastSeen: number }> = [];
    for (const [key, entry] of this.#series) {
      if (entry.dirty && entry.ref) {
        out.push({ key, ref: entry.ref, count: entry.count, lastSeen: entry.lastSeen });
        entry.dirty = false;
      }
      if (!entry.dirty && now - entry.lastSeen > this.#windowMs) this.#series.delete(key);
    }
    for (const [objectKey, bucket] of this.#buckets) {
      if (this.#refill(bucket, now) >= this.#burst) this.#buckets.delete(objectKey);
    }
    return out;
  }

  #take(objectKey: string, now: number): boolean {
    let bucket = this.#buckets.get(objectKey);
    if (!bucket) {
      bucket = { tokens: this.#burst, last: now };
      this.#buckets.set(objectKey, bucket);
    }
    this.#refill(bucket, now);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  #refill(bucket: Bucket, now: number): number {
    bucket.tokens = Math.min(this.#burst, bucket.tokens + (now - bucket.last) / this.#refillMs);
    bucket.last = now;
    return bucket.tokens;
  }
}

/**
 * Masks what looks like a credential in a message (a safety net: callers must not pass secrets).
 * Covers key=value / key: value pairs with credential-like keys, and Basic/Bearer authorization.
 */
export function scrubSecrets(text: string): string {
  return text
    .replace(/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi, "$1 [REDACTED]")
    .replace(
      /\b(password|passwd|pass|token|secret|api[-_]?key|apikey|authorization|private[-_]?key|credentials?)(["']?\s*[:=]\s*["']?)(?!(?:Bearer|Basic)\s|\[REDACTED\])([^\s"',;&]+)/gi,
      "$1$2[REDACTED]",
    );
}
