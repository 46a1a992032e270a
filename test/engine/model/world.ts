// The world a model-based sequence runs in: one vendor simulator (real HTTPS, real faults), the real
// dictionary engine and appliance session (engine-session.ts), the real rule reconciler, and a fake API
// server (fake-api.ts) whose informer cache lags behind. The harness plays the work queue (keys,
// requeues, watch events filtered by the real predicate), the users (create, edit, delete, at any
// point — also in the middle of a reconcile), and the faults: an operator crash at any call (the
// process's memory is lost: new reconciler, new session, caches re-listed), a status write refused
// with 409, an activation failure, an appliance 5xx, and a write committed whose answer is lost.
//
// Interception points are the operator's calls to the API server and to the appliance session: an
// armed action fires before or after the Nth call from now, so a crash or an edit can land between
// an appliance write and the status write that records it.
import { randomUUID } from "node:crypto";
import path from "node:path";
import type { VnfDevice, VnfRule } from "../../../src/api/types.ts";
import { engineSessionFactory } from "../../../src/controllers/engine-session.ts";
import { ruleEventNeedsReconcile } from "../../../src/controllers/event-filters.ts";
import type { DeviceSession, ObservedObject, RuleKind } from "../../../src/controllers/ports.ts";
import { ruleReconciler } from "../../../src/controllers/rule-controller.ts";
import type { RuleControllerDeps } from "../../../src/controllers/rule-deps.ts";
import type { ManagedSession } from "../../../src/controllers/session-registry.ts";
import { VnfError } from "../../../src/dictionary/errors.ts";
import type { DictionaryRegistry } from "../../../src/dictionary/registry.ts";
import type { ReconcileResult } from "../../../src/runtime/controller.ts";
import type { KubeRequest } from "../../../src/runtime/kube-http.ts";
import { silentLogger } from "../../../src/runtime/logging.ts";
import type { Fault, SimulatorHandle } from "../../simulators/index.ts";
import { caseOf, type VendorRow } from "../vendors.ts";
import { FakeRuleApi, LaggingCache, type StoreEvent } from "./fake-api.ts";
import { type Ownership, ownershipFor } from "./ownership.ts";

export const KINDS = {
  firewallRule: { plural: "vnffirewallrules", kind: "VnfFirewallRule" },
  natRule: { plural: "vnfnatrules", kind: "VnfNatRule" },
} as const;

/** The process died: everything it had in memory is gone, nothing after this call happened. */
export class Crash extends Error {
  constructor() {
    super("operator crashed (model)");
  }
}

export type UserAction =
  | { type: "create"; slot: number; spec: Record<string, unknown> }
  | { type: "edit"; slot: number; spec: Record<string, unknown> }
  | { type: "delete"; slot: number };

type Armed =
  | { at: number; type: "crash" }
  | { at: number; type: "user"; action: UserAction }
  | { at: number; type: "conflict" };

/** The rule slots of a sequence: slot i is rule `r<i>`, of a fixed kind. */
export const SLOT_KINDS: RuleKind[] = ["firewallRule", "natRule", "firewallRule"];

interface Instance {
  dead: boolean;
  reconcile: Record<
    RuleKind,
    (key: { namespace: string; name: string }) => Promise<ReconcileResult | undefined>
  >;
  session: ManagedSession;
}

export interface WorldOptions {
  row: VendorRow;
  sim: SimulatorHandle;
  dictionaries: DictionaryRegistry;
  /** Deterministic choices (which queued key next, whether the cache catches up). */
  random: () => number;
}

export class World {
  readonly row: VendorRow;
  readonly sim: SimulatorHandle;
  readonly api = new FakeRuleApi();
  readonly caches: Record<RuleKind, LaggingCache> = {
    firewallRule: new LaggingCache(KINDS.firewallRule.plural),
    natRule: new LaggingCache(KINDS.natRule.plural),
  };
  readonly device: VnfDevice;
  readonly ownership: Ownership;
  readonly #dictionaries: DictionaryRegistry;
  readonly #random: () => number;
  readonly #queue = new Set<string>();
  #armed: Armed[] = [];
  #calls = 0;
  #conflictNext = false;
  #failActivation = false;
  #instance: Instance;
  /** Names ever created per slot (a deleted slot's rule gets a new name when re-created). */
  readonly #names = new Map<number, string>();
  #generation = 0;
  /** Appliance requests spent on each rule (by uid), across reconciles. */
  readonly requestsPerRule = new Map<string, number>();
  crashes = 0;
  reconciles = 0;
  /** Every reconcile error other than a crash (a bug in the harness or the operator). */
  readonly unexpected: string[] = [];

  constructor(options: WorldOptions) {
    this.row = options.row;
    this.sim = options.sim;
    this.#dictionaries = options.dictionaries;
    this.#random = options.random;
    this.device = {
      apiVersion: "vnf-operator.io/v1alpha1",
      kind: "VnfDevice",
      metadata: { name: "dev", namespace: this.api.namespace, uid: randomUUID(), generation: 1 },
      spec: {
        vendor: this.row.vendor,
        endpoint: this.sim.url,
        credentialsSecretRef: { name: "creds" },
        ...(this.row.parameters ? { parameters: this.row.parameters } : {}),
      },
      status: {
        conditions: [
          {
            type: "Ready",
            status: "True",
            reason: "HealthCheckPassed",
            message: "model",
            observedGeneration: 1,
            lastTransitionTime: new Date().toISOString(),
          },
        ],
      },
    } as unknown as VnfDevice;
    this.ownership = ownershipFor(this.device);
    this.#instance = this.#start();
  }

  // ---- the users --------------------------------------------------------------------------------

  nameOf(slot: number): string | undefined {
    return this.#names.get(slot);
  }

  /** Applies a user action now. Returns false when it does not apply (e.g. editing a deleted rule). */
  act(action: UserAction): boolean {
    const kind = SLOT_KINDS[action.slot] as RuleKind;
    const { plural, kind: kindName } = KINDS[kind];
    const name = this.#names.get(action.slot);
    switch (action.type) {
      case "create": {
        if (name !== undefined && this.api.get(plural, name)) return false;
        this.#generation += 1;
        const fresh = `r${action.slot}-${this.#generation}`;
        this.#names.set(action.slot, fresh);
        this.api.create(plural, kindName, fresh, {
          deviceRef: { name: "dev" },
          deletionPolicy: "Delete",
          enabled: true,
          ...action.spec,
        });
        return true;
      }
      case "edit": {
        if (name === undefined) return false;
        const current = this.api.get(plural, name);
        if (!current) return false;
        return this.api.editSpec(plural, name, {
          ...(current.spec as unknown as Record<string, unknown>),
          ...action.spec,
          deviceRef: { name: "dev" },
        });
      }
      case "delete":
        return name !== undefined && this.api.delete(plural, name);
    }
  }

  // ---- arming faults ----------------------------------------------------------------------------

  armCrash(afterCalls: number): void {
    this.#armed.push({ at: this.#calls + afterCalls, type: "crash" });
  }

  armUser(afterCalls: number, action: UserAction): void {
    this.#armed.push({ at: this.#calls + afterCalls, type: "user", action });
  }

  /** The next status write meets a concurrent writer: its resourceVersion precondition fails. */
  armConflict(): void {
    this.#conflictNext = true;
  }

  armActivationFailure(): void {
    this.#failActivation = true;
  }

  async injectFault(fault: Fault): Promise<void> {
    await this.sim.control.injectFault(fault);
  }

  /** Drops everything armed and every simulator fault: what follows is the quiet period. */
  async disarm(): Promise<void> {
    // Users' actions still due happen now; the crashes armed never come.
    for (const armed of this.#armed) if (armed.type === "user") this.act(armed.action);
    this.#armed = [];
    this.#conflictNext = false;
    this.#failActivation = false;
    await this.sim.control.clearFaults();
  }

  // ---- the work queue ---------------------------------------------------------------------------

  /** Runs up to `steps` reconciles of queued keys; returns how many ran. */
  async run(steps: number): Promise<number> {
    let ran = 0;
    while (ran < steps) {
      // The watch delivers the changes so far — usually; sometimes the cache is still behind.
      if (this.#random() < 0.8) this.deliver();
      const key = this.#pick();
      if (!key) {
        this.deliver();
        if (this.#queue.size === 0) break;
        continue;
      }
      await this.#reconcile(key);
      ran++;
    }
    return ran;
  }

  /** Delivers every pending change to the caches, enqueueing as the real watch predicate decides. */
  deliver(): void {
    for (const event of this.api.pending.splice(0)) {
      const kind = kindOfPlural(event.plural);
      this.caches[kind].apply(event);
      if (ruleEventNeedsReconcile(asRuleEvent(event))) this.#queue.add(`${kind}/${event.obj.metadata.name}`);
    }
  }

  /** Queues every rule (as a new process's initial list would). */
  enqueueAll(): void {
    this.deliver();
    for (const kind of ["firewallRule", "natRule"] as const) {
      for (const obj of this.caches[kind].list()) this.#queue.add(`${kind}/${obj.metadata.name}`);
    }
  }

  /** The running instance's appliance session, without interception (to play an older operator). */
  get session(): ManagedSession {
    return this.#instance.session;
  }

  get queued(): number {
    return this.#queue.size + this.api.pending.length;
  }

  #pick(): string | undefined {
    const keys = [...this.#queue];
    if (keys.length === 0) return undefined;
    const key = keys[Math.floor(this.#random() * keys.length)] as string;
    this.#queue.delete(key);
    return key;
  }

  async #reconcile(queueKey: string): Promise<void> {
    const [kindText, name = ""] = queueKey.split("/");
    const kind = kindText as RuleKind;
    const instance = this.#instance;
    const uid = this.caches[kind].get(this.api.namespace, name)?.metadata.uid;
    const before = (await this.sim.control.stats()).requests;
    this.reconciles++;
    try {
      const result = await instance.reconcile[kind]({ namespace: this.api.namespace, name });
      if (result?.requeue || result?.requeueAfterMs !== undefined) this.#queue.add(queueKey);
    } catch (error) {
      if (error instanceof Crash || instance.dead) {
        await this.#restart();
      } else {
        // The controller requeues with backoff on any error (an API conflict, a refused patch).
        this.#queue.add(queueKey);
        if (!isExpectedError(error)) this.unexpected.push(describeError(error));
      }
    } finally {
      const spent = (await this.sim.control.stats()).requests - before;
      if (uid !== undefined) this.requestsPerRule.set(uid, (this.requestsPerRule.get(uid) ?? 0) + spent);
    }
  }

  // ---- the operator instance --------------------------------------------------------------------

  #start(): Instance {
    const factory = engineSessionFactory({
      dictionary: (name) => this.#dictionaries.get(name),
      session: {
        transportRetry: { minDelayMs: 1, maxDelayMs: 4 },
        clock: { sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.min(ms, 2))) },
      },
    });
    // The row's own dictionary (a vendor may have several, by firmware: OPNsense 25.7 and 26.1).
    const dictionary = path.basename(this.row.dictionary, ".yaml");
    const session = factory({
      device: { namespace: this.api.namespace, name: "dev" },
      vendor: this.row.vendor,
      dictionary,
      endpoint: this.sim.url,
      credentials: this.sim.credentials,
      tls: { caPem: this.sim.caPem },
      parameters: this.row.parameters ?? {},
      limits: { requestTimeoutMs: 400, requestsPerSecond: 100_000 },
      activation: { mode: "Immediate", batchWindowMs: 0 },
      epoch: "1/1",
    });
    const instance: Instance = {
      dead: false,
      session,
      reconcile: {} as Instance["reconcile"],
    };
    const port = this.#intercepted(instance, session);
    const http = { request: <T>(req: KubeRequest) => this.#kubeCall<T>(instance, req) };
    for (const kind of ["firewallRule", "natRule"] as const) {
      const deps: RuleControllerDeps = {
        kind: { kind, resource: resourceOf(kind) },
        rules: this.caches[kind],
        devices: { get: () => this.device, list: () => [this.device], hasSynced: () => true },
        sessions: { get: () => port },
        http,
        events: { normal: () => {}, warning: () => {} },
        ...this.ownership.deps,
      };
      const reconcile = ruleReconciler(deps);
      instance.reconcile[kind] = (key) =>
        reconcile(key, {
          controller: kind,
          reconcileID: randomUUID(),
          log: silentLogger,
          signal: new AbortController().signal,
        });
    }
    return instance;
  }

  async #restart(): Promise<void> {
    this.crashes++;
    const old = this.#instance;
    old.dead = true;
    await old.session.close().catch(() => {});
    // A new process: caches listed afresh, every rule queued (the informers' initial list).
    this.api.pending.splice(0);
    for (const kind of ["firewallRule", "natRule"] as const) {
      const objects = this.api.list(KINDS[kind].plural);
      this.caches[kind].reset(objects);
      for (const obj of objects) this.#queue.add(`${kind}/${obj.metadata.name}`);
    }
    this.#instance = this.#start();
  }

  /** One interception point: fires what is armed for this call count. */
  async #point(instance: Instance): Promise<void> {
    if (instance.dead) throw new Crash();
    this.#calls += 1;
    const due = this.#armed.filter((a) => a.at <= this.#calls);
    this.#armed = this.#armed.filter((a) => a.at > this.#calls);
    for (const armed of due) {
      if (armed.type === "crash") {
        instance.dead = true;
        throw new Crash();
      }
      if (armed.type === "user") this.act(armed.action);
    }
  }

  async #kubeCall<T>(instance: Instance, req: KubeRequest): Promise<T> {
    await this.#point(instance);
    if (this.#conflictNext && req.method === "PATCH" && req.path.endsWith("/status")) {
      this.#conflictNext = false;
      const [, , , , , , plural = "", name = ""] = req.path.split("/");
      this.api.touch(plural, decodeURIComponent(name));
    }
    const answer = await this.api.request<T>(req);
    await this.#point(instance);
    return answer;
  }

  #intercepted(instance: Instance, session: DeviceSession): DeviceSession {
    const call = async <T>(fn: () => Promise<T>): Promise<T> => {
      await this.#point(instance);
      const result = await fn();
      await this.#point(instance);
      return result;
    };
    return {
      epoch: session.epoch,
      kinds: session.kinds,
      ...(session.ruleNumbers ? { ruleNumbers: session.ruleNumbers } : {}),
      desiredOpHash: (kind, request) => session.desiredOpHash(kind, request),
      differences: (kind, request, object) => session.differences(kind, request, object),
      create: (kind, request) => call(() => session.create(kind, request)),
      get: (kind, vendorRef) => call(() => session.get(kind, vendorRef)),
      findByMarker: (kind, marker) => call(() => session.findByMarker(kind, marker)),
      list: (kind) => call(() => session.list(kind)),
      update: (kind, vendorRef, request) => call(() => session.update(kind, vendorRef, request)),
      delete: (kind, vendorRef) => call(() => session.delete(kind, vendorRef)),
      activate: () =>
        call(async () => {
          if (this.#failActivation) {
            this.#failActivation = false;
            throw new VnfError("VNF_UPSTREAM", "activation failed (injected by the model)");
          }
          await session.activate();
        }),
    };
  }

  // ---- what the appliance holds, and the invariants -----------------------------------------------

  /** Every appliance object of a kind (no appliance fault may be armed: it would hit this list). */
  async applianceObjects(kind: RuleKind): Promise<ObservedObject[]> {
    // The harness's own read: on a loaded machine a call may exceed the short request timeout the
    // operator's session runs with here (which keeps lost answers cheap); read again, a few times.
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#instance.session.list(kind);
      } catch (error) {
        const transient =
          error instanceof VnfError && ["VNF_TIMEOUT", "VNF_UNREACHABLE"].includes(error.code);
        if (!transient || attempt >= 5) throw error;
      }
    }
  }

  /**
   * Ready=True only when true: every rule whose status says Ready for its current generation, with
   * nothing in flight, has exactly one appliance object carrying its marker, holding its spec. Checked
   * between reconciles, when no appliance fault is armed (the check's own list would consume it).
   */
  async checkReadyIsTrue(): Promise<void> {
    if ((await this.sim.control.faults()).length > 0) return;
    const problems: string[] = [];
    for (const kind of ["firewallRule", "natRule"] as const) {
      const claimed = this.api.list(KINDS[kind].plural).filter(isReadyNow);
      if (claimed.length === 0) continue;
      const objects = await this.applianceObjects(kind);
      for (const rule of claimed) problems.push(...this.#holds(kind, rule, objects));
    }
    if (problems.length > 0) throw new Error(`Ready=True but untrue:\n  ${problems.join("\n  ")}`);
  }

  /**
   * After the quiet period: every rule has exactly one object with its marker and its current spec,
   * Ready for its generation with nothing pending, activated; no object with our marker lacks a rule;
   * no rule is stuck deleting.
   */
  async checkInvariants(): Promise<void> {
    const problems: string[] = [...this.unexpected.map((e) => `unexpected reconcile error: ${e}`)];
    for (const kind of ["firewallRule", "natRule"] as const) {
      const rules = this.api.list(KINDS[kind].plural);
      const objects = await this.applianceObjects(kind);
      for (const rule of rules) {
        const name = rule.metadata.name;
        if (rule.metadata.deletionTimestamp) {
          problems.push(`${kind} ${name}: still terminating (${conditionText(rule)})`);
          continue;
        }
        if (!isReadyNow(rule))
          problems.push(`${kind} ${name}: not Ready for its generation (${conditionText(rule)})`);
        problems.push(...this.#holds(kind, rule, objects));
      }
      const markers = new Set(rules.map((r) => this.ownership.markerOf(r)));
      for (const object of objects) {
        if (this.ownership.isOurs(object.marker) && !markers.has(object.marker ?? "")) {
          problems.push(
            `${kind} ${object.vendorRef}: carries our marker ${object.marker} but no rule has it (orphan)`,
          );
        }
      }
      if (
        this.row.activation === "staged" &&
        (await this.sim.control.objects(caseOf(this.row, kind).stored.controlKind)).pending
      ) {
        problems.push(`${kind}: changes left unactivated on the appliance`);
      }
    }
    if (problems.length > 0) throw new Error(`invariants broken:\n  ${problems.join("\n  ")}`);
  }

  #holds(kind: RuleKind, rule: VnfRule, objects: ObservedObject[]): string[] {
    const marker = this.ownership.markerOf(rule);
    const mine = objects.filter((o) => o.marker === marker);
    const name = `${kind} ${rule.metadata.name} (generation ${rule.metadata.generation})`;
    if (mine.length !== 1) {
      return [
        `${name}: ${mine.length} appliance objects carry its marker (${mine.map((o) => o.vendorRef).join(", ")})`,
      ];
    }
    const differences = this.#instance.session.differences(
      kind,
      this.ownership.requestOf(rule),
      mine[0] as ObservedObject,
    );
    return differences.length > 0 ? [`${name}: the appliance differs on ${differences.join(", ")}`] : [];
  }

  async close(): Promise<void> {
    this.#instance.dead = true;
    await this.#instance.session.close().catch(() => {});
  }
}

/** Ready=True for the current generation, nothing in flight, not deleting. */
function isReadyNow(rule: VnfRule): boolean {
  const ready = rule.status?.conditions?.find((c) => c.type === "Ready");
  return (
    ready?.status === "True" &&
    ready.observedGeneration === rule.metadata.generation &&
    rule.status?.pendingOperation === undefined &&
    rule.metadata.deletionTimestamp === undefined
  );
}

function conditionText(rule: VnfRule): string {
  return (rule.status?.conditions ?? [])
    .map((c) => `${c.type}=${c.status} ${c.reason}: ${c.message}`)
    .join("; ");
}

function resourceOf(kind: RuleKind) {
  return {
    group: "vnf-operator.io",
    version: "v1alpha1",
    plural: KINDS[kind].plural,
    kind: KINDS[kind].kind,
    namespaced: true,
  };
}

function kindOfPlural(plural: string): RuleKind {
  return plural === KINDS.natRule.plural ? "natRule" : "firewallRule";
}

function asRuleEvent(event: StoreEvent) {
  return event.oldObj === undefined
    ? { type: event.type, obj: event.obj }
    : { type: event.type, obj: event.obj, oldObj: event.oldObj };
}

/** Errors the controller meets in normal operation and requeues on. */
function isExpectedError(error: unknown): boolean {
  const status = (error as { status?: number }).status;
  return status === 409 || status === 422 || status === 404;
}

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

export const repoRoot = path.resolve(import.meta.dirname, "../../..");
