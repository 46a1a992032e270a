// List + watch of one resource into a Store, with the robustness client-node's informer lacks (it
// stops for good on any error but a 410 and never asks for bookmarks; see docs/design.md): bookmarks,
// relist on 410, restart with jittered backoff on any other error, an idle watchdog for silently
// stalled watches, managedFields stripped, synced only after the first list.
// Handlers are synchronous and should only enqueue keys (the reconciler re-reads the cache).
import { Backoff, type BackoffOptions } from "./backoff.ts";
import { stripManagedFields } from "./cache-transforms.ts";
import { type Clock, sleep, systemClock } from "./clock.ts";
import { isGone, KubeApiError, type KubeClient } from "./kube-http.ts";
import { type Logger, silentLogger } from "./logging.ts";
import { apiVersionOf, collectionPath, type KubeObject, type ResourceType } from "./resource.ts";
import { Store } from "./store.ts";

export interface EventHandler<T extends KubeObject = KubeObject> {
  /** initialList: the object came with the first list (controllers enqueue it at low priority). */
  onAdd?(obj: T, info: { initialList: boolean }): void;
  /** resync: a periodic re-delivery of an unchanged object, not a change. */
  onUpdate?(oldObj: T, newObj: T, info: { resync: boolean }): void;
  onDelete?(obj: T): void;
}

export interface InformerOptions {
  resource: ResourceType;
  /** Namespaces to watch: undefined or [] = all (one list+watch per namespace otherwise). */
  namespaces?: readonly string[];
  labelSelector?: string;
  fieldSelector?: string;
  logger?: Logger;
  clock?: Clock;
  random?: () => number;
  /** Server-side watch timeout, drawn uniformly from [min, max] seconds each time; default [300, 600]. */
  watchTimeoutSeconds?: readonly [number, number];
  /** Restart a watch that sent nothing (not even a bookmark) for this long; default 5 min. */
  idleTimeoutMs?: number;
  backoff?: Omit<BackoffOptions, "clock" | "random">;
  /** List page size; default 500. */
  pageSize?: number;
  /** Re-deliver every cached object as a resync update this often (±10 %); default 10 h, 0 = never. */
  resyncPeriodMs?: number;
  /**
   * Applied to every object before it is cached and handed to handlers (controller-runtime's cache
   * TransformFunc): drop what no reader needs. managedFields are always dropped.
   */
  transform?: (obj: KubeObject) => KubeObject;
}

export interface InformerStats {
  lists: number;
  watches: number;
  events: number;
  bookmarks: number;
  /** Relists forced by 410 Gone. */
  relists: number;
  /** Restarts after an error other than 410 (including watchdog restarts). */
  errorRestarts: number;
  watchdogRestarts: number;
}

class WatchStalledError extends Error {
  constructor(idleMs: number) {
    super(`watch sent nothing for ${idleMs} ms; restarting it`);
    this.name = "WatchStalledError";
  }
}

interface WatchEvent {
  type?: string;
  object?: KubeObject & { code?: number; reason?: string; message?: string };
}

/** What a reconciler reads from an informer: its cache (tests serve one without an API server). */
export type ObjectCache<T extends KubeObject> = Pick<Informer<T>, "get" | "list" | "hasSynced">;

/** What a controller watches: an Informer, or several as one (partitioned-informer.ts). */
export type EventSource<T extends KubeObject> = Pick<
  Informer<T>,
  "resource" | "addEventHandler" | "waitForSync"
>;

export class Informer<T extends KubeObject = KubeObject> {
  readonly resource: ResourceType;
  readonly stats: InformerStats = {
    lists: 0,
    watches: 0,
    events: 0,
    bookmarks: 0,
    relists: 0,
    errorRestarts: 0,
    watchdogRestarts: 0,
  };
  readonly #http: KubeClient;
  readonly #options: InformerOptions;
  readonly #store = new Store<T>();
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #log: Logger;
  readonly #reflectors: Reflector<T>[];
  #handlers: EventHandler<T>[] = [];
  #abort: AbortController | undefined;
  #running: Promise<void>[] = [];
  #syncWaiters: Array<() => void> = [];
  #resyncTimer: { cancel(): void } | undefined;

  constructor(http: KubeClient, options: InformerOptions) {
    this.#http = http;
    this.#options = options;
    this.resource = options.resource;
    this.#clock = options.clock ?? systemClock;
    this.#random = options.random ?? Math.random;
    const selectors = [options.labelSelector, options.fieldSelector].filter(Boolean).join(",");
    this.#log = (options.logger ?? silentLogger).child({
      informer: `${options.resource.plural}${options.resource.group ? `.${options.resource.group}` : ""}`,
      ...(selectors ? { selector: selectors } : {}),
    });
    const scopes =
      options.resource.namespaced && options.namespaces?.length
        ? [...new Set(options.namespaces)]
        : [undefined];
    this.#reflectors = scopes.map((namespace) => new Reflector(this, namespace));
  }

  /** Starts listing and watching (idempotent). */
  start(): void {
    if (this.#abort) return;
    this.#abort = new AbortController();
    const signal = this.#abort.signal;
    this.#running = this.#reflectors.map((r) => r.run(signal));
    this.#scheduleResync();
  }

  /** Stops every watch and waits until the loops have exited. */
  async stop(): Promise<void> {
    this.#abort?.abort(new Error("informer stopped"));
    this.#resyncTimer?.cancel();
    await Promise.all(this.#running);
    this.#running = [];
  }

  /** True once every namespace's first list is in the cache. */
  hasSynced(): boolean {
    return this.#reflectors.every((r) => r.synced);
  }

  /** Resolves true once synced, false after timeoutMs. */
  waitForSync(timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    if (this.hasSynced()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const finish = (value: boolean) => {
        timer.cancel();
        signal?.removeEventListener("abort", onAbort);
        resolve(value);
      };
      const onAbort = () => finish(false);
      const timer = this.#clock.setTimeout(() => finish(false), timeoutMs);
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#syncWaiters.push(() => finish(true));
    });
  }

  get(namespace: string, name: string): T | undefined {
    return this.#store.get(namespace, name);
  }

  list(namespace?: string): T[] {
    return this.#store.list(namespace);
  }

  /** The last resourceVersion seen (for several namespaces, the first namespace's). */
  resourceVersion(namespace?: string): string {
    const reflector = this.#reflectors.find((r) => r.namespace === namespace) ?? this.#reflectors[0];
    return reflector?.resourceVersion ?? "";
  }

  /**
   * Adds a handler; with replay (default) it first gets an add for every cached object, marked
   * initialList, as client-go does for a handler added to a running informer. Returns a remover.
   */
  addEventHandler(handler: EventHandler<T>, options: { replay?: boolean } = {}): () => void {
    this.#handlers.push(handler);
    if (options.replay ?? true) {
      for (const obj of this.#store.list()) this.#call(() => handler.onAdd?.(obj, { initialList: true }));
    }
    return () => {
      this.#handlers = this.#handlers.filter((h) => h !== handler);
    };
  }

  // ---- used by Reflector ----

  get http(): KubeClient {
    return this.#http;
  }
  get options(): InformerOptions {
    return this.#options;
  }
  get clock(): Clock {
    return this.#clock;
  }
  get random(): () => number {
    return this.#random;
  }
  get log(): Logger {
    return this.#log;
  }
  get store(): Store<T> {
    return this.#store;
  }

  /** What is cached of an object from the API server. */
  prepare(obj: T): T {
    const stripped = stripManagedFields(obj);
    return this.#options.transform ? (this.#options.transform(stripped) as T) : stripped;
  }

  notifySynced(): void {
    if (!this.hasSynced()) return;
    const waiters = this.#syncWaiters;
    this.#syncWaiters = [];
    for (const resolve of waiters) resolve();
  }

  emitAdd(obj: T, initialList: boolean): void {
    for (const h of this.#handlers) this.#call(() => h.onAdd?.(obj, { initialList }));
  }

  emitUpdate(oldObj: T, newObj: T, resync: boolean): void {
    for (const h of this.#handlers) this.#call(() => h.onUpdate?.(oldObj, newObj, { resync }));
  }

  emitDelete(obj: T): void {
    for (const h of this.#handlers) this.#call(() => h.onDelete?.(obj));
  }

  #call(fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.#log.error({ err: error }, "event handler threw; handlers must only enqueue");
    }
  }

  #scheduleResync(): void {
    const period = this.#options.resyncPeriodMs ?? 10 * 3600_000;
    if (period <= 0) return;
    const delay = period * (0.9 + 0.2 * this.#random());
    this.#resyncTimer = this.#clock.setTimeout(() => {
      if (this.#abort?.signal.aborted) return;
      for (const obj of this.#store.list()) this.emitUpdate(obj, obj, true);
      this.#scheduleResync();
    }, delay);
  }
}

/** One list+watch loop: for one namespace, or for all of them. */
class Reflector<T extends KubeObject> {
  readonly namespace: string | undefined;
  synced = false;
  resourceVersion = "";
  readonly #informer: Informer<T>;
  readonly #backoff: Backoff;
  readonly #log: Logger;

  constructor(informer: Informer<T>, namespace: string | undefined) {
    this.#informer = informer;
    this.namespace = namespace;
    this.#backoff = new Backoff({
      ...informer.options.backoff,
      clock: informer.clock,
      random: informer.random,
    });
    this.#log = namespace === undefined ? informer.log : informer.log.child({ namespace });
  }

  async run(signal: AbortSignal): Promise<void> {
    let needList = true;
    let consecutiveGone = 0;
    while (!signal.aborted) {
      try {
        if (needList) {
          await this.#list(signal);
          needList = false;
        }
        const { events, ms } = await this.#watch(signal);
        consecutiveGone = 0;
        // The server ends every watch at timeoutSeconds; re-watch at once from the last
        // resourceVersion. A watch that closes at once with nothing in it is a fault: back off.
        if (events === 0 && ms < 1000) await this.#pause(this.#backoff.next(), signal);
      } catch (error) {
        if (signal.aborted) break;
        if (isGone(error)) {
          // Our resourceVersion is too old for the server: relist (at once, the first time).
          this.#informer.stats.relists++;
          this.#log.info("resourceVersion expired (410 Gone); relisting");
          needList = true;
          this.resourceVersion = "";
          if (consecutiveGone++ > 0) await this.#pause(this.#backoff.next(), signal);
          continue;
        }
        this.#informer.stats.errorRestarts++;
        if (error instanceof WatchStalledError) this.#informer.stats.watchdogRestarts++;
        const delay = this.#backoff.next();
        this.#logFailure(error, needList ? "list" : "watch", delay);
        await this.#pause(delay, signal);
      }
    }
  }

  #logFailure(error: unknown, phase: string, delayMs: number): void {
    const resource = this.#informer.resource.plural;
    if (error instanceof KubeApiError && (error.status === 403 || error.status === 401)) {
      this.#log.warn(
        { status: error.status, retryInMs: delayMs },
        `not allowed to ${phase} ${resource}: check the operator's RBAC (ClusterRole/Role and binding); retrying`,
      );
      return;
    }
    const message = error instanceof Error ? error.message : String(error);
    this.#log.warn({ phase, retryInMs: delayMs, error: message }, `${phase} of ${resource} failed; retrying`);
  }

  async #pause(ms: number, signal: AbortSignal): Promise<void> {
    await sleep(this.#informer.clock, ms, signal).catch(() => undefined);
  }

  #query(extra: Record<string, string | number | boolean | undefined>) {
    const { labelSelector, fieldSelector } = this.#informer.options;
    return { labelSelector, fieldSelector, ...extra };
  }

  async #list(signal: AbortSignal): Promise<void> {
    const informer = this.#informer;
    const type = informer.resource;
    const path = collectionPath(type, this.namespace);
    const items: T[] = [];
    let continueToken: string | undefined;
    let resourceVersion = "";
    // Pages are buffered and swapped in together at the end: readers never see a partial relist.
    do {
      const page = await informer.http.request<{
        metadata?: { continue?: string; resourceVersion?: string };
        items?: T[];
      }>({
        method: "GET",
        path,
        query: this.#query({ limit: informer.options.pageSize ?? 500, continue: continueToken }),
        signal,
        timeoutMs: 60_000,
      });
      for (const item of page.items ?? []) {
        // Items of a list carry no apiVersion/kind; restore them so cached objects are complete.
        item.apiVersion ??= apiVersionOf(type);
        item.kind ??= type.kind;
        items.push(informer.prepare(item));
      }
      continueToken = page.metadata?.continue || undefined;
      resourceVersion = page.metadata?.resourceVersion ?? "";
    } while (continueToken);
    informer.stats.lists++;
    const firstList = !this.synced;
    const delta = informer.store.replace(
      items,
      this.namespace === undefined ? undefined : { namespace: this.namespace },
    );
    this.resourceVersion = resourceVersion;
    this.synced = true;
    this.#log.debug({ objects: items.length, resourceVersion }, firstList ? "initial list" : "relisted");
    informer.notifySynced();
    for (const obj of delta.added) informer.emitAdd(obj, firstList);
    for (const [oldObj, newObj] of delta.updated) informer.emitUpdate(oldObj, newObj, false);
    for (const obj of delta.deleted) informer.emitDelete(obj);
  }

  async #watch(signal: AbortSignal): Promise<{ events: number; ms: number }> {
    const informer = this.#informer;
    const clock = informer.clock;
    const [minTimeout, maxTimeout] = informer.options.watchTimeoutSeconds ?? [300, 600];
    const timeoutSeconds = Math.round(minTimeout + (maxTimeout - minTimeout) * informer.random());
    const idleMs = informer.options.idleTimeoutMs ?? 300_000;
    const watchAbort = new AbortController();
    const onStop = () => watchAbort.abort(signal.reason);
    signal.addEventListener("abort", onStop, { once: true });
    let stalled = false;
    let watchdog = { cancel() {} };
    const feedWatchdog = () => {
      watchdog.cancel();
      watchdog = clock.setTimeout(() => {
        stalled = true;
        watchAbort.abort(new WatchStalledError(idleMs));
      }, idleMs);
    };
    const started = clock.now();
    let events = 0;
    informer.stats.watches++;
    try {
      feedWatchdog();
      const { body } = await informer.http.stream({
        method: "GET",
        path: collectionPath(informer.resource, this.namespace),
        query: this.#query({
          watch: 1,
          allowWatchBookmarks: true,
          resourceVersion: this.resourceVersion,
          timeoutSeconds,
        }),
        signal: watchAbort.signal,
      });
      feedWatchdog();
      const decoder = new TextDecoder();
      let buffered = "";
      for await (const chunk of body) {
        feedWatchdog();
        buffered += decoder.decode(chunk, { stream: true });
        let newline = buffered.indexOf("\n");
        while (newline >= 0) {
          const line = buffered.slice(0, newline).trim();
          buffered = buffered.slice(newline + 1);
          if (line) {
            this.#apply(parseEvent(line));
            events++;
          }
          newline = buffered.indexOf("\n");
        }
      }
      return { events, ms: clock.now() - started };
    } catch (error) {
      if (stalled) throw new WatchStalledError(idleMs);
      throw error;
    } finally {
      watchdog.cancel();
      signal.removeEventListener("abort", onStop);
      watchAbort.abort();
    }
  }

  #apply(event: WatchEvent): void {
    const informer = this.#informer;
    const obj = event.object;
    switch (event.type) {
      case "ADDED":
      case "MODIFIED": {
        if (!obj) return;
        const cached = informer.prepare(obj as T);
        const previous = informer.store.upsert(cached);
        this.resourceVersion = cached.metadata?.resourceVersion ?? this.resourceVersion;
        informer.stats.events++;
        if (previous) informer.emitUpdate(previous, cached, false);
        else informer.emitAdd(cached, false);
        return;
      }
      case "DELETED": {
        if (!obj) return;
        const previous = informer.store.delete(obj as T);
        this.resourceVersion = obj.metadata?.resourceVersion ?? this.resourceVersion;
        informer.stats.events++;
        informer.emitDelete(previous ?? informer.prepare(obj as T));
        return;
      }
      case "BOOKMARK":
        this.resourceVersion = obj?.metadata?.resourceVersion ?? this.resourceVersion;
        informer.stats.bookmarks++;
        return;
      case "ERROR": {
        const code = obj?.code ?? 0;
        throw new KubeApiError(
          code,
          obj?.reason ?? "",
          `watch error: ${code} ${obj?.reason ?? ""}: ${obj?.message ?? ""}`,
        );
      }
      default:
        this.#log.warn({ type: event.type }, "unknown watch event type; ignored");
    }
  }
}

function parseEvent(line: string): WatchEvent {
  try {
    return JSON.parse(line) as WatchEvent;
  } catch {
    throw new KubeApiError(0, "BadWatchEvent", "the watch sent a line that is not JSON");
  }
}
