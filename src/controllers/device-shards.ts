// Several active replicas, each owning some devices: devices are split into shards by a stable hash
// of namespace/name, each shard owned through its own Lease by one replica at a time
// (runtime/shard-coordinator.ts), and rules follow their device. A replica caches only its shards'
// rules — one watch per device it owns, selected on spec.deviceRef.name (a selectable field of the
// rule CRDs) — so its memory divides; it keeps the device list itself, which is small.
//
// Ownership gates the work: the device, drift and rule controllers reconcile only owned devices and
// their rules. Handing a shard over: stop taking work for it, drop its rules from the cache, let the
// appliance calls in flight finish, close its sessions — and only then is its Lease released. A
// shard whose Lease could not be renewed in time is stopped at once.
import type { VnfDevice, VnfRule } from "../api/types.ts";
import type { ReconcileContext, ReconcileResult } from "../runtime/controller.ts";
import type { Informer } from "../runtime/informer.ts";
import type { KubeClient } from "../runtime/kube-http.ts";
import type { Logger } from "../runtime/logging.ts";
import type { PartitionedInformer } from "../runtime/partitioned-informer.ts";
import type { ObjectKey } from "../runtime/resource.ts";
import { ShardCoordinator, type ShardCoordinatorOptions } from "../runtime/shard-coordinator.ts";
import { shardOf } from "../runtime/shards.ts";
import type { SessionRegistry } from "./session-registry.ts";

export interface DeviceShardsOptions extends Omit<ShardCoordinatorOptions, "group"> {
  /** Lease name prefix and group label; default "vnf-operator". */
  group?: string;
  /** How long a handover waits for appliance calls in flight; default 10 s. */
  drainTimeoutMs?: number;
}

export interface DeviceShardsDeps {
  http: KubeClient;
  devices: Informer<VnfDevice>;
  /** The rule caches to fill per owned device (firewall and NAT rules). */
  ruleCaches: Array<PartitionedInformer<VnfRule>>;
  sessions: SessionRegistry;
  log: Logger;
  /** A device became ours: reconcile it (device and drift controllers). */
  onDeviceOwned(device: ObjectKey): void;
}

type Reconcile = (key: ObjectKey, ctx: ReconcileContext) => Promise<ReconcileResult | undefined>;

export class DeviceShards {
  readonly coordinator: ShardCoordinator;
  readonly #deps: DeviceShardsDeps;
  readonly #shards: number;
  readonly #drainTimeoutMs: number;
  readonly #owned = new Set<number>();

  constructor(options: DeviceShardsOptions, deps: DeviceShardsDeps) {
    this.#deps = deps;
    this.#shards = options.shards;
    this.#drainTimeoutMs = options.drainTimeoutMs ?? 10_000;
    this.coordinator = new ShardCoordinator(
      deps.http,
      { ...options, group: options.group ?? "vnf-operator" },
      {
        onAcquired: (shard) => this.#acquired(shard),
        onRevoked: (shard, immediate) => this.#revoked(shard, immediate),
      },
      { logger: deps.log },
    );
    // A device added to (or changed in) a shard we own gets its rule watches; a deleted one keeps them
    // until its rules are gone (their finalizers still have to be released).
    deps.devices.addEventHandler({
      onAdd: (device) => this.#follow(keyOf(device)),
      onUpdate: (_old, device) => this.#follow(keyOf(device)),
      onDelete: () => void this.#sweep(),
    });
  }

  shardOf(device: ObjectKey): number {
    return shardOf(`${device.namespace}/${device.name}`, this.#shards);
  }

  owns(device: ObjectKey): boolean {
    return this.#owned.has(this.shardOf(device));
  }

  /** A device-keyed reconciler that runs only for devices this replica owns. */
  gateDevice(reconcile: Reconcile): Reconcile {
    return async (key, ctx) => (this.owns(key) ? reconcile(key, ctx) : undefined);
  }

  /** A rule-keyed reconciler that runs only for rules of devices this replica owns. */
  gateRule(reconcile: Reconcile, rules: PartitionedInformer<VnfRule>): Reconcile {
    return async (key, ctx) => {
      const rule = rules.get(key.namespace, key.name);
      if (rule && !this.owns({ namespace: key.namespace, name: rule.spec.deviceRef.name })) return undefined;
      return reconcile(key, ctx);
    };
  }

  /** Runs the coordinator (and, on stop, hands every shard over). */
  run(signal: AbortSignal): Promise<void> {
    const sweeper = setInterval(() => void this.#sweep(), 30_000);
    return this.coordinator.run(signal).finally(() => clearInterval(sweeper));
  }

  #acquired(shard: number): void {
    this.#owned.add(shard);
    for (const device of this.#deps.devices.list()) {
      const key = keyOf(device);
      if (this.shardOf(key) !== shard) continue;
      this.#follow(key);
      this.#deps.onDeviceOwned(key);
    }
  }

  async #revoked(shard: number, immediate: boolean): Promise<void> {
    this.#owned.delete(shard);
    const ids = new Set<string>();
    for (const cache of this.#deps.ruleCaches) {
      for (const id of cache.ids()) if (this.shardOf(parseId(id)) === shard) ids.add(id);
    }
    await Promise.all(this.#deps.ruleCaches.flatMap((cache) => [...ids].map((id) => cache.remove(id))));
    const devices = this.#deps.sessions.devices().filter((d) => this.shardOf(d) === shard);
    await Promise.all(
      devices.map((d) =>
        immediate ? this.#deps.sessions.remove(d) : this.#deps.sessions.drain(d, this.#drainTimeoutMs),
      ),
    );
    this.#deps.log.info({ shard, devices: devices.length, immediate }, "shard work stopped");
  }

  /** Watches the rules of a device we own. */
  #follow(device: ObjectKey): void {
    if (!this.owns(device)) return;
    for (const cache of this.#deps.ruleCaches) {
      cache.add(idOf(device), {
        namespace: device.namespace,
        fieldSelector: `spec.deviceRef.name=${device.name}`,
      });
    }
  }

  /** Drops the watches of deleted devices once their rules are gone. */
  async #sweep(): Promise<void> {
    for (const cache of this.#deps.ruleCaches) {
      for (const id of cache.ids()) {
        const device = parseId(id);
        if (this.#deps.devices.get(device.namespace, device.name)) continue;
        if (this.#deps.ruleCaches.every((c) => c.sizeOf(id) === 0)) await cache.remove(id);
      }
    }
  }
}

function keyOf(obj: { metadata?: { namespace?: string; name?: string } }): ObjectKey {
  return { namespace: obj.metadata?.namespace ?? "", name: obj.metadata?.name ?? "" };
}

function idOf(device: ObjectKey): string {
  return `${device.namespace}/${device.name}`;
}

function parseId(id: string): ObjectKey {
  const slash = id.indexOf("/");
  return { namespace: id.slice(0, slash), name: id.slice(slash + 1) };
}
