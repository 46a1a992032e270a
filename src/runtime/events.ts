// Kubernetes Events (events.k8s.io/v1) for reconcilers: fire-and-forget, never throwing, correlated
// (see event-correlator.ts) so a hot loop cannot flood the API server. Notes are scrubbed of
// credential-like text and truncated to the API's 1 kB limit; still, never put a secret in one.
import { randomBytes } from "node:crypto";
import { type Clock, systemClock } from "./clock.ts";
import { type CorrelatorOptions, EventCorrelator, type EventRef, scrubSecrets } from "./event-correlator.ts";
import { KubeHttp } from "./kube-http.ts";
import type { KubeConfigSource } from "./kubeconfig.ts";
import { microTime } from "./lease.ts";
import { type Logger, silentLogger } from "./logging.ts";
import { CoreResources, collectionPath, type KubeObject, objectPath } from "./resource.ts";

export type EventType = "Normal" | "Warning";

export interface EventRecorderOptions extends CorrelatorOptions {
  /** e.g. "vnf-operator.io/firewallrule-controller". */
  reportingController: string;
  /** This replica, e.g. the pod name. */
  reportingInstance: string;
  /** How often pending series counts are written; default 30 s. */
  flushIntervalMs?: number;
  /** Writes in flight beyond this are dropped (logged); default 200. */
  maxPending?: number;
  clock?: Clock;
  logger?: Logger;
}

const MAX_NOTE_BYTES = 1024;

/** What a reconciler records Events through (tests substitute a recording fake). */
export type EventSink = Pick<EventRecorder, "normal" | "warning">;

export class EventRecorder {
  readonly #http: KubeHttp;
  readonly #options: EventRecorderOptions;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #correlator: EventCorrelator;
  readonly #pending = new Set<Promise<void>>();
  readonly #chains = new Map<string, Promise<void>>();
  #flushTimer: { cancel(): void } | undefined;
  #closed = false;

  constructor(client: KubeConfigSource | KubeHttp, options: EventRecorderOptions) {
    this.#http = client instanceof KubeHttp ? client : KubeHttp.for(client);
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#log = (options.logger ?? silentLogger).child({ component: "event-recorder" });
    this.#correlator = new EventCorrelator(options);
    this.#scheduleFlush();
  }

  /** Records an Event about `regarding`. Returns at once; the write happens in the background. */
  event(regarding: KubeObject, type: EventType, reason: string, action: string, note: string): void {
    if (this.#closed) return;
    const meta = regarding.metadata ?? {};
    const namespace = meta.namespace || "default";
    const objectKey = `${regarding.kind}/${namespace}/${meta.name}/${meta.uid ?? ""}`;
    const cleanNote = truncateUtf8(scrubSecrets(note), MAX_NOTE_BYTES);
    const key = JSON.stringify([
      objectKey,
      type,
      reason,
      action,
      cleanNote,
      this.#options.reportingController,
    ]);
    const now = this.#clock.now();
    const correlation = this.#correlator.observe(key, objectKey, now);
    switch (correlation.action) {
      case "create": {
        // Named now (not when the write runs) so repeats and flushes can refer to it at once.
        const name = `${meta.name ?? "object"}.${randomBytes(8).toString("hex")}`;
        this.#correlator.created(key, { namespace, name });
        this.#write(key, () =>
          this.#create(name, regarding, namespace, type, reason, action, cleanNote, now),
        );
        return;
      }
      case "series":
        this.#write(key, async () => {
          const ref = this.#correlator.refOf(key);
          if (ref) await this.#patchSeries(ref, 2, now);
        });
        return;
      case "drop":
        this.#log.debug(
          { reason, object: objectKey },
          "event throttled (too many distinct events for one object)",
        );
        return;
      case "deferred":
        return; // written by the next flush
    }
  }

  normal(regarding: KubeObject, reason: string, action: string, note: string): void {
    this.event(regarding, "Normal", reason, action, note);
  }

  warning(regarding: KubeObject, reason: string, action: string, note: string): void {
    this.event(regarding, "Warning", reason, action, note);
  }

  /** Writes pending series counts and waits for every write in flight. */
  async flush(): Promise<void> {
    for (const series of this.#correlator.takeDirty(this.#clock.now())) {
      this.#write(series.key, () => this.#patchSeries(series.ref, series.count, series.lastSeen));
    }
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
  }

  /** Flushes and stops the periodic flush; later events are ignored. */
  async close(): Promise<void> {
    this.#flushTimer?.cancel();
    await this.flush();
    this.#closed = true;
  }

  #scheduleFlush(): void {
    this.#flushTimer = this.#clock.setTimeout(() => {
      void this.flush().finally(() => {
        if (!this.#closed) this.#scheduleFlush();
      });
    }, this.#options.flushIntervalMs ?? 30_000);
  }

  /** Runs write after the previous writes for the same Event, so a series never goes backwards. */
  #write(key: string, write: () => Promise<void>): void {
    if (this.#pending.size >= (this.#options.maxPending ?? 200)) {
      this.#log.warn("too many event writes in flight; dropping one");
      return;
    }
    const previous = this.#chains.get(key) ?? Promise.resolve();
    const next = previous.then(write);
    this.#chains.set(key, next);
    const tracked = next.finally(() => {
      this.#pending.delete(tracked);
      if (this.#chains.get(key) === next) this.#chains.delete(key);
    });
    this.#pending.add(tracked);
  }

  async #create(
    name: string,
    regarding: KubeObject,
    namespace: string,
    type: EventType,
    reason: string,
    action: string,
    note: string,
    now: number,
  ): Promise<void> {
    const meta = regarding.metadata ?? {};
    try {
      await this.#http.request({
        method: "POST",
        path: collectionPath(CoreResources.events, namespace),
        body: {
          apiVersion: "events.k8s.io/v1",
          kind: "Event",
          metadata: { name, namespace },
          eventTime: microTime(now),
          reportingController: this.#options.reportingController,
          reportingInstance: this.#options.reportingInstance,
          action: action.slice(0, 128),
          reason: reason.slice(0, 128),
          type,
          note,
          regarding: {
            apiVersion: regarding.apiVersion,
            kind: regarding.kind,
            name: meta.name,
            namespace: meta.namespace,
            uid: meta.uid,
            resourceVersion: meta.resourceVersion,
          },
        },
        timeoutMs: 10_000,
      });
    } catch (error) {
      this.#log.warn(
        { error: error instanceof Error ? error.message : String(error), reason },
        "failed to write event",
      );
    }
  }

  async #patchSeries(ref: EventRef, count: number, lastSeen: number): Promise<void> {
    const { namespace, name } = ref;
    try {
      await this.#http.request({
        method: "PATCH",
        path: objectPath(CoreResources.events, { namespace, name }),
        body: { series: { count, lastObservedTime: microTime(lastSeen) } },
        contentType: "application/merge-patch+json",
        timeoutMs: 10_000,
      });
    } catch (error) {
      this.#log.warn(
        { error: error instanceof Error ? error.message : String(error) },
        "failed to update event series",
      );
    }
  }
}

function truncateUtf8(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  let cut = text.slice(0, maxBytes);
  while (Buffer.byteLength(cut) > maxBytes - 3) cut = cut.slice(0, -1);
  return `${cut}...`;
}
