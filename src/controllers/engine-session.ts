// Builds a device's session from the dictionary engine: an ApplianceSession (auth, limits, HTTP,
// retries) plus an ActivationCoalescer in the device's activation mode, presented to the controllers
// through their port (ports.ts). The only place where controllers meet the engine's types.
import type { Logger } from "pino";
import { kubeTime } from "../api/conditions.ts";
import { ActivationCoalescer, PartialActivation } from "../appliance/activation.ts";
import type { EndpointGuard } from "../appliance/guarded-connect.ts";
import { activateIsolating, isolationBudget, membersNamedIn } from "../appliance/isolation.ts";
import type { ApplianceMetrics } from "../appliance/metrics.ts";
import {
  type ActivationResult,
  ApplianceSession,
  type ApplianceSessionOptions,
} from "../appliance/session.ts";
import type { CompiledDictionary } from "../dictionary/compiled.ts";
import { VnfError } from "../dictionary/errors.ts";
import type { ActivationMember, ObservedObject, RuleRequest } from "./ports.ts";
import type { LastActivation, ManagedSession, SessionConfig, SessionFactory } from "./session-registry.ts";

/** status.lastActivation.message is capped (the CRD allows 4096; a Ready message says the rest). */
const ACTIVATION_MESSAGE_MAX = 1024;

export interface EngineSessionOptions {
  dictionary: (name: string) => CompiledDictionary | undefined;
  /** Where credentials may be sent (the endpoint policy), checked on every connection. */
  endpointGuard?: EndpointGuard;
  logger?: Logger;
  metrics?: ApplianceMetrics;
  /** The User-Agent of every appliance request (which operator replica sent it). */
  userAgent?: string;
  /** Overrides of the engine's retry policy and clock (tests use short delays). */
  session?: Pick<ApplianceSessionOptions, "transportRetry" | "clock">;
  /** Called after each activation (the device controller records it in status). */
  onActivation?: (device: SessionConfig["device"], outcome: LastActivation) => void;
  /** Called when a write waits for a Batched activation (the device controller shows the count). */
  onActivationQueued?: (device: SessionConfig["device"]) => void;
}

export function engineSessionFactory(options: EngineSessionOptions): SessionFactory {
  return (config: SessionConfig): ManagedSession => {
    const dictionary = options.dictionary(config.dictionary);
    if (!dictionary) throw new Error(`dictionary ${config.dictionary} is not loaded`);
    const session = new ApplianceSession({
      dictionary,
      endpoint: config.endpoint,
      credentials: config.credentials,
      parameters: config.parameters,
      vendorLabel: config.vendor,
      ...(config.tls ? { tls: config.tls } : {}),
      ...(config.limits ? { limits: config.limits } : {}),
      ...(options.logger
        ? { logger: options.logger.child({ device: `${config.device.namespace}/${config.device.name}` }) }
        : {}),
      ...(options.metrics ? { metrics: options.metrics } : {}),
      ...(options.endpointGuard ? { endpointGuard: options.endpointGuard } : {}),
      ...(options.userAgent ? { userAgent: options.userAgent } : {}),
      ...options.session,
    });
    let last: LastActivation | undefined;
    const finished = (outcome: LastActivation) => {
      last = outcome;
      options.onActivation?.(config.device, outcome);
    };
    const log = options.logger?.child({ device: `${config.device.namespace}/${config.device.name}` });
    const activateOnce = async (signal: AbortSignal, changes: number) => {
      try {
        const result = await session.activate(signal);
        const jobId = result.jobs.at(-1);
        finished({
          time: kubeTime(new Date()),
          result: "Succeeded",
          changes,
          ...(jobId !== undefined ? { jobId } : {}),
        });
        return result;
      } catch (error) {
        if (signal.aborted) throw error; // nobody waits any more (shutdown, lost lease): not a failure
        // The session's errors carry no appliance text beyond the dictionary's mapping, secrets scrubbed.
        const message = error instanceof Error ? error.message : String(error);
        finished({
          time: kubeTime(new Date()),
          result: "Failed",
          changes,
          message: message.slice(0, ACTIVATION_MESSAGE_MAX),
        });
        throw error;
      }
    };
    const coalescer = new ActivationCoalescer<ActivationResult, ActivationMember>(
      async (signal, changes, members) => {
        // Isolation needs every member's write to be withdrawable; else the batch succeeds or fails whole.
        if (members.length === 0 || !members.every((m) => session.canRevert(m.kind))) {
          return activateOnce(signal, changes);
        }
        const result = await activateIsolating(members, {
          activate: () => activateOnce(signal, changes),
          // A rule can make a validation fail (VNF_INVALID); not a timeout, a lock or a lost session.
          attributable: (error) =>
            !signal.aborted && error instanceof VnfError && error.code === "VNF_INVALID",
          named: (error, group) =>
            session.activationNamesCulprits && error instanceof Error
              ? membersNamedIn(error.message, group)
              : [],
          maxActivations: isolationBudget(members.length),
          onStep: (step) => log?.warn({ ...step }, "activation failed: isolating the rules at fault"),
        });
        if (result.failed.size > 0 || result.activations > 1) {
          log?.info(
            { activations: result.activations, failed: [...result.failed.keys()].map((m) => m.vendorRef) },
            "batch activation isolated",
          );
        }
        if (result.failed.size === 0 && result.error === undefined) return result.value as ActivationResult;
        throw new PartialActivation<ActivationResult, ActivationMember>(
          result.failed,
          result.error === undefined ? { value: result.value as ActivationResult } : { error: result.error },
        );
      },
      config.activation.mode === "Batched"
        ? { mode: "Batched", windowMs: config.activation.batchWindowMs }
        : { mode: "Immediate" },
      undefined,
      // Safe apply: the savepoint is taken before the batch's first write.
      session.preparesWrites ? () => session.prepare() : undefined,
    );
    const input = (request: RuleRequest) =>
      Object.assign(
        { rule: request.spec, marker: request.marker },
        request.ruleNumber === undefined ? {} : { ruleNumber: request.ruleNumber },
        request.position === undefined ? {} : { position: request.position },
      );
    const observed = (object: {
      vendorRef: string;
      marker?: string;
      normalized: Record<string, unknown>;
      scope?: string;
      number?: number;
    }): ObservedObject =>
      Object.assign(
        { vendorRef: object.vendorRef, normalized: object.normalized },
        object.marker === undefined ? {} : { marker: object.marker },
        object.scope === undefined ? {} : { scope: object.scope },
        object.number === undefined ? {} : { number: object.number },
      );

    return {
      epoch: config.epoch,
      kinds: (["firewallRule", "natRule"] as const).filter(
        (kind) => dictionary.resources[kind] !== undefined,
      ),
      ...(dictionary.ruleNumbers ? { ruleNumbers: dictionary.ruleNumbers } : {}),
      desiredOpHash: (kind, request) => session.desiredOpHash(kind, input(request)),
      differences: (kind, request, object) => session.differences(kind, request.spec, object.normalized),
      create: async (kind, request, signal) => ({
        vendorRef: (await session.create(kind, input(request), signal)).vendorRef,
      }),
      get: async (kind, vendorRef, signal) => {
        const object = await session.get(kind, vendorRef, signal);
        return object ? observed(object) : undefined;
      },
      findByMarker: async (kind, markers, signal) => {
        const object = await session.findByMarker(kind, markers, signal);
        return object ? observed(object) : undefined;
      },
      // Objects without a marker are the ones import would consider: say whether it could.
      list: async (kind, signal) =>
        (await session.list(kind, signal)).map((object) =>
          object.marker === undefined
            ? { ...observed(object), importable: session.reverse(kind, object).ok }
            : observed(object),
        ),
      update: (kind, vendorRef, request, signal) => session.update(kind, vendorRef, input(request), signal),
      delete: (kind, vendorRef, signal, request) =>
        session.delete(kind, vendorRef, signal, request === undefined ? undefined : input(request)),
      ordering: (kind) => session.ordering(kind),
      orderScope: (kind, spec) => session.orderScope(kind, spec),
      move: (kind, vendorRef, position, signal) => session.move(kind, vendorRef, position, signal),
      updatedVendorRef: (kind, request) => session.updatedVendorRef(kind, input(request)),
      activate: async (signal, requested) => {
        if (!session.needsActivation) {
          requested?.slot?.release();
          return;
        }
        const activated = coalescer.requestActivation(signal, requested ?? {});
        if (config.activation.mode === "Batched") options.onActivationQueued?.(config.device);
        await activated;
      },
      ...(session.needsActivation
        ? {
            activation: () => ({ pending: coalescer.pending, ...(last ? { last } : {}) }),
          }
        : {}),
      ...(session.preparesWrites ? { beginWrite: (signal) => coalescer.beginWrite(signal) } : {}),
      canWithdraw: (kind) => session.canRevert(kind),
      revert: (kind, vendorRef, signal) => session.revert(kind, vendorRef, signal),
      health: (signal) => session.health(signal),
      close: async () => {
        await coalescer.close();
        await session.close();
      },
    };
  };
}
