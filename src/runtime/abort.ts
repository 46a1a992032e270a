// Cancellation helpers. In the appliance layer every wait (a slot, the rate limiter, a retry delay, a
// commit job's poll interval, an activation) ends as soon as the reconcile's signal aborts — a
// shutdown's drain timeout or a lost lease — with the signal's reason, so no appliance call starts
// afterwards.

/** Rejects with the signal's reason once it aborts; otherwise settles as `promise` does. */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

/** Throws the signal's reason when it has aborted: call before each appliance request. */
export function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw signal.reason;
}
