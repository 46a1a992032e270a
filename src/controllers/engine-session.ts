// Builds a device's session from the dictionary engine: an ApplianceSession (auth, limits, HTTP,
// retries) plus an ActivationCoalescer in the device's activation mode, presented to the controllers
// through their port (ports.ts). The only place where controllers meet the engine's types.
import type { Logger } from "pino";
import { ActivationCoalescer } from "../appliance/activation.ts";
import type { EndpointGuard } from "../appliance/guarded-connect.ts";
import type { ApplianceMetrics } from "../appliance/metrics.ts";
import { type ActivationResult, ApplianceSession } from "../appliance/session.ts";
import type { CompiledDictionary } from "../dictionary/compile.ts";
import type { ObservedObject, RuleRequest } from "./ports.ts";
import type { ManagedSession, SessionConfig, SessionFactory } from "./session-registry.ts";

export interface EngineSessionOptions {
  dictionary: (name: string) => CompiledDictionary | undefined;
  /** Where credentials may be sent (the endpoint policy), checked on every connection. */
  endpointGuard?: EndpointGuard;
  logger?: Logger;
  metrics?: ApplianceMetrics;
  /** Called after each activation (the device controller records it in status). */
  onActivation?: (
    device: SessionConfig["device"],
    outcome: { result: "Succeeded" | "Failed"; message?: string },
  ) => void;
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
    });
    const coalescer = new ActivationCoalescer<ActivationResult>(
      async (signal) => {
        try {
          const result = await session.activate(signal);
          options.onActivation?.(config.device, { result: "Succeeded" });
          return result;
        } catch (error) {
          if (signal.aborted) throw error; // nobody waits any more (shutdown, lost lease): not a failure
          options.onActivation?.(config.device, {
            result: "Failed",
            message: error instanceof Error ? error.message : String(error),
          });
          throw error;
        }
      },
      config.activation.mode === "Batched"
        ? { mode: "Batched", windowMs: config.activation.batchWindowMs }
        : { mode: "Immediate" },
    );
    const input = (request: RuleRequest) =>
      request.ruleNumber === undefined
        ? { rule: request.spec, marker: request.marker }
        : { rule: request.spec, marker: request.marker, ruleNumber: request.ruleNumber };
    const observed = (object: {
      vendorRef: string;
      marker?: string;
      normalized: Record<string, unknown>;
    }): ObservedObject =>
      object.marker === undefined
        ? { vendorRef: object.vendorRef, normalized: object.normalized }
        : { vendorRef: object.vendorRef, marker: object.marker, normalized: object.normalized };

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
      findByMarker: async (kind, marker, signal) => {
        const object = await session.findByMarker(kind, marker, signal);
        return object ? observed(object) : undefined;
      },
      list: async (kind, signal) => (await session.list(kind, signal)).map(observed),
      update: (kind, vendorRef, request, signal) => session.update(kind, vendorRef, input(request), signal),
      delete: (kind, vendorRef, signal) => session.delete(kind, vendorRef, signal),
      activate: async (signal) => {
        if (session.needsActivation) await coalescer.requestActivation(signal);
      },
      health: (signal) => session.health(signal),
      close: async () => {
        await coalescer.close();
        await session.close();
      },
    };
  };
}
