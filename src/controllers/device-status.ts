// The VnfDevice status the device controller writes for each outcome (pure): Ready after a passing
// health check (with the transport and the activations), not Ready, Stalled, firmware unsupported,
// suspended; the kstatus conditions through the api/conditions.ts helpers.
import {
  kubeTime,
  markNotReady,
  markReady,
  markReconciling,
  markStalled,
  markSuspended,
} from "../api/conditions.ts";
import type { VnfDevice, VnfDeviceStatus } from "../api/types.ts";
import { deepEqual } from "../runtime/status-writer.ts";
import type { ManagedSession } from "./session-registry.ts";

/** lastHealthCheckTime is refreshed at most this often when nothing else changes (no write per check). */
const HEALTH_RECORD_INTERVAL_MS = 5 * 60_000;

export type Health = { version?: string; serial?: string };

export type Transport = NonNullable<VnfDeviceStatus["transport"]>;

/** What the Ready message and an Event say when the transport is not verified TLS. */
export const TRANSPORT_WARNING: Record<Exclude<Transport, "https">, string> = {
  http: "plain http:// (spec.allowInsecureHttp): credentials and rules travel unencrypted",
  "https-unverified":
    "the appliance's certificate is not verified (tls.insecureSkipVerify): anyone on the network path can impersonate it and receive its credentials",
};

export function transportOf(device: VnfDevice): Transport {
  if (/^http:\/\//i.test(device.spec.endpoint)) return "http";
  return device.spec.tls?.insecureSkipVerify ? "https-unverified" : "https";
}

/** status.transport, and a warning in the Ready message when credentials are not protected. */
export function withTransport(status: VnfDeviceStatus, transport: Transport): VnfDeviceStatus {
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
export function withActivation(
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

export function describe(health: { version?: string; serial?: string }): string {
  return (
    [health.version ? `version ${health.version}` : "", health.serial ? `serial ${health.serial}` : ""]
      .filter(Boolean)
      .join(", ") || "no version reported"
  );
}

/** Ready after a health check passed at `checkedAt` (now, or the last check when none was due). */
export function healthy(
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
export function unsupported(
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

export function notReady(
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

export function stalled(
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
export function suspended(status: VnfDeviceStatus, generation: number, now: Date): VnfDeviceStatus {
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

export function isErrorCode(reason: string): reason is NonNullable<VnfDeviceStatus["errorCode"]> {
  return /^(VNF_|BROKER_)[A-Z_]+$/.test(reason);
}
