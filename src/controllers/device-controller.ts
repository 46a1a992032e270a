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
import {
  kubeTime,
  markNotReady,
  markReady,
  markReconciling,
  markStalled,
  markSuspended,
} from "../api/conditions.ts";
import { DEFAULT_BATCH_WINDOW } from "../api/defaults.ts";
import { parseDuration } from "../api/duration.ts";
import type { VnfDevice, VnfDeviceStatus, VnfRule } from "../api/types.ts";
import type { DictionaryChoice, DictionaryChoiceRequest } from "../dictionary/choose.ts";
import { type ErrorCode, VnfError } from "../dictionary/errors.ts";
import type { ReconcileContext, ReconcileResult } from "../runtime/controller.ts";
import type { EventSink } from "../runtime/events.ts";
import type { ObjectCache } from "../runtime/informer.ts";
import type { KubeRequester } from "../runtime/kube-http.ts";
import type { KubeObject, ObjectKey, ResourceType } from "../runtime/resource.ts";
import { deepEqual, StatusWriter } from "../runtime/status-writer.ts";
import { DEFAULT_MAX_RETRY_DELAY_MS, requeueAfter } from "./requeue.ts";
import type { ManagedSession, SessionConfig, SessionRegistry } from "./session-registry.ts";
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

/** lastHealthCheckTime is refreshed at most this often when nothing else changes (no write per check). */
const HEALTH_RECORD_INTERVAL_MS = 5 * 60_000;

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
    if (!device || device.metadata.deletionTimestamp) {
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
                countRules(deps, key),
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
            healthy(s, generation, used, health, countRules(deps, key), now(), fit.unsupported),
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

type Health = { version?: string; serial?: string };

type ConfigResult =
  | { config: SessionConfig; fingerprint: string }
  /** `missing`: a Secret does not exist (it may still come); otherwise it exists but lacks a key. */
  | { problem: { reason: string; message: string; missing: boolean } };

type Transport = NonNullable<VnfDeviceStatus["transport"]>;

/** What the Ready message and an Event say when the transport is not verified TLS. */
const TRANSPORT_WARNING: Record<Exclude<Transport, "https">, string> = {
  http: "plain http:// (spec.allowInsecureHttp): credentials and rules travel unencrypted",
  "https-unverified":
    "the appliance's certificate is not verified (tls.insecureSkipVerify): anyone on the network path can impersonate it and receive its credentials",
};

function transportOf(device: VnfDevice): Transport {
  if (/^http:\/\//i.test(device.spec.endpoint)) return "http";
  return device.spec.tls?.insecureSkipVerify ? "https-unverified" : "https";
}

/** status.transport, and a warning in the Ready message when credentials are not protected. */
function withTransport(status: VnfDeviceStatus, transport: Transport): VnfDeviceStatus {
  if (transport === "https") return { ...status, transport };
  const conditions = status.conditions?.map((c) =>
    c.type === "Ready" && c.status === "True"
      ? { ...c, message: `${c.message}; WARNING: ${TRANSPORT_WARNING[transport]}` }
      : c,
  );
  return { ...status, transport, ...(conditions ? { conditions } : {}) };
}

/**
 * status.pendingActivations (Batched devices: the writes waiting for the window to close) and
 * status.lastActivation (kept from status when this session has not activated yet, e.g. after a restart).
 */
function withActivation(
  status: VnfDeviceStatus,
  device: VnfDevice,
  session: ManagedSession,
): VnfDeviceStatus {
  const activation = session.activation?.();
  const { pendingActivations: _pending, ...rest } = status;
  if (!activation) return rest;
  return {
    ...rest,
    ...(device.spec.activation?.mode === "Batched" ? { pendingActivations: activation.pending } : {}),
    ...(activation.last ? { lastActivation: activation.last } : {}),
  };
}

function buildConfig(deps: DeviceControllerDeps, device: VnfDevice, dictionary: string): ConfigResult {
  const namespace = device.metadata.namespace ?? "";
  // The CRD refuses this on admission; objects stored before that rule existed land here.
  if (transportOf(device) === "http" && device.spec.allowInsecureHttp !== true) {
    return {
      problem: {
        reason: "InsecureEndpoint",
        message: `endpoint ${device.spec.endpoint} would send the credentials unencrypted: use https://, or set spec.allowInsecureHttp: true to accept that`,
        missing: false,
      },
    };
  }
  const secretName = device.spec.credentialsSecretRef.name;
  const secret = deps.secrets.get(namespace, secretName);
  if (!secret) {
    return {
      problem: {
        reason: "CredentialsNotFound",
        message: `Secret ${namespace}/${secretName} (spec.credentialsSecretRef) ${notReadable(deps, namespace)}`,
        missing: true,
      },
    };
  }
  const credentials = decode(secret.data);
  const missing = deps.catalog.credentialKeys(dictionary).filter((k) => !credentials[k]);
  if (missing.length > 0) {
    return {
      problem: {
        reason: "CredentialsInvalid",
        message: `Secret ${namespace}/${secretName} lacks the key(s) ${missing.join(", ")} that dictionary ${dictionary} needs: add them`,
        missing: false,
      },
    };
  }
  let caPem: string | undefined;
  let caVersion = "";
  const caRef = device.spec.tls?.caSecretRef;
  if (caRef) {
    const caSecret = deps.secrets.get(namespace, caRef.name);
    const keyName = caRef.key ?? "ca.crt";
    caPem = caSecret ? decode(caSecret.data)[keyName] : undefined;
    if (!caPem) {
      return {
        problem: {
          reason: "CaNotFound",
          message: caSecret
            ? `Secret ${namespace}/${caRef.name} (spec.tls.caSecretRef) has no key ${keyName}: add the appliance's CA certificate under it`
            : `Secret ${namespace}/${caRef.name} with key ${keyName} (spec.tls.caSecretRef) ${notReadable(deps, namespace)}`,
          missing: !caSecret,
        },
      };
    }
    caVersion = caSecret?.metadata?.resourceVersion ?? "";
  }
  const generation = device.metadata.generation ?? 0;
  const epoch = `${generation}/${secret.metadata?.resourceVersion ?? ""}${caVersion ? `/${caVersion}` : ""}`;
  const limits = device.spec.limits;
  const config: SessionConfig = {
    device: { namespace, name: device.metadata.name ?? "" },
    vendor: device.spec.vendor,
    dictionary,
    endpoint: device.spec.endpoint,
    credentials,
    parameters: device.spec.parameters ?? {},
    activation: {
      mode: device.spec.activation?.mode ?? "Immediate",
      batchWindowMs: parseDuration(device.spec.activation?.batchWindow ?? DEFAULT_BATCH_WINDOW),
    },
    epoch,
    ...(device.spec.tls
      ? {
          tls: {
            ...(caPem ? { caPem } : {}),
            ...(device.spec.tls.insecureSkipVerify ? { insecureSkipVerify: true } : {}),
            ...(device.spec.tls.serverName ? { serverName: device.spec.tls.serverName } : {}),
          },
        }
      : {}),
    ...(limits
      ? {
          limits: {
            ...(limits.maxConcurrentRequests ? { maxConcurrentRequests: limits.maxConcurrentRequests } : {}),
            ...(limits.requestsPerSecond ? { requestsPerSecond: limits.requestsPerSecond } : {}),
            ...(limits.requestTimeout ? { requestTimeoutMs: parseDuration(limits.requestTimeout) } : {}),
          },
        }
      : {}),
  };
  // Credentials are not in the fingerprint: the Secret's resourceVersion (in the epoch) stands for them.
  return { config, fingerprint: `${dictionary}|${epoch}` };
}

/**
 * Why a referenced Secret is not in the cache: the operator reads only labelled credential Secrets
 * (and, when so configured, only in some namespaces), so "does not exist" would mislead.
 */
function notReadable(deps: DeviceControllerDeps, namespace: string): string {
  const scope = deps.credentialScope;
  if (!scope) return "does not exist: create it";
  if (scope.namespaces && !scope.namespaces.includes(namespace)) {
    return `cannot be read: the operator reads credential Secrets only in ${scope.namespaces.join(", ")} (--credential-namespaces)`;
  }
  return `was not found among the credential Secrets the operator reads: it must exist and carry the label ${scope.label}: create or label it`;
}

function decode(data: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(data ?? {}))
    out[key] = Buffer.from(value, "base64").toString("utf8");
  return out;
}

function countRules(deps: DeviceControllerDeps, device: ObjectKey): number {
  let count = 0;
  for (const informer of deps.rules) {
    for (const rule of informer.list(device.namespace)) if (rule.spec.deviceRef.name === device.name) count++;
  }
  return count;
}

function describe(health: { version?: string; serial?: string }): string {
  return (
    [health.version ? `version ${health.version}` : "", health.serial ? `serial ${health.serial}` : ""]
      .filter(Boolean)
      .join(", ") || "no version reported"
  );
}

/** Ready after a health check passed at `checkedAt` (now, or the last check when none was due). */
function healthy(
  status: VnfDeviceStatus,
  generation: number,
  dictionary: string,
  health: Health,
  managedRules: number,
  checkedAt: Date,
  unsupportedFirmware?: string,
): VnfDeviceStatus {
  const now = checkedAt;
  const next: VnfDeviceStatus = { ...status, dictionary, managedRules };
  if (health.version) next.vendorVersion = health.version;
  if (health.serial) next.serial = health.serial;
  delete next.errorCode;
  next.conditions = markReady(
    status.conditions,
    {
      reason: "HealthCheckPassed",
      message: `appliance reachable through dictionary ${dictionary} (${describe(health)})${
        unsupportedFirmware ? `; ${unsupportedFirmware}` : ""
      }`,
      observedGeneration: generation,
    },
    now,
  );
  // Refresh the timestamp only when it is old or something else changed: a steady device costs no write.
  const last = status.lastHealthCheckTime ? Date.parse(status.lastHealthCheckTime) : 0;
  const changed = !deepEqual(
    { ...status, lastHealthCheckTime: undefined },
    { ...next, lastHealthCheckTime: undefined },
  );
  if (changed || now.getTime() - last >= HEALTH_RECORD_INTERVAL_MS) next.lastHealthCheckTime = kubeTime(now);
  return next;
}

/**
 * Firmware no dictionary admits: Stalled with the version and the ranges (a person must act), version
 * recorded; checked again at the health interval.
 */
function unsupported(
  status: VnfDeviceStatus,
  generation: number,
  reason: string,
  message: string,
  health: Health,
  retryInMs: number,
  now: Date,
): VnfDeviceStatus {
  const next = stalled(status, generation, reason, message, retryInMs, now);
  if (health.version) next.vendorVersion = health.version;
  if (health.serial) next.serial = health.serial;
  return next;
}

function notReady(
  status: VnfDeviceStatus,
  generation: number,
  reason: string,
  message: string,
  now: Date,
  retrying: boolean,
): VnfDeviceStatus {
  const mark = { reason, message, observedGeneration: generation };
  const conditions = retrying
    ? markReconciling(
        status.conditions,
        {
          reason: "RetryingAfterError",
          message: `${reason}: retrying with backoff`,
          observedGeneration: generation,
        },
        now,
        { reason, message },
      )
    : markNotReady(status.conditions, mark, now);
  const next: VnfDeviceStatus = { ...status, conditions };
  if (isErrorCode(reason)) next.errorCode = reason;
  else delete next.errorCode;
  return next;
}

function stalled(
  status: VnfDeviceStatus,
  generation: number,
  reason: string,
  message: string,
  retryInMs: number,
  now: Date,
): VnfDeviceStatus {
  const conditions = markStalled(
    status.conditions,
    { reason, message, observedGeneration: generation },
    now,
    `${message} (checked again in ${Math.round(retryInMs / 1000)} s, and at once when the device's spec or its Secrets change)`,
  );
  const next: VnfDeviceStatus = { ...status, conditions };
  if (isErrorCode(reason)) next.errorCode = reason;
  else delete next.errorCode;
  return next;
}

/** spec.suspend: Suspended=True, no Ready, Reconciling or Stalled; errorCode cleared. */
function suspended(status: VnfDeviceStatus, generation: number, now: Date): VnfDeviceStatus {
  const next: VnfDeviceStatus = {
    ...status,
    conditions: markSuspended(
      status.conditions,
      {
        reason: "Suspended",
        message:
          "spec.suspend is true: no call is made to this appliance, for the device or its rules; set it to false to resume",
        observedGeneration: generation,
      },
      now,
    ),
  };
  delete next.errorCode;
  return next;
}

function isErrorCode(reason: string): reason is NonNullable<VnfDeviceStatus["errorCode"]> {
  return /^(VNF_|BROKER_)[A-Z_]+$/.test(reason);
}
