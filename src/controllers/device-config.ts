// What a device's session is built from: the dictionary chosen, the credentials Secret (with every key
// the dictionary's auth reads), the CA Secret, limits and activation mode; or the problem that keeps it
// from being built (a Secret missing, unreadable, or lacking a key), before any appliance call.
import { DEFAULT_BATCH_WINDOW } from "../api/defaults.ts";
import { parseDuration } from "../api/duration.ts";
import type { VnfDevice } from "../api/types.ts";
import type { DeviceControllerDeps } from "./device-controller.ts";
import { transportOf } from "./device-status.ts";
import type { SessionConfig } from "./session-registry.ts";

type ConfigDeps = Pick<DeviceControllerDeps, "secrets" | "catalog" | "credentialScope">;

export type ConfigResult =
  | { config: SessionConfig; fingerprint: string }
  /** `missing`: a Secret does not exist (it may still come); otherwise it exists but lacks a key. */
  | { problem: { reason: string; message: string; missing: boolean } };

export function buildConfig(deps: ConfigDeps, device: VnfDevice, dictionary: string): ConfigResult {
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
function notReadable(deps: ConfigDeps, namespace: string): string {
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
