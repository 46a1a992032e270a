// Leader election on a coordination.k8s.io/v1 Lease (client-go tools/leaderelection): acquire, renew
// every retryPeriod with optimistic concurrency (resourceVersion), give up leadership when renewal has
// failed for renewDeadline, and release the lease on shutdown (ReleaseOnCancel) so a follower takes
// over at once. The decisions themselves are pure functions in lease.ts.
import { type Clock, sleep, systemClock } from "./clock.ts";
import { isConflict, isNotFound, type KubeClient } from "./kube-http.ts";
import {
  decide,
  type LeaseRecord,
  leaseValid,
  microTime,
  type Observation,
  observe,
  releasedRecord,
  validateTimings,
} from "./lease.ts";
import { type Logger, silentLogger } from "./logging.ts";
import { CoreResources, collectionPath, objectPath } from "./resource.ts";

export interface LeaderElectionOptions {
  namespace: string;
  /** The Lease's name (also the gauge's `name` label). */
  name: string;
  /** This replica's identity; defaults to hostname_uuid in the manager. */
  identity: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  /** Release the Lease when stopped (default true: the process exits right after). */
  releaseOnCancel?: boolean;
}

export interface LeaderCallbacks {
  onStartedLeading(): void;
  /** Called once leadership ends: lost (renewal failed / taken over) or released on stop. */
  onStoppedLeading(reason: "lost" | "released"): void;
  onNewLeader?(identity: string): void;
}

interface LeaseObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec?: Partial<LeaseRecord>;
}

export class LeaderElector {
  readonly options: Required<LeaderElectionOptions>;
  readonly #http: KubeClient;
  readonly #callbacks: LeaderCallbacks;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #log: Logger;
  readonly #onStatus: ((leading: boolean) => void) | undefined;
  #observation: Observation | undefined;
  /** The Lease as last read or written by us (its resourceVersion guards our next update). */
  #lease: LeaseObject | undefined;
  #leading = false;
  #knownLeader = "";

  constructor(
    http: KubeClient,
    options: LeaderElectionOptions,
    callbacks: LeaderCallbacks,
    deps: {
      clock?: Clock;
      random?: () => number;
      logger?: Logger;
      onStatus?: (leading: boolean) => void;
    } = {},
  ) {
    this.options = {
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
      releaseOnCancel: true,
      ...options,
    };
    validateTimings(this.options.leaseDurationMs, this.options.renewDeadlineMs, this.options.retryPeriodMs);
    this.#http = http;
    this.#callbacks = callbacks;
    this.#clock = deps.clock ?? systemClock;
    this.#random = deps.random ?? Math.random;
    this.#log = (deps.logger ?? silentLogger).child({ lease: `${options.namespace}/${options.name}` });
    this.#onStatus = deps.onStatus;
  }

  isLeader(): boolean {
    return this.#leading;
  }

  /** The identity of the current leader as last observed ("" if none). */
  leader(): string {
    return this.#knownLeader;
  }

  /**
   * Campaigns until leading, then renews until the signal aborts (release, "released") or renewal
   * fails past the deadline ("lost"). Resolves when leadership (or the campaign) is over.
   */
  async run(signal: AbortSignal): Promise<void> {
    const { retryPeriodMs, renewDeadlineMs } = this.options;
    this.#onStatus?.(false);
    // Acquire: retry every retryPeriod + up to 1.2× jitter (client-go wait.JitterUntil).
    while (!signal.aborted) {
      if (await this.#tryAcquireOrRenew(signal, renewDeadlineMs)) break;
      await sleep(this.#clock, retryPeriodMs * (1 + 1.2 * this.#random()), signal).catch(() => undefined);
    }
    if (signal.aborted) return;
    this.#leading = true;
    this.#onStatus?.(true);
    this.#log.info({ identity: this.options.identity }, "became leader");
    this.#callbacks.onStartedLeading();

    let lastRenew = this.#clock.now();
    while (!signal.aborted) {
      await sleep(this.#clock, retryPeriodMs, signal).catch(() => undefined);
      if (signal.aborted) break;
      const remaining = renewDeadlineMs - (this.#clock.now() - lastRenew);
      const renewed = remaining > 0 && (await this.#tryAcquireOrRenew(signal, remaining));
      if (signal.aborted) break;
      if (renewed) {
        lastRenew = this.#clock.now();
        continue;
      }
      const takenOver = this.#knownLeader !== "" && this.#knownLeader !== this.options.identity;
      if (takenOver || this.#clock.now() - lastRenew >= renewDeadlineMs) {
        this.#leading = false;
        this.#onStatus?.(false);
        this.#log.error(
          { renewDeadlineMs, leader: this.#knownLeader },
          takenOver
            ? "leadership taken over by another replica"
            : "failed to renew the lease within the deadline",
        );
        this.#callbacks.onStoppedLeading("lost");
        return;
      }
    }
    // Stopped while leading.
    if (this.options.releaseOnCancel) await this.#release();
    this.#leading = false;
    this.#onStatus?.(false);
    this.#callbacks.onStoppedLeading("released");
  }

  async #tryAcquireOrRenew(signal: AbortSignal, timeoutMs: number): Promise<boolean> {
    const requestSignal = AbortSignal.any([signal, AbortSignal.timeout(Math.max(1, timeoutMs))]);
    const { namespace, name, identity, leaseDurationMs } = this.options;
    const leaseSeconds = Math.round(leaseDurationMs / 1000);
    if (await this.#renewOptimistically(requestSignal)) return true;
    try {
      let current: LeaseObject | undefined;
      try {
        current = await this.#http.request<LeaseObject>({
          method: "GET",
          path: objectPath(CoreResources.leases, { namespace, name }),
          signal: requestSignal,
        });
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
      const now = this.#clock.now();
      const currentRecord = current ? toRecord(current) : undefined;
      if (currentRecord) {
        this.#observation = observe(this.#observation, currentRecord, now);
        this.#setKnownLeader(currentRecord.holderIdentity);
      }
      const decision = decide(currentRecord, this.#observation, identity, now, leaseSeconds);
      if (decision.action === "wait") return false;
      const body: LeaseObject = {
        apiVersion: "coordination.k8s.io/v1",
        kind: "Lease",
        metadata: {
          name,
          namespace,
          ...(current?.metadata.resourceVersion ? { resourceVersion: current.metadata.resourceVersion } : {}),
        },
        spec: decision.record,
      };
      this.#lease =
        decision.action === "create"
          ? await this.#http.request<LeaseObject>({
              method: "POST",
              path: collectionPath(CoreResources.leases, namespace),
              body,
              signal: requestSignal,
            })
          : await this.#http.request<LeaseObject>({
              method: "PUT",
              path: objectPath(CoreResources.leases, { namespace, name }),
              body,
              signal: requestSignal,
            });
      this.#observation = { record: decision.record, at: this.#clock.now() };
      this.#setKnownLeader(identity);
      return true;
    } catch (error) {
      if (signal.aborted) return false;
      const message = error instanceof Error ? error.message : String(error);
      // A conflict means someone else wrote the Lease first: normal during a contest.
      if (isConflict(error)) this.#log.debug({ error: message }, "lease changed under us; will retry");
      else this.#log.warn({ error: message }, "lease acquire/renew failed");
      return false;
    }
  }

  /**
   * The leader's fast path (client-go): update the Lease we wrote last without reading it first; its
   * resourceVersion makes the write fail if anyone else touched it, and then the slow path decides.
   */
  async #renewOptimistically(signal: AbortSignal): Promise<boolean> {
    const lease = this.#lease;
    const observation = this.#observation;
    const now = this.#clock.now();
    if (!this.#leading || !lease?.metadata.resourceVersion || !observation || !leaseValid(observation, now))
      return false;
    const record: LeaseRecord = { ...observation.record, renewTime: microTime(now) };
    try {
      this.#lease = await this.#http.request<LeaseObject>({
        method: "PUT",
        path: objectPath(CoreResources.leases, {
          namespace: this.options.namespace,
          name: this.options.name,
        }),
        body: { ...lease, spec: record },
        signal,
      });
      this.#observation = { record, at: this.#clock.now() };
      return true;
    } catch (error) {
      if (!signal.aborted) {
        this.#log.debug(
          { error: error instanceof Error ? error.message : String(error) },
          "optimistic renew failed",
        );
      }
      return false;
    }
  }

  async #release(): Promise<void> {
    let lease = this.#lease;
    if (!lease?.metadata.resourceVersion) return;
    const { namespace, name, identity } = this.options;
    const path = objectPath(CoreResources.leases, { namespace, name });
    // A renewal aborted by the stop may still have been applied, leaving our resourceVersion stale:
    // on a conflict, re-read and release if the Lease is still ours.
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        if (attempt > 0) {
          lease = await this.#http.request<LeaseObject>({ method: "GET", path, timeoutMs: 5_000 });
          if (toRecord(lease).holderIdentity !== identity) return;
        }
        const record = releasedRecord(toRecord(lease), this.#clock.now());
        await this.#http.request({ method: "PUT", path, body: { ...lease, spec: record }, timeoutMs: 5_000 });
        this.#log.info("released the lease");
        return;
      } catch (error) {
        if (isConflict(error)) continue;
        // Not fatal: the lease expires on its own after leaseDuration.
        this.#log.warn(
          { error: error instanceof Error ? error.message : String(error) },
          "failed to release the lease",
        );
        return;
      }
    }
    this.#log.warn("failed to release the lease: it kept changing under us");
  }

  #setKnownLeader(identity: string): void {
    if (identity === this.#knownLeader) return;
    this.#knownLeader = identity;
    if (identity) {
      this.#log.info({ leader: identity }, "new leader observed");
      this.#callbacks.onNewLeader?.(identity);
    }
  }
}

function toRecord(lease: LeaseObject): LeaseRecord {
  const spec = lease.spec ?? {};
  return {
    holderIdentity: spec.holderIdentity ?? "",
    leaseDurationSeconds: spec.leaseDurationSeconds ?? 0,
    acquireTime: spec.acquireTime,
    renewTime: spec.renewTime,
    leaseTransitions: spec.leaseTransitions ?? 0,
  };
}
