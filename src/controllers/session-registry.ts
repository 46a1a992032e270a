// One appliance session per VnfDevice, rebuilt when what it was built from changes (device spec,
// credentials, CA). The device controller owns the entries; rule and drift controllers only look up.
import type { VnfDeviceStatus } from "../api/types.ts";
import type { ObjectKey } from "../runtime/resource.ts";
import type { DeviceSession, RuleKind, RuleRequest, SessionLookup } from "./ports.ts";

export type LastActivation = NonNullable<VnfDeviceStatus["lastActivation"]>;

/** What the device's status says of activations (status.pendingActivations, status.lastActivation). */
export interface ActivationState {
  /** Writes waiting for an activation that has not started (a Batched window). */
  pending: number;
  /** The last activation this session ran, if any. */
  last?: LastActivation;
}

/** A session as the device controller manages it: the rule verbs plus health and teardown. */
export interface ManagedSession extends DeviceSession {
  health(signal?: AbortSignal): Promise<{ version?: string; serial?: string }>;
  /** Absent when the dictionary activates nothing (writes are live). */
  activation?(): ActivationState;
  close(): Promise<void>;
}

export interface SessionConfig {
  device: ObjectKey;
  vendor: string;
  dictionary: string;
  endpoint: string;
  credentials: Record<string, string>;
  tls?: { caPem?: string; insecureSkipVerify?: boolean; serverName?: string };
  parameters: Record<string, string>;
  limits?: { maxConcurrentRequests?: number; requestsPerSecond?: number; requestTimeoutMs?: number };
  activation: { mode: "Immediate" | "Batched"; batchWindowMs: number };
  /** What the session is built from, e.g. "4/18230" (device generation / Secret resourceVersion). */
  epoch: string;
}

export type SessionFactory = (config: SessionConfig) => ManagedSession;

interface Entry {
  session: ManagedSession;
  /** The session as rules and drift get it: each appliance call counted while in flight. */
  tracked: DeviceSession;
  inFlight: number;
  idle: Array<() => void>;
  /** Identity of the config: a change means a new session (new Agent, new login). */
  fingerprint: string;
  /** Whether the device's last health check passed: rules use only Ready sessions. */
  ready: boolean;
}

export class SessionRegistry implements SessionLookup {
  readonly #entries = new Map<string, Entry>();
  readonly #factory: SessionFactory;

  constructor(factory: SessionFactory) {
    this.#factory = factory;
  }

  /** The session for config, reusing the current one when nothing it depends on changed. */
  async ensure(config: SessionConfig, fingerprint: string): Promise<ManagedSession> {
    const key = keyString(config.device);
    const current = this.#entries.get(key);
    if (current && current.fingerprint === fingerprint) return current.session;
    if (current) await current.session.close();
    const session = this.#factory(config);
    const entry: Entry = { session, fingerprint, ready: false, inFlight: 0, idle: [], tracked: session };
    entry.tracked = tracked(session, entry);
    this.#entries.set(key, entry);
    return session;
  }

  markReady(device: ObjectKey, ready: boolean): void {
    const entry = this.#entries.get(keyString(device));
    if (entry) entry.ready = ready;
  }

  get(device: ObjectKey): DeviceSession | undefined {
    const entry = this.#entries.get(keyString(device));
    return entry?.ready ? entry.tracked : undefined;
  }

  /** The session whatever its health (drift and the device controller itself). */
  any(device: ObjectKey): ManagedSession | undefined {
    return this.#entries.get(keyString(device))?.session;
  }

  async remove(device: ObjectKey): Promise<void> {
    const key = keyString(device);
    const entry = this.#entries.get(key);
    this.#entries.delete(key);
    await entry?.session.close();
  }

  /**
   * Hands a device over (sharding): no new work gets its session from now on; the appliance calls in
   * flight finish (up to timeoutMs), then the session closes, aborting whatever is left.
   */
  async drain(device: ObjectKey, timeoutMs: number): Promise<void> {
    const key = keyString(device);
    const entry = this.#entries.get(key);
    if (!entry) return;
    this.#entries.delete(key);
    if (entry.inFlight > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        entry.idle.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    await entry.session.close();
  }

  /** Devices with a session in this registry. */
  devices(): ObjectKey[] {
    return [...this.#entries.keys()].map((key) => {
      const slash = key.indexOf("/");
      return { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
    });
  }

  async closeAll(): Promise<void> {
    const entries = [...this.#entries.values()];
    this.#entries.clear();
    await Promise.allSettled(entries.map((e) => e.session.close()));
  }
}

function keyString(key: ObjectKey): string {
  return `${key.namespace}/${key.name}`;
}

/** The session with every asynchronous verb counted in the entry while it runs. */
function tracked(session: ManagedSession, entry: Entry): DeviceSession {
  const count =
    <A extends unknown[], R>(call: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      entry.inFlight++;
      try {
        return await call(...args);
      } finally {
        entry.inFlight--;
        if (entry.inFlight === 0) for (const wake of entry.idle.splice(0)) wake();
      }
    };
  return {
    get epoch() {
      return session.epoch;
    },
    get kinds() {
      return session.kinds;
    },
    get ruleNumbers() {
      return session.ruleNumbers;
    },
    desiredOpHash: (kind, request) => session.desiredOpHash(kind, request),
    differences: (kind, request, object) => session.differences(kind, request, object),
    // Every argument passed on, the caller's signal included (cancellation reaches the appliance).
    create: count((...args: Parameters<DeviceSession["create"]>) => session.create(...args)),
    get: count((...args: Parameters<DeviceSession["get"]>) => session.get(...args)),
    findByMarker: count((...args: Parameters<DeviceSession["findByMarker"]>) =>
      session.findByMarker(...args),
    ),
    list: count((...args: Parameters<DeviceSession["list"]>) => session.list(...args)),
    update: count((...args: Parameters<DeviceSession["update"]>) => session.update(...args)),
    delete: count((...args: Parameters<DeviceSession["delete"]>) => session.delete(...args)),
    activate: count((...args: Parameters<DeviceSession["activate"]>) => session.activate(...args)),
    // Rule order (optional verbs: only what the session has).
    ...(session.ordering ? { ordering: (kind: RuleKind) => session.ordering?.(kind) } : {}),
    ...(session.orderScope
      ? { orderScope: (kind: RuleKind, spec: unknown) => session.orderScope?.(kind, spec) ?? "" }
      : {}),
    ...(session.updatedVendorRef
      ? {
          updatedVendorRef: (kind: RuleKind, request: RuleRequest) =>
            session.updatedVendorRef?.(kind, request),
        }
      : {}),
    // Failure isolation and safe apply (optional verbs).
    ...(session.canWithdraw ? { canWithdraw: (kind: RuleKind) => session.canWithdraw?.(kind) ?? false } : {}),
    ...(session.revert
      ? {
          revert: count((...args: Parameters<NonNullable<DeviceSession["revert"]>>) =>
            (session.revert as NonNullable<DeviceSession["revert"]>)(...args),
          ),
        }
      : {}),
    ...(session.beginWrite
      ? {
          beginWrite: (signal?: AbortSignal) =>
            (session.beginWrite as NonNullable<DeviceSession["beginWrite"]>)(signal),
        }
      : {}),
    ...(session.move
      ? {
          move: count((...args: Parameters<NonNullable<DeviceSession["move"]>>) =>
            (session.move as NonNullable<DeviceSession["move"]>)(...args),
          ),
        }
      : {}),
  };
}
