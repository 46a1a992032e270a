// Rule numbers for appliances whose rules are identified by a number the client chooses (VyOS
// `firewall ... rule N`). The lowest free number in the dictionary's range, per device and rule kind:
// deterministic, and never one another rule holds — recorded in status (with the write-ahead intent)
// or reserved in memory by a reconcile that has not written it yet.

export interface NumberRange {
  min: number;
  max: number;
}

/** The lowest number in range not in `used`, or undefined when the range is full. */
export function pickRuleNumber(used: ReadonlySet<number>, range: NumberRange): number | undefined {
  for (let n = range.min; n <= range.max; n++) if (!used.has(n)) return n;
  return undefined;
}

/** In-memory reservations, so two concurrent reconciles on one device never pick the same number. */
export class RuleNumberReservations {
  /** scope ("namespace/device/kind") → owner (rule uid) → number */
  readonly #byScope = new Map<string, Map<string, number>>();

  /**
   * The number for `owner`: its existing reservation, else the lowest number free of `recorded`
   * (numbers in status) and of other reservations. undefined when the range is exhausted.
   */
  reserve(
    scope: string,
    owner: string,
    recorded: ReadonlySet<number>,
    range: NumberRange,
    /** A number wanted for its place (VyOS order); taken when it is free. */
    preferred?: number,
  ): number | undefined {
    let reservations = this.#byScope.get(scope);
    if (!reservations) {
      reservations = new Map();
      this.#byScope.set(scope, reservations);
    }
    const mine = reservations.get(owner);
    if (mine !== undefined && !recorded.has(mine)) return mine;
    const used = new Set(recorded);
    for (const [other, n] of reservations) if (other !== owner) used.add(n);
    const picked =
      preferred !== undefined && !used.has(preferred) && preferred >= range.min && preferred <= range.max
        ? preferred
        : pickRuleNumber(used, range);
    if (picked !== undefined) reservations.set(owner, picked);
    return picked;
  }

  /** Every number reserved under a scope (the order step never moves a rule onto one). */
  reserved(scope: string): number[] {
    return [...(this.#byScope.get(scope)?.values() ?? [])];
  }

  /** Drops a reservation once the number is recorded in status (or the rule is gone). */
  release(scope: string, owner: string): void {
    this.#byScope.get(scope)?.delete(owner);
  }
}
