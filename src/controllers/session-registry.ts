// One appliance session per VnfDevice, rebuilt when what it was built from changes (device spec,
// credentials, CA). The device controller owns the entries; rule and drift controllers only look up.
import type { VnfDeviceStatus } from "../api/types.ts";
import type { ObjectKey } from "../runtime/resource.ts";
import type { DeviceSession, SessionLookup } from "./ports.ts";

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
    this.#entries.set(key, { session, fingerprint, ready: false });
    return session;
  }

  markReady(device: ObjectKey, ready: boolean): void {
    const entry = this.#entries.get(keyString(device));
    if (entry) entry.ready = ready;
  }

  get(device: ObjectKey): DeviceSession | undefined {
    const entry = this.#entries.get(keyString(device));
    return entry?.ready ? entry.session : undefined;
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

  async closeAll(): Promise<void> {
    const entries = [...this.#entries.values()];
    this.#entries.clear();
    await Promise.allSettled(entries.map((e) => e.session.close()));
  }
}

function keyString(key: ObjectKey): string {
  return `${key.namespace}/${key.name}`;
}
