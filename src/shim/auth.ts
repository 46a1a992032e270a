// JWT Bearer verification with jose. The algorithm is pinned by configuration (HS256 with a shared
// secret, or RS256 with a public key): a token naming any other algorithm, `none` included, is refused,
// and because the key type follows the pinned algorithm an RS256 public key can never be used as an
// HS256 secret. sub and exp are always required. RS256 tokens (what CloudStack's JwtTokenGenerator
// signs) also need iat and a scope; HS256 tokens are what an administrator can paste into CloudStack's
// settings ({sub, exp}, e.g. from `vnf-operator shim token`), so there iat is optional and a token
// without a scope claim gets the scope the route needs. A scope that is given is always checked.
import { createPrivateKey, createPublicKey, type KeyObject } from "node:crypto";
import { errors, jwtVerify, SignJWT } from "jose";

export type JwtAlgorithm = "HS256" | "RS256";

export interface JwtPolicy {
  algorithm: JwtAlgorithm;
  key: KeyObject | Uint8Array;
  /** Accepted clock skew in seconds (exp, iat, nbf). */
  clockToleranceSec: number;
  issuer?: string;
  audience?: string;
  /** Refuse tokens issued longer ago than this (seconds); unset: only exp limits them. */
  maxTokenAgeSec?: number;
}

export const SCOPE_READ = "vnf:r";
export const SCOPE_WRITE = "vnf:rw";

export type AuthResult =
  /** scopes undefined: the token has no scope claim and the policy lets the route decide (HS256). */
  | { ok: true; subject: string; scopes: Set<string> | undefined }
  | { ok: false; reason: string; message: string };

/** HS256: the secret's bytes (at least 32); RS256: a PEM public key or certificate. */
export function loadJwtKey(algorithm: JwtAlgorithm, material: string | Buffer): KeyObject | Uint8Array {
  if (algorithm === "HS256") {
    const bytes = typeof material === "string" ? Buffer.from(material.trim(), "utf8") : Buffer.from(material);
    const trimmed = typeof material === "string" ? bytes : Buffer.from(bytes.toString("utf8").trim(), "utf8");
    if (trimmed.length < 32) throw new Error("the HS256 secret must be at least 32 bytes");
    return new Uint8Array(trimmed);
  }
  const key = createPublicKey(material);
  if (key.asymmetricKeyType !== "rsa") throw new Error("the RS256 key must be an RSA public key");
  return key;
}

function scopesOf(payload: Record<string, unknown>, optional: boolean): Set<string> | undefined {
  const raw = payload.scope ?? payload.scp;
  if (raw === undefined && optional) return undefined;
  const list = Array.isArray(raw)
    ? raw.filter((s) => typeof s === "string")
    : typeof raw === "string"
      ? raw.split(/\s+/)
      : [];
  return new Set(list.filter(Boolean) as string[]);
}

/** Verifies an Authorization header value. `now` is for tests. */
export async function authenticate(
  header: string | undefined,
  policy: JwtPolicy,
  now: Date = new Date(),
): Promise<AuthResult> {
  if (!header) return { ok: false, reason: "missing", message: "a Bearer token is required" };
  const match = /^Bearer\s+([A-Za-z0-9_\-.=]+)\s*$/i.exec(header);
  if (!match?.[1])
    return { ok: false, reason: "malformed", message: "the Authorization header must be Bearer <JWT>" };
  try {
    const { payload } = await jwtVerify(match[1], policy.key, {
      algorithms: [policy.algorithm],
      clockTolerance: policy.clockToleranceSec,
      requiredClaims: policy.algorithm === "HS256" ? ["exp"] : ["exp", "iat"],
      currentDate: now,
      ...(policy.issuer ? { issuer: policy.issuer } : {}),
      ...(policy.audience ? { audience: policy.audience } : {}),
      ...(policy.maxTokenAgeSec ? { maxTokenAge: policy.maxTokenAgeSec } : {}),
    });
    const nowSec = Math.floor(now.getTime() / 1000);
    if (typeof payload.iat === "number" && payload.iat > nowSec + policy.clockToleranceSec)
      return { ok: false, reason: "claim_invalid", message: "the token's iat is in the future" };
    if (typeof payload.sub !== "string" || payload.sub === "")
      return { ok: false, reason: "claim_invalid", message: "the token has no sub claim" };
    return { ok: true, subject: payload.sub, scopes: scopesOf(payload, policy.algorithm === "HS256") };
  } catch (error) {
    return { ok: false, ...classify(error) };
  }
}

function classify(error: unknown): { reason: string; message: string } {
  if (error instanceof errors.JWTExpired) return { reason: "expired", message: "the token has expired" };
  if (error instanceof errors.JOSEAlgNotAllowed)
    return { reason: "algorithm_not_allowed", message: "the token's algorithm is not accepted" };
  if (error instanceof errors.JWSSignatureVerificationFailed)
    return { reason: "bad_signature", message: "the token's signature is invalid" };
  if (error instanceof errors.JWTClaimValidationFailed)
    return { reason: "claim_invalid", message: `the token's ${error.claim} claim is invalid` };
  return { reason: "malformed", message: "the token is malformed" };
}

/** Whether the scopes allow the request: vnf:rw for writes; vnf:r or vnf:rw for reads. */
export function hasScope(scopes: Set<string> | undefined, needed: "read" | "write"): boolean {
  if (scopes === undefined) return true;
  return scopes.has(SCOPE_WRITE) || (needed === "read" && scopes.has(SCOPE_READ));
}

export interface MintOptions {
  algorithm: JwtAlgorithm;
  /** HS256: the shared secret (at least 32 bytes); RS256: a PEM private key. */
  key: string | Buffer;
  subject: string;
  /** Space-separated, e.g. "vnf:rw"; empty: no scope claim (HS256 only). */
  scope: string;
  lifetimeSec: number;
  issuer?: string;
  audience?: string;
  now?: Date;
}

/** A token the shim accepts under the same algorithm and key (`vnf-operator shim token`). */
export async function mintToken(options: MintOptions): Promise<string> {
  if (options.subject === "") throw new Error("the subject must not be empty");
  if (!(options.lifetimeSec > 0)) throw new Error("the lifetime must be positive");
  if (options.algorithm === "RS256" && options.scope === "")
    throw new Error("RS256 tokens need a scope (vnf:rw or vnf:r)");
  const key =
    options.algorithm === "HS256" ? loadJwtKey("HS256", options.key) : createPrivateKey(options.key);
  if (options.algorithm === "RS256" && (key as KeyObject).asymmetricKeyType !== "rsa")
    throw new Error("the RS256 key must be an RSA private key");
  const now = Math.floor((options.now ?? new Date()).getTime() / 1000);
  let jwt = new SignJWT(options.scope ? { scope: options.scope } : {})
    .setProtectedHeader({ alg: options.algorithm, typ: "JWT" })
    .setSubject(options.subject)
    .setIssuedAt(now)
    .setExpirationTime(now + Math.round(options.lifetimeSec));
  if (options.issuer) jwt = jwt.setIssuer(options.issuer);
  if (options.audience) jwt = jwt.setAudience(options.audience);
  return jwt.sign(key);
}
