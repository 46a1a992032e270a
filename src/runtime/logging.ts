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
