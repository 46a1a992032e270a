// When a controller tries again after a retryable appliance error. The controller is the one retry
// owner (the session does not wait between attempts): after the appliance's Retry-After when it sent
// one, else after the work queue's per-key backoff (5 ms doubling). Both are cut to the operator's
// --max-retry-delay, so a failing device is tried at least that often and a recovered one is noticed.
import type { VnfError } from "../dictionary/errors.ts";
import type { ReconcileResult } from "../runtime/controller.ts";

/** --max-retry-delay's default: the longest wait between two attempts at a failing appliance call. */
export const DEFAULT_MAX_RETRY_DELAY_MS = 60_000;

export function requeueAfter(error: VnfError, maxRetryDelayMs: number): ReconcileResult {
  if (error.retryAfterMs === undefined) return { requeue: true };
  return { requeueAfterMs: Math.min(error.retryAfterMs, maxRetryDelayMs) };
}
