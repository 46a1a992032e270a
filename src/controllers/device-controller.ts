// The VnfDevice reconciler: which dictionary speaks to this appliance, with which credentials, and
// is it healthy? It owns the device's session (auth, limits, coalesced activation) and publishes
// Ready, firmware version and serial. Runbook:
//   0. suspended (spec.suspend): no session, no appliance call; Suspended=True, nothing else;
//   1. choose the dictionary by vendor (or spec.dictionary) and the firmware version last reported
//      (Stalled when the vendor has none: only a spec change or a new dictionary helps);
//   2. read the credentials Secret and the CA Secret (a Secret change re-queues the device); missing,
//      waited for during the grace period after the device's creation, then Stalled;
//   3. (re)build the session when any of that changed;
//   4. health check — when the interval is up, the session is new, or the last one failed; a reconcile
//      for anything else (an activation, a label) records status from the last result;
//   5. choose again for the version it reported: another dictionary → switch to it and check again;
//      none admits the firmware → Stalled FirmwareUnsupported (unless spec.allowUnsupportedFirmware),
//      rules paused; else record version, serial, dictionary, Ready; check again when the interval is up.
// Every Stalled state is looked at again after the stalled backoff (stalled.ts), and at once when the
// spec or a Secret changes.
import type { VnfDevice, VnfDeviceStatus, VnfRule } from "../api/types.ts";
import type { DictionaryChoice, DictionaryChoiceRequest } from "../dictionary/choose.ts";
import { type ErrorCode, VnfError } from "../dictionary/errors.ts";
import type { ReconcileContext, ReconcileResult } from "../runtime/controller.ts";
import type { EventSink } from "../runtime/events.ts";
import type { ObjectCache } from "../runtime/informer.ts";
import type { KubeRequester } from "../runtime/kube-http.ts";
import type { KubeObject, ObjectKey, ResourceType } from "../runtime/resource.ts";
import { StatusWriter } from "../runtime/status-writer.ts";
import { buildConfig } from "./device-config.ts";
import {
  describe,
  type Health,
  healthy,
  notReady,
  stalled,
  suspended,
  TRANSPORT_WARNING,
  transportOf,
  unsupported,
  withActivation,
  withTransport,
} from "./device-status.ts";
import { DEFAULT_MAX_RETRY_DELAY_MS, requeueAfter } from "./requeue.ts";
import type { SessionRegistry } from "./session-registry.ts";
import {
  DEFAULT_GRACE_PERIOD_MS,
  DEFAULT_STALLED_RETRY,
  graceLeft,
  StallBook,
  type StalledRetryPolicy,
} from "./stalled.ts";
import { DEVICE_CONTROLLER_STATUS, FieldManager } from "./status-ownership.ts";

export interface SecretObject extends KubeObject {
  data?: Record<string, string>;
}

export interface DictionaryCatalog {
  /** The dictionary for a device (vendor, named one, firmware version), or why there is none. */
  choose(request: DictionaryChoiceRequest): DictionaryChoice;
  /** The credential keys the dictionary's auth needs, for a clear error when the Secret lacks one. */
  credentialKeys(name: string): string[];
}

export interface DeviceControllerDeps {
  resource: ResourceType;
  devices: ObjectCache<VnfDevice>;
  secrets: ObjectCache<SecretObject>;
  /** Every rule cache, to count the device's managed rules. */
  rules: Array<ObjectCache<VnfRule>>;
  catalog: DictionaryCatalog;
  sessions: SessionRegistry;
  http: KubeRequester;
  events: EventSink;
  healthIntervalMs: number;
  /** Which Secrets the operator reads (for the message when a referenced one is not in the cache). */
  credentialScope?: { label: string; namespaces?: readonly string[] };
  /** The longest wait before checking a failing appliance again, also for its Retry-After; default 60 s. */
  maxRetryDelayMs?: number;
  /** How long a device waits for a missing credentials or CA Secret after its creation before Stalled. */
  gracePeriodMs?: number;
  /** When a Stalled device is looked at again. */
  stalledRetry?: StalledRetryPolicy;
  /** The device's session just became usable: its rules should be reconciled (wiring enqueues them). */
  onSessionReady?: (device: ObjectKey) => void;
  now?: () => Date;
}

export function deviceReconciler(deps: DeviceControllerDeps) {
  const now = deps.now ?? (() => new Date());
  const status = new StatusWriter<VnfDevice>({
    client: deps.http,
    resource: deps.resource,
    fieldManager: FieldManager.device,
    owns: DEVICE_CONTROLLER_STATUS,
  });
  /** The last passing health check per device, and which session it was made through. */
  const lastCheck = new Map<
    string,
    { at: number; fingerprint: string; health: Health; unsupported: string | undefined }
  >();
  const stalls = new StallBook(deps.stalledRetry ?? DEFAULT_STALLED_RETRY);
  return async (key: ObjectKey, ctx: ReconcileContext): Promise<ReconcileResult | undefined> => {
    const id = `${key.namespace}/${key.name}`;
    const device = deps.devices.get(key.namespace, key.name);
    // Being deleted, the device keeps its session until it is gone: its rules with deletionPolicy
    // Delete remove their appliance objects through it first (device-protection.ts).
    if (!device) {
      lastCheck.delete(id);
      stalls.clear(id);
      await deps.sessions.remove(key);
      return undefined;
    }
    const generation = device.metadata.generation ?? 0;
    const record = (update: (status: VnfDeviceStatus) => VnfDeviceStatus) =>
      status.write(device, (current) => update({ ...(current ?? {}), observedGeneration: generation }), {
        signal: ctx.signal,
      });
    /** Records a state that needs a person; looked at again after the stalled backoff. */
    const stall = async (reason: string, message: string, code?: ErrorCode): Promise<ReconcileResult> => {
      const retryInMs = stalls.stalled(id, now());
      await record((s) => {
        const next = stalled(s, generation, reason, message, retryInMs, now());
        return code ? { ...next, errorCode: code } : next;
      });
      return { requeueAfterMs: retryInMs };
    };

    // 0. suspended: no session, nothing sent; resuming is a spec change, which re-queues the device.
    if (device.spec.suspend) {
      lastCheck.delete(id);
      stalls.clear(id);
      await deps.sessions.remove(key);
      await record((s) => suspended(s, generation, now()));
      return undefined;
    }

    // 1. dictionary, for the firmware the last check reported (or, if that one fits none, the one a
    // check would run with now: the appliance may have been upgraded since).
    const request: DictionaryChoiceRequest = {
      vendor: device.spec.vendor,
      ...(device.spec.dictionary !== undefined ? { named: device.spec.dictionary } : {}),
      ...(device.spec.allowUnsupportedFirmware ? { allowUnsupportedFirmware: true } : {}),
    };
    const recorded = device.status?.vendorVersion;
    let choice = deps.catalog.choose(recorded ? { ...request, firmwareVersion: recorded } : request);
    if ("error" in choice && choice.reason === "FirmwareUnsupported") choice = deps.catalog.choose(request);
    if ("error" in choice) {
      const { error } = choice;
      lastCheck.delete(id);
      await deps.sessions.remove(key);
      deps.events.warning(device, "NoDictionary", "Resolve", error);
      return stall("NoDictionary", error);
    }
    let dictionary = choice.name;

    for (let attempt = 1; ; attempt++) {
      // 2. credentials and CA
      const config = buildConfig(deps, device, dictionary);
      if ("problem" in config) {
        // A missing Secret may still be on its way (GitOps ordering, an external-secrets controller):
        // waited for during the grace period. Its arrival, or any change of it, re-queues this device.
        lastCheck.delete(id);
        deps.sessions.markReady(key, false);
        const { reason, message, missing } = config.problem;
        const left = missing
          ? graceLeft(device.metadata.creationTimestamp, now(), deps.gracePeriodMs ?? DEFAULT_GRACE_PERIOD_MS)
          : 0;
        if (left > 0) {
          const waiting = `${message} (waiting up to ${Math.ceil(left / 1000)} s more for it, then Stalled)`;
          await record((s) => notReady(s, generation, reason, waiting, now(), false));
          return { requeueAfterMs: left };
        }
        return stall(reason, message);
      }

      // 3. session (rebuilt only when its inputs changed)
      const session = await deps.sessions.ensure(config.config, config.fingerprint);

      // 4. health, when it is due: the interval is up, the session is new (spec, Secret or dictionary
      // changed) or not Ready (the last check failed). Otherwise only status is recorded (e.g. after an
      // activation).
      const previous = lastCheck.get(id);
      const sinceCheck = previous ? now().getTime() - previous.at : Number.POSITIVE_INFINITY;
      if (
        previous !== undefined &&
        previous.fingerprint === config.fingerprint &&
        deps.sessions.get(key) !== undefined &&
        sinceCheck < deps.healthIntervalMs
      ) {
        const used = dictionary;
        await record((s) =>
          withActivation(
            withTransport(
              healthy(
                s,
                generation,
                used,
                previous.health,
                countRules(deps, key, device),
                new Date(previous.at),
                previous.unsupported,
              ),
              transportOf(device),
            ),
            device,
            session,
          ),
        );
        return { requeueAfterMs: deps.healthIntervalMs - sinceCheck };
      }
      // Only the appliance call is in the try: a failed status write is an API-server problem (retried
      // by the controller), not an unhealthy appliance.
      let health: Health;
      try {
        health = await session.health(ctx.signal);
      } catch (error) {
        if (ctx.signal.aborted) throw error; // cancelled: says nothing about the appliance
        lastCheck.delete(id);
        deps.sessions.markReady(key, false);
        const vnf = error instanceof VnfError ? error : new VnfError("BROKER_INTERNAL", String(error));
        const message = `health check failed: ${vnf.code}: ${vnf.message}`;
        // A specific reason (EndpointNotAllowed) says more than the code it maps to.
        const reason = vnf.reason ?? vnf.code;
        deps.events.warning(device, reason, "HealthCheck", message);
        ctx.log.warn({ code: vnf.code, reason }, message);
        if (!vnf.retryable) {
          const hint =
            vnf.code === "VNF_AUTH"
              ? `: the appliance refused the credentials in Secret ${device.spec.credentialsSecretRef.name} even after a fresh login; correct the Secret, or the account on the appliance`
              : "";
          return stall(reason, `${message}${hint}`, vnf.code);
        }
        await record((s) => notReady(s, generation, vnf.code, message, now(), true));
        return requeueAfter(vnf, deps.maxRetryDelayMs ?? DEFAULT_MAX_RETRY_DELAY_MS);
      }

      // 5. the dictionary for the firmware the appliance runs
      const fit = deps.catalog.choose(
        health.version ? { ...request, firmwareVersion: health.version } : request,
      );
      if ("error" in fit) {
        // Nothing is sent to an appliance no dictionary describes; checked again at the interval (an
        // upgrade, or a spec change, may fix it).
        lastCheck.delete(id);
        deps.sessions.markReady(key, false);
        const { reason, error } = fit;
        if (device.status?.conditions?.find((c) => c.type === "Ready")?.reason !== reason) {
          deps.events.warning(device, reason, "Resolve", error);
        }
        const what = `${error}: upgrade or downgrade the appliance, add a dictionary for it, or set spec.allowUnsupportedFirmware`;
        await record((s) => unsupported(s, generation, reason, what, health, deps.healthIntervalMs, now()));
        return { requeueAfterMs: deps.healthIntervalMs };
      }
      if (fit.name !== dictionary && attempt === 1) {
        deps.events.normal(
          device,
          "DictionaryChanged",
          "Resolve",
          `firmware ${health.version ?? "?"}: dictionary ${dictionary} → ${fit.name}`,
        );
        ctx.log.info({ from: dictionary, to: fit.name, version: health.version }, "dictionary changed");
        dictionary = fit.name;
        continue;
      }
      stalls.clear(id);
      lastCheck.set(id, {
        at: now().getTime(),
        fingerprint: config.fingerprint,
        health,
        unsupported: fit.unsupported,
      });
      const wasReady = deps.sessions.get(key) !== undefined;
      deps.sessions.markReady(key, true);
      if (!wasReady) {
        deps.events.normal(device, "Connected", "HealthCheck", `appliance reachable (${describe(health)})`);
        if (fit.unsupported) deps.events.warning(device, "FirmwareUnsupported", "Resolve", fit.unsupported);
        const transport = transportOf(device);
        if (transport !== "https") {
          deps.events.warning(device, "InsecureTransport", "Connect", TRANSPORT_WARNING[transport]);
        }
      }
      const used = dictionary;
      await record((s) =>
        withActivation(
          withTransport(
            healthy(s, generation, used, health, countRules(deps, key, device), now(), fit.unsupported),
            transportOf(device),
          ),
          device,
          session,
        ),
      );
      if (!wasReady) deps.onSessionReady?.(key);
      return { requeueAfterMs: deps.healthIntervalMs };
    }
  };
}

/**
 * The device's rules, counted only from complete caches: a count from a half-listed cache (just after a
 * restart) would be a status write now and another at the next health check. Until then: as recorded.
 */
function countRules(deps: DeviceControllerDeps, device: ObjectKey, object: VnfDevice): number {
  if (!deps.rules.every((informer) => informer.hasSynced())) return object.status?.managedRules ?? 0;
  let count = 0;
  for (const informer of deps.rules) {
    for (const rule of informer.list(device.namespace)) if (rule.spec.deviceRef.name === device.name) count++;
  }
  return count;
}
