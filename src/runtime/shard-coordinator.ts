// Shard ownership on Kubernetes Leases, for running several active replicas: the work is split into
// `shards`, each owned through its own Lease (`<group>-shard-<i>`) by exactly one replica at a time.
// Every replica also renews a member Lease (`<group>-member-<hash>`); from the live members each
// computes the same desired owner per shard (shards.ts: even shares, few moves). A replica acquires a
// shard it should own once the Lease is free or expired, hands over a shard it should no longer own
// (stop its work, drain, then release), and stops a shard's work at once when it cannot renew its
// Lease within renewDeadline — before anyone else can take it, since leaseDuration > renewDeadline
// (client-go leader election's guarantee, per shard). Lease validity is judged by when WE saw each
// record change (lease.ts), so clock skew between replicas does not matter.
//
// One loop per retryPeriod: one LIST of the group's Leases, one write for the member Lease, one per
// shard held (renewal) or taken.
import { type Clock, sleep, systemClock } from "./clock.ts";
import { isNotFound, type KubeClient } from "./kube-http.ts";
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
import { assignShards, stableHash } from "./shards.ts";

export const SHARD_GROUP_LABEL = "vnf-operator.io/shard-group";
export const SHARD_ROLE_LABEL = "vnf-operator.io/shard-role";

export interface ShardCoordinatorOptions {
  namespace: string;
  /** Prefix of the Lease names and value of their group label, e.g. "vnf-operator". */
  group: string;
  shards: number;
  identity: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
}

export interface ShardCallbacks {
  /** This replica now owns `shard`: start its work. */
  onAcquired(shard: number): void;
  /**
   * This replica must stop `shard`'s work: before handing it over (`immediate` false: finish or drain
   * what is in flight, then resolve; the Lease is released after), or because its Lease could not be
   * renewed in time (`immediate` true: stop now, another replica may take it soon).
   */
  onRevoked(shard: number, immediate: boolean): Promise<void>;
}

interface LeaseObject {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    resourceVersion?: string;
    labels?: Record<string, string>;
  };
  spec?: Partial<LeaseRecord>;
}

interface Held {
  lease: LeaseObject;
  record: LeaseRecord;
  /** Local time of the last successful write. */
  renewedAt: number;
  /** A handover is in progress (draining): renew until it is done, then release. */
  handover?: Promise<void>;
  handedOver?: boolean;
}

export class ShardCoordinator {
  readonly options: Required<ShardCoordinatorOptions>;
  readonly #http: KubeClient;
  readonly #callbacks: ShardCallbacks;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #observations = new Map<string, Observation>();
  readonly #held = new Map<number, Held>();
  #member: LeaseObject | undefined;
  #members: string[] = [];

  constructor(
    http: KubeClient,
    options: ShardCoordinatorOptions,
    callbacks: ShardCallbacks,
    deps: { clock?: Clock; logger?: Logger } = {},
  ) {
    this.options = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000, ...options };
    validateTimings(this.options.leaseDurationMs, this.options.renewDeadlineMs, this.options.retryPeriodMs);
    if (!Number.isInteger(options.shards) || options.shards < 1) throw new Error("shards must be >= 1");
    this.#http = http;
    this.#callbacks = callbacks;
    this.#clock = deps.clock ?? systemClock;
    this.#log = (deps.logger ?? silentLogger).child({
      shardGroup: options.group,
      identity: options.identity,
    });
  }

  /** The shards this replica owns now. */
  owned(): number[] {
    return [...this.#held.entries()].filter(([, h]) => !h.handedOver).map(([shard]) => shard);
  }

  /** The live members as last seen (this replica included). */
  members(): readonly string[] {
    return this.#members;
  }

  shardLeaseName(shard: number): string {
    return `${this.options.group}-shard-${shard}`;
  }

  memberLeaseName(): string {
    return `${this.options.group}-member-${stableHash(this.options.identity).toString(16)}`;
  }

  /** Runs until the signal aborts; then hands every shard over and leaves the group. */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      await this.tick();
      await sleep(this.#clock, this.options.retryPeriodMs, signal).catch(() => undefined);
    }
    await this.#leave();
  }

  /** One round: observe, renew membership, renew/hand over/take shards. Exposed for tests. */
  async tick(): Promise<void> {
    try {
      await this.#round();
    } catch (error) {
      this.#log.warn({ error: error instanceof Error ? error.message : String(error) }, "shard round failed");
    }
    this.#dropExpired();
  }

  /** Stops and hands every shard over (what run() does when its signal aborts). Exposed for tests. */
  leave(): Promise<void> {
    return this.#leave();
  }

  async #round(): Promise<void> {
    const leases = await this.#list();
    const now = this.#clock.now();
    const byName = new Map(leases.map((l) => [l.metadata.name, l]));
    for (const lease of leases) {
      this.#observations.set(
        lease.metadata.name,
        observe(this.#observations.get(lease.metadata.name), toRecord(lease), now),
      );
    }
    await this.#renewMember(byName.get(this.memberLeaseName()));
    this.#members = this.#liveMembers(leases, this.#clock.now());
    const owners = assignShards(this.options.shards, this.#members);
    for (let shard = 0; shard < this.options.shards; shard++) {
      const desired = owners[shard];
      const held = this.#held.get(shard);
      if (held) await this.#keep(shard, held, desired, byName.get(this.shardLeaseName(shard)));
      else if (desired === this.options.identity)
        await this.#take(shard, byName.get(this.shardLeaseName(shard)));
    }
  }

  async #list(): Promise<LeaseObject[]> {
    const list = await this.#http.request<{ items?: LeaseObject[] }>({
      method: "GET",
      path: collectionPath(CoreResources.leases, this.options.namespace),
      query: { labelSelector: `${SHARD_GROUP_LABEL}=${this.options.group}` },
      timeoutMs: this.options.renewDeadlineMs,
    });
    return list.items ?? [];
  }

  #liveMembers(leases: LeaseObject[], now: number): string[] {
    const live = new Set([this.options.identity]);
    for (const lease of leases) {
      if (lease.metadata.labels?.[SHARD_ROLE_LABEL] !== "member") continue;
      const observation = this.#observations.get(lease.metadata.name);
      const holder = lease.spec?.holderIdentity ?? "";
      if (holder !== "" && observation && leaseValid(observation, now)) live.add(holder);
    }
    return [...live].sort();
  }

  async #renewMember(current: LeaseObject | undefined): Promise<void> {
    const name = this.memberLeaseName();
    const record = this.#freshRecord(current ? toRecord(current) : undefined);
    this.#member = await this.#write(name, "member", current ?? this.#member, record);
  }

  /** A shard we hold: renew it, or hand it over to the member that should own it. */
  async #keep(
    shard: number,
    held: Held,
    desired: string | undefined,
    current: LeaseObject | undefined,
  ): Promise<void> {
    const name = this.shardLeaseName(shard);
    if (current && current.spec?.holderIdentity !== this.options.identity) {
      // Someone else holds it (we were partitioned away past the lease): stop now.
      this.#held.delete(shard);
      this.#log.error({ shard, holder: current.spec?.holderIdentity }, "shard lost: held by another replica");
      if (!held.handedOver) await this.#callbacks.onRevoked(shard, true);
      return;
    }
    if (held.handedOver) {
      // Drained: release, so the new owner takes it at once.
      await this.#release(name, held);
      this.#held.delete(shard);
      this.#log.info({ shard }, "shard handed over");
      return;
    }
    if (desired !== this.options.identity && !held.handover) {
      this.#log.info({ shard, to: desired }, "handing the shard over");
      held.handover = this.#callbacks.onRevoked(shard, false).then(
        () => {
          held.handedOver = true;
        },
        (error: unknown) => {
          this.#log.warn({ shard, error: String(error) }, "shard drain failed; releasing anyway");
          held.handedOver = true;
        },
      );
    }
    try {
      // The deadline counts from before the write: others' view of it can only be later.
      const sentAt = this.#clock.now();
      const record = { ...held.record, renewTime: microTime(sentAt) };
      held.lease = await this.#put(name, { ...(current ?? held.lease), spec: record });
      held.record = record;
      held.renewedAt = sentAt;
    } catch (error) {
      this.#log.warn(
        { shard, error: error instanceof Error ? error.message : String(error) },
        "shard renew failed",
      );
    }
  }

  /** A shard we should own: take its Lease if it is free, released or expired. */
  async #take(shard: number, current: LeaseObject | undefined): Promise<void> {
    const name = this.shardLeaseName(shard);
    const now = this.#clock.now();
    const decision = decide(
      current ? toRecord(current) : undefined,
      this.#observations.get(name),
      this.options.identity,
      now,
      Math.round(this.options.leaseDurationMs / 1000),
    );
    if (decision.action === "wait") return;
    try {
      const sentAt = this.#clock.now();
      const lease = await this.#write(name, "shard", current, decision.record);
      this.#held.set(shard, { lease, record: decision.record, renewedAt: sentAt });
      this.#observations.set(name, { record: decision.record, at: sentAt });
      this.#log.info({ shard }, "shard acquired");
      this.#callbacks.onAcquired(shard);
    } catch (error) {
      // A conflict: another replica wrote it first; the next round decides again.
      this.#log.debug(
        { shard, error: error instanceof Error ? error.message : String(error) },
        "shard not taken",
      );
    }
  }

  /** Shards whose renewals failed past the deadline: stop their work now (others may take them soon). */
  #dropExpired(): void {
    const now = this.#clock.now();
    for (const [shard, held] of this.#held) {
      if (now - held.renewedAt < this.options.renewDeadlineMs) continue;
      this.#held.delete(shard);
      this.#log.error(
        { shard, renewDeadlineMs: this.options.renewDeadlineMs },
        "shard lost: lease not renewed in time",
      );
      if (!held.handedOver) void this.#callbacks.onRevoked(shard, true);
    }
  }

  /** On stop: hand over every shard (drain, release) and release the member Lease. */
  async #leave(): Promise<void> {
    const shards = [...this.#held.entries()];
    await Promise.all(
      shards.map(async ([shard, held]) => {
        if (!held.handedOver) await this.#callbacks.onRevoked(shard, false).catch(() => undefined);
        await this.#release(this.shardLeaseName(shard), held).catch(() => undefined);
        this.#held.delete(shard);
      }),
    );
    if (this.#member?.metadata.resourceVersion) {
      const record = releasedRecord(toRecord(this.#member), this.#clock.now());
      await this.#put(this.memberLeaseName(), { ...this.#member, spec: record }).catch(() => undefined);
    }
  }

  async #release(name: string, held: Held): Promise<void> {
    const record = releasedRecord(held.record, this.#clock.now());
    try {
      await this.#put(name, { ...held.lease, spec: record });
    } catch (error) {
      // Not fatal: the Lease expires on its own after leaseDuration.
      this.#log.warn(
        { lease: name, error: error instanceof Error ? error.message : String(error) },
        "release failed",
      );
    }
  }

  #freshRecord(current: LeaseRecord | undefined): LeaseRecord {
    const stamp = microTime(this.#clock.now());
    return {
      holderIdentity: this.options.identity,
      leaseDurationSeconds: Math.round(this.options.leaseDurationMs / 1000),
      acquireTime: current?.holderIdentity === this.options.identity ? (current.acquireTime ?? stamp) : stamp,
      renewTime: stamp,
      leaseTransitions: current?.leaseTransitions ?? 0,
    };
  }

  /** Creates the Lease, or updates it with the resourceVersion last seen (a 409 if anyone wrote since). */
  async #write(
    name: string,
    role: "member" | "shard",
    current: LeaseObject | undefined,
    record: LeaseRecord,
  ): Promise<LeaseObject> {
    const body: LeaseObject = {
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: {
        name,
        namespace: this.options.namespace,
        labels: { [SHARD_GROUP_LABEL]: this.options.group, [SHARD_ROLE_LABEL]: role },
        ...(current?.metadata.resourceVersion ? { resourceVersion: current.metadata.resourceVersion } : {}),
      },
      spec: record,
    };
    if (!current?.metadata.resourceVersion) {
      try {
        return await this.#http.request<LeaseObject>({
          method: "POST",
          path: collectionPath(CoreResources.leases, this.options.namespace),
          body,
          timeoutMs: this.options.renewDeadlineMs,
        });
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
    }
    return this.#put(name, body);
  }

  #put(name: string, body: LeaseObject): Promise<LeaseObject> {
    return this.#http.request<LeaseObject>({
      method: "PUT",
      path: objectPath(CoreResources.leases, { namespace: this.options.namespace, name }),
      body,
      timeoutMs: this.options.renewDeadlineMs,
    });
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
