// Leader-election decisions as pure functions over a coordination.k8s.io/v1 Lease record, after
// client-go tools/leaderelection (tryAcquireOrRenew). Validity is judged by the time WE observed
// the record change (local clock), never by the timestamps in it, so clock skew between replicas
// does not matter.

export interface LeaseRecord {
  holderIdentity: string;
  leaseDurationSeconds: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions: number;
}

/** The record as last seen, and when (local clock) it was first seen in that state. */
export interface Observation {
  record: LeaseRecord;
  at: number;
}

export type LeaseDecision =
  | { action: "create"; record: LeaseRecord }
  | { action: "update"; record: LeaseRecord }
  | { action: "wait"; holder: string };

/** Keeps the observation time unless the record changed (a renewal by the holder changes renewTime). */
export function observe(previous: Observation | undefined, current: LeaseRecord, now: number): Observation {
  if (previous && sameRecord(previous.record, current)) return previous;
  return { record: current, at: now };
}

export function leaseValid(observation: Observation, now: number): boolean {
  return observation.at + observation.record.leaseDurationSeconds * 1000 > now;
}

/**
 * What to do given the Lease on the server (undefined = it does not exist) and our observation of it:
 * create it, take or renew it, or wait because someone else holds a valid lease.
 */
export function decide(
  current: LeaseRecord | undefined,
  observation: Observation | undefined,
  identity: string,
  now: number,
  leaseDurationSeconds: number,
): LeaseDecision {
  const stamp = microTime(now);
  const fresh: LeaseRecord = {
    holderIdentity: identity,
    leaseDurationSeconds,
    acquireTime: stamp,
    renewTime: stamp,
    leaseTransitions: 0,
  };
  if (!current) return { action: "create", record: fresh };
  const heldByUs = current.holderIdentity === identity;
  // Without an observation we have only just seen the record, so a held lease counts as valid.
  if (current.holderIdentity !== "" && !heldByUs && (!observation || leaseValid(observation, now))) {
    return { action: "wait", holder: current.holderIdentity };
  }
  if (heldByUs) {
    return {
      action: "update",
      record: {
        ...fresh,
        acquireTime: current.acquireTime ?? stamp,
        leaseTransitions: current.leaseTransitions,
      },
    };
  }
  return { action: "update", record: { ...fresh, leaseTransitions: current.leaseTransitions + 1 } };
}

/** What a leader writes when it steps down (client-go ReleaseOnCancel): no holder, 1 s duration. */
export function releasedRecord(current: LeaseRecord, now: number): LeaseRecord {
  const stamp = microTime(now);
  return {
    holderIdentity: "",
    leaseDurationSeconds: 1,
    acquireTime: stamp,
    renewTime: stamp,
    leaseTransitions: current.leaseTransitions,
  };
}

/** client-go's rule: leaseDuration > renewDeadline > retryPeriod × 1.2 (its jitter factor). */
export function validateTimings(
  leaseDurationMs: number,
  renewDeadlineMs: number,
  retryPeriodMs: number,
): void {
  if (leaseDurationMs <= renewDeadlineMs) throw new Error("leaseDuration must be greater than renewDeadline");
  if (renewDeadlineMs <= retryPeriodMs * 1.2)
    throw new Error("renewDeadline must be greater than retryPeriod*1.2");
  if (leaseDurationMs < 1000 || leaseDurationMs % 1000 !== 0)
    throw new Error("leaseDuration must be a whole number of seconds (the Lease stores seconds)");
}

/** metav1.MicroTime: RFC 3339 with microseconds. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

function sameRecord(a: LeaseRecord, b: LeaseRecord): boolean {
  return (
    a.holderIdentity === b.holderIdentity &&
    a.leaseDurationSeconds === b.leaseDurationSeconds &&
    a.acquireTime === b.acquireTime &&
    a.renewTime === b.renewTime &&
    a.leaseTransitions === b.leaseTransitions
  );
}
