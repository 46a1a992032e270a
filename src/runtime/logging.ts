// pino JSON logs. Credential-like fields are redacted wherever they appear (up to three levels deep),
// as a safety net: code must still never log secrets on purpose.
import { type DestinationStream, type LevelWithSilent, type Logger, pino } from "pino";

export type { Logger } from "pino";

const SENSITIVE_FIELDS = [
  "authorization",
  "Authorization",
  "proxy-authorization",
  "cookie",
  "set-cookie",
  "password",
  "passwd",
  "passphrase",
  "token",
  "accessToken",
  "access_token",
  "refreshToken",
  "refresh_token",
  "bearerToken",
  "idToken",
  "id_token",
  "secret",
  "clientSecret",
  "client_secret",
  "apiKey",
  "api_key",
  "apikey",
  "x-api-key",
  "key",
  "privateKey",
  "private_key",
  "keyData",
  "client-key-data",
  "certData",
  "credentials",
  "stringData",
];

function fieldPath(prefix: string, field: string): string {
  const accessor = /^[A-Za-z_$][\w$]*$/.test(field) ? `.${field}` : `["${field}"]`;
  return prefix ? `${prefix}${accessor}` : accessor.startsWith(".") ? field : `${accessor}`;
}

/** The redaction paths (fast-redact syntax): each field at the top level and under 1–3 wildcards. */
export const REDACT_PATHS: string[] = SENSITIVE_FIELDS.flatMap((field) =>
  ["", "*", "*.*", "*.*.*"].map((prefix) => fieldPath(prefix, field)),
);

export interface LoggerOptions {
  /** trace|debug|info|warn|error|fatal|silent; default from VNF_LOG_LEVEL or LOG_LEVEL, else info. */
  level?: string;
  name?: string;
  /** Where to write (tests pass a stream to capture lines); default stdout. */
  destination?: DestinationStream;
}

const LEVELS = new Set(["trace", "debug", "info", "warn", "error", "fatal", "silent"]);

export function resolveLogLevel(
  flag: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): LevelWithSilent {
  const candidate = (flag ?? env.VNF_LOG_LEVEL ?? env.LOG_LEVEL ?? "info").toLowerCase();
  if (!LEVELS.has(candidate))
    throw new Error(`unknown log level "${candidate}" (use one of ${[...LEVELS].join(", ")})`);
  return candidate as LevelWithSilent;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const settings = {
    level: resolveLogLevel(options.level),
    ...(options.name ? { name: options.name } : {}),
    redact: { paths: REDACT_PATHS, censor: "[REDACTED]" },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  };
  return options.destination ? pino(settings, options.destination) : pino(settings);
}

/** A logger that writes nothing (default for runtime pieces used without one). */
export const silentLogger: Logger = pino({ level: "silent" });

const LEVEL_METHODS = new Set(["trace", "debug", "info", "warn", "error", "fatal"]);
const noop = (): void => {};

/**
 * `parent.child(bindings)`, made on first use: a pino child runs its bindings through the redaction
 * paths (about a millisecond each with ours), and most reconciles log nothing at the configured level.
 * A call at a disabled level returns before any child exists.
 */
export function lazyChild(parent: Logger, bindings: Record<string, unknown>): Logger {
  let child: Logger | undefined;
  return new Proxy(parent, {
    get(target, property) {
      if (
        child === undefined &&
        typeof property === "string" &&
        LEVEL_METHODS.has(property) &&
        !target.isLevelEnabled(property)
      ) {
        return noop;
      }
      child ??= target.child(bindings);
      const value: unknown = Reflect.get(child, property, child);
      return typeof value === "function" ? value.bind(child) : value;
    },
  });
}
