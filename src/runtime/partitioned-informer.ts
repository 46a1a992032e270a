// One cache made of several informers, each over a slice of a resource (a namespace and a field or
// label selector), added and removed while running: a sharded replica watches only its shards'
// objects, so its memory divides with the number of replicas. Reads and event handlers see the union,
// as they would one Informer.
import { type EventHandler, Informer, type InformerOptions } from "./informer.ts";
import type { KubeClient } from "./kube-http.ts";
import type { KubeObject, ResourceType } from "./resource.ts";

export interface Partition {
  namespace?: string;
  fieldSelector?: string;
  labelSelector?: string;
}

export class PartitionedInformer<T extends KubeObject = KubeObject> {
  readonly resource: ResourceType;
  readonly #http: KubeClient;
  readonly #options: Omit<InformerOptions, "resource" | "namespaces" | "fieldSelector" | "labelSelector">;
  readonly #partitions = new Map<string, { informer: Informer<T>; removers: Array<() => void> }>();
  #handlers: EventHandler<T>[] = [];
  #started = false;
  #syncWaiters: Array<() => void> = [];

  constructor(
    http: KubeClient,
    resource: ResourceType,
    options: Omit<InformerOptions, "resource" | "namespaces" | "fieldSelector" | "labelSelector"> = {},
  ) {
    this.#http = http;
    this.resource = resource;
    this.#options = options;
  }

  /** Adds a slice (started at once if this cache runs); an id already present is left as it is. */
  add(id: string, partition: Partition): void {
    if (this.#partitions.has(id)) return;
    const informer = new Informer<T>(this.#http, {
      ...this.#options,
      resource: this.resource,
      ...(partition.namespace !== undefined ? { namespaces: [partition.namespace] } : {}),
      ...(partition.fieldSelector ? { fieldSelector: partition.fieldSelector } : {}),
      ...(partition.labelSelector ? { labelSelector: partition.labelSelector } : {}),
    });
    const removers = this.#handlers.map((h) => informer.addEventHandler(h));
    this.#partitions.set(id, { informer, removers });
    if (this.#started) {
      informer.start();
      void informer.waitForSync(Number.MAX_SAFE_INTEGER).then(() => this.#notifySynced());
    }
  }

  /** Stops a slice and forgets its objects (no delete events: they are not gone, only not ours). */
  async remove(id: string): Promise<void> {
    const partition = this.#partitions.get(id);
    if (!partition) return;
    this.#partitions.delete(id);
    for (const remove of partition.removers) remove();
    await partition.informer.stop();
    this.#notifySynced();
  }

  ids(): string[] {
    return [...this.#partitions.keys()];
  }

  /** The slice's own objects (to tell whether a slice still holds anything). */
  sizeOf(id: string): number {
    return this.#partitions.get(id)?.informer.list().length ?? 0;
  }

  start(): void {
    if (this.#started) return;
    this.#started = true;
    for (const { informer } of this.#partitions.values()) {
      informer.start();
      void informer.waitForSync(Number.MAX_SAFE_INTEGER).then(() => this.#notifySynced());
    }
  }

  async stop(): Promise<void> {
    this.#started = false;
    await Promise.all([...this.#partitions.values()].map(({ informer }) => informer.stop()));
  }

  get(namespace: string, name: string): T | undefined {
    for (const { informer } of this.#partitions.values()) {
      const found = informer.get(namespace, name);
      if (found) return found;
    }
    return undefined;
  }

  list(namespace?: string): T[] {
    const out: T[] = [];
    for (const { informer } of this.#partitions.values()) out.push(...informer.list(namespace));
    return out;
  }

  /** True when every slice has listed (none at all counts as synced: there is nothing to wait for). */
  hasSynced(): boolean {
    return [...this.#partitions.values()].every(({ informer }) => informer.hasSynced());
  }

  waitForSync(timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    if (this.hasSynced()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const finish = (value: boolean) => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        resolve(value);
      };
      const onAbort = () => finish(false);
      const timer = setTimeout(() => finish(false), Math.min(timeoutMs, 2 ** 31 - 1));
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#syncWaiters.push(() => finish(true));
    });
  }

  /** Registers a handler on every slice, present and future (each replays its cache, as Informer does). */
  addEventHandler(handler: EventHandler<T>): () => void {
    this.#handlers.push(handler);
    const removers = [...this.#partitions.values()].map((p) => {
      const remove = p.informer.addEventHandler(handler);
      p.removers.push(remove);
      return remove;
    });
    return () => {
      this.#handlers = this.#handlers.filter((h) => h !== handler);
      for (const remove of removers) remove();
    };
  }

  #notifySynced(): void {
    if (!this.hasSynced()) return;
    const waiters = this.#syncWaiters;
    this.#syncWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
