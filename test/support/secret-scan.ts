// The secrets scan's pure part: which strings count as a Secret's credential values (and the forms
// they could take on their way into a log line, an Event, a status or /metrics), and where any of
// them occurs in a set of texts. test/scan/secrets.test.ts feeds it what the integration suite left
// behind; test/unit/support/secret-scan.test.ts proves it finds planted values in every form.

/** A Secret as the scan sees it: its values decoded (the API serves them base64-encoded). */
export interface ScannedSecret {
  namespace: string;
  name: string;
  type?: string;
  data: Record<string, string>;
}

/** One string that must not appear anywhere: a credential value in one of its forms. */
export interface Needle {
  secret: string;
  key: string;
  form: "raw" | "base64" | "json-escaped" | "url-encoded" | "basic-auth";
  value: string;
}

/** A text to search: a log file, an Event, a resource's status, a /metrics page. */
export interface Haystack {
  source: string;
  text: string;
}

export interface Leak {
  source: string;
  secret: string;
  key: string;
  form: Needle["form"];
  /** The text around the occurrence, with the value itself replaced by a marker. */
  context: string;
}

/** Shorter values are too common to tell a credential from ordinary text (test credentials are longer). */
export const MIN_SECRET_LENGTH = 8;

// A user name is an identity, not a credential (the operator's scrubber treats it the same way).
const IDENTITY_KEYS = /^(user(name)?|login)$/i;
// Certificates are public by design (a CA bundle, a server certificate); keys are not.
const PUBLIC_KEYS = /(^|\.)(crt|cert|ca-bundle)$|^ca\.pem$/i;
// Helm's record of a release: a gzip blob of the chart and values, written by helm, not a credential.
const RECORD_TYPES = new Set(["helm.sh/release.v1"]);

/** Why a key of a Secret is not scanned, or undefined when it is. */
export function skipReason(secret: ScannedSecret, key: string): string | undefined {
  if (secret.type && RECORD_TYPES.has(secret.type)) return `type ${secret.type} is Helm's release record`;
  if (IDENTITY_KEYS.test(key)) return "a user name is an identity";
  if (PUBLIC_KEYS.test(key)) return "a certificate is public";
  if ((secret.data[key] ?? "").length < MIN_SECRET_LENGTH)
    return `shorter than ${MIN_SECRET_LENGTH} characters`;
  return undefined;
}

/** Every form in which a Secret's credential values could leak. */
export function needlesOf(secret: ScannedSecret): Needle[] {
  const id = `${secret.namespace}/${secret.name}`;
  const needles: Needle[] = [];
  const add = (key: string, form: Needle["form"], value: string) => {
    if (!needles.some((n) => n.value === value)) needles.push({ secret: id, key, form, value });
  };
  for (const [key, value] of Object.entries(secret.data)) {
    if (skipReason(secret, key) !== undefined) continue;
    add(key, "raw", value);
    // How the Secret itself carries it (a logged Secret object, a dumped request to the API server).
    add(key, "base64", Buffer.from(value, "utf8").toString("base64"));
    // Inside a JSON log line or body, and in a form-encoded body or query string.
    add(key, "json-escaped", JSON.stringify(value).slice(1, -1));
    add(key, "url-encoded", encodeURIComponent(value));
  }
  // An Authorization: Basic header made from the pair.
  const user = Object.entries(secret.data).find(([key]) => IDENTITY_KEYS.test(key))?.[1];
  const password = secret.data.password;
  if (user !== undefined && password !== undefined && skipReason(secret, "password") === undefined)
    add("password", "basic-auth", Buffer.from(`${user}:${password}`, "utf8").toString("base64"));
  return needles;
}

/** Every occurrence of any needle in any haystack (one per needle and haystack). */
export function findLeaks(needles: readonly Needle[], haystacks: readonly Haystack[]): Leak[] {
  const leaks: Leak[] = [];
  for (const haystack of haystacks) {
    for (const needle of needles) {
      const at = haystack.text.indexOf(needle.value);
      if (at < 0) continue;
      const before = haystack.text.slice(Math.max(0, at - 60), at);
      const after = haystack.text.slice(at + needle.value.length, at + needle.value.length + 60);
      leaks.push({
        source: haystack.source,
        secret: needle.secret,
        key: needle.key,
        form: needle.form,
        // The failure message must not print the credential itself.
        context: `${before}<${needle.secret} ${needle.key} (${needle.form})>${after}`.replace(/\n/g, "\\n"),
      });
    }
  }
  return leaks;
}

/** A Secret from the API (data base64-encoded, stringData already folded in by the server). */
export function decodeSecret(secret: {
  metadata?: { namespace?: string; name?: string };
  type?: string;
  data?: Record<string, string>;
}): ScannedSecret {
  const data: Record<string, string> = {};
  for (const [key, value] of Object.entries(secret.data ?? {}))
    data[key] = Buffer.from(value, "base64").toString("utf8");
  return {
    namespace: secret.metadata?.namespace ?? "",
    name: secret.metadata?.name ?? "",
    ...(secret.type ? { type: secret.type } : {}),
    data,
  };
}
