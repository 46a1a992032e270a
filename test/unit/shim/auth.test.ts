// The JWT verification policy: pinned algorithm, no none, no HS/RS confusion, exp/iat with skew, scopes.
import { generateKeyPairSync } from "node:crypto";
import { SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { authenticate, hasScope, type JwtPolicy, loadJwtKey, mintToken } from "../../../src/shim/auth.ts";

const NOW = new Date("2026-01-01T12:00:00Z");
const T = Math.floor(NOW.getTime() / 1000);
const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
const publicPem = rsa.publicKey.export({ type: "spki", format: "pem" }).toString();
const secret = "a-shared-secret-of-at-least-32-bytes!";

const rsPolicy: JwtPolicy = {
  algorithm: "RS256",
  key: loadJwtKey("RS256", publicPem),
  clockToleranceSec: 30,
};
const hsPolicy: JwtPolicy = { algorithm: "HS256", key: loadJwtKey("HS256", secret), clockToleranceSec: 30 };

interface Sign {
  alg?: string;
  key?: Parameters<SignJWT["sign"]>[0];
  claims?: Record<string, unknown>;
  iat?: number | null;
  exp?: number | null;
  sub?: string | null;
}

async function jwt(options: Sign = {}): Promise<string> {
  let builder = new SignJWT(options.claims ?? { scope: "vnf:rw" }).setProtectedHeader({
    alg: options.alg ?? "RS256",
  });
  if (options.sub !== null) builder = builder.setSubject(options.sub ?? "cloudstack-mgmt");
  if (options.iat !== null) builder = builder.setIssuedAt(options.iat ?? T);
  if (options.exp !== null) builder = builder.setExpirationTime(options.exp ?? T + 300);
  return builder.sign(options.key ?? rsa.privateKey);
}

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");

describe("authenticate (RS256 pinned)", () => {
  it("accepts a valid token and reads sub and scopes", async () => {
    const result = await authenticate(
      `Bearer ${await jwt({ claims: { scope: "vnf:r vnf:rw" } })}`,
      rsPolicy,
      NOW,
    );
    expect(result).toEqual({ ok: true, subject: "cloudstack-mgmt", scopes: new Set(["vnf:r", "vnf:rw"]) });
  });

  it.each<[string, () => Promise<string | undefined>, string]>([
    ["no header", async () => undefined, "missing"],
    ["not Bearer", async () => "Basic YWRtaW46cGFzcw==", "malformed"],
    ["garbage", async () => "Bearer abc.def", "malformed"],
    ["expired beyond the skew", async () => `Bearer ${await jwt({ iat: T - 600, exp: T - 31 })}`, "expired"],
    [
      "issued in the future beyond the skew",
      async () => `Bearer ${await jwt({ iat: T + 120, exp: T + 400 })}`,
      "claim_invalid",
    ],
    ["no exp", async () => `Bearer ${await jwt({ exp: null })}`, "claim_invalid"],
    ["no iat", async () => `Bearer ${await jwt({ iat: null })}`, "claim_invalid"],
    ["no sub", async () => `Bearer ${await jwt({ sub: null })}`, "claim_invalid"],
    [
      "another key",
      async () =>
        `Bearer ${await jwt({ key: generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey })}`,
      "bad_signature",
    ],
    [
      "HS256 signed with the RSA public key (confusion)",
      async () => `Bearer ${await jwt({ alg: "HS256", key: new TextEncoder().encode(publicPem) })}`,
      "algorithm_not_allowed",
    ],
    [
      "alg none",
      async () =>
        `Bearer ${b64({ alg: "none" })}.${b64({ sub: "x", scope: "vnf:rw", iat: T, exp: T + 60 })}.`,
      "algorithm_not_allowed",
    ],
  ])("refuses %s", async (_what, header, reason) => {
    const result = await authenticate(await header(), rsPolicy, NOW);
    expect(result.ok).toBe(false);
    expect(result.ok ? "" : result.reason).toBe(reason);
  });

  it("tolerates a small clock skew on exp and iat", async () => {
    expect((await authenticate(`Bearer ${await jwt({ iat: T - 400, exp: T - 20 })}`, rsPolicy, NOW)).ok).toBe(
      true,
    );
    expect((await authenticate(`Bearer ${await jwt({ iat: T + 20, exp: T + 300 })}`, rsPolicy, NOW)).ok).toBe(
      true,
    );
  });

  it("checks issuer, audience and token age when configured", async () => {
    const strict: JwtPolicy = {
      ...rsPolicy,
      issuer: "cloudstack",
      audience: "vnf-broker",
      maxTokenAgeSec: 60,
    };
    const good = await new SignJWT({ scope: "vnf:rw" })
      .setProtectedHeader({ alg: "RS256" })
      .setSubject("s")
      .setIssuer("cloudstack")
      .setAudience("vnf-broker")
      .setIssuedAt(T - 10)
      .setExpirationTime(T + 300)
      .sign(rsa.privateKey);
    expect((await authenticate(`Bearer ${good}`, strict, NOW)).ok).toBe(true);
    expect((await authenticate(`Bearer ${await jwt()}`, strict, NOW)).ok).toBe(false);
    const old = await jwt({ iat: T - 200 });
    expect((await authenticate(`Bearer ${old}`, { ...rsPolicy, maxTokenAgeSec: 60 }, NOW)).ok).toBe(false);
  });
});

describe("authenticate (HS256 pinned)", () => {
  const key = new TextEncoder().encode(secret);
  it("accepts HS256 with the secret and refuses RS256 and other secrets", async () => {
    expect((await authenticate(`Bearer ${await jwt({ alg: "HS256", key })}`, hsPolicy, NOW)).ok).toBe(true);
    const rs = await authenticate(`Bearer ${await jwt()}`, hsPolicy, NOW);
    expect(rs.ok ? "" : rs.reason).toBe("algorithm_not_allowed");
    const other = await authenticate(
      `Bearer ${await jwt({ alg: "HS256", key: new TextEncoder().encode("another-secret-of-at-least-32-bytes!!") })}`,
      hsPolicy,
      NOW,
    );
    expect(other.ok ? "" : other.reason).toBe("bad_signature");
  });
});

describe("authenticate (HS256): what an administrator can configure in CloudStack", () => {
  const key = new TextEncoder().encode(secret);
  it("accepts {sub, exp} without iat and without scope; the route's need decides then", async () => {
    const bare = await jwt({ alg: "HS256", key, claims: {}, iat: null });
    const result = await authenticate(`Bearer ${bare}`, hsPolicy, NOW);
    expect(result).toEqual({ ok: true, subject: "cloudstack-mgmt", scopes: undefined });
    expect(hasScope(undefined, "write")).toBe(true);
  });

  it("still checks a scope that is given, and still needs sub and exp", async () => {
    const reader = await authenticate(
      `Bearer ${await jwt({ alg: "HS256", key, claims: { scope: "vnf:r" }, iat: null })}`,
      hsPolicy,
      NOW,
    );
    expect(reader.ok && hasScope(reader.scopes, "write")).toBe(false);
    for (const missing of [{ sub: null }, { exp: null }] as const) {
      const result = await authenticate(
        `Bearer ${await jwt({ alg: "HS256", key, claims: {}, ...missing })}`,
        hsPolicy,
        NOW,
      );
      expect(result.ok ? "" : result.reason).toBe("claim_invalid");
    }
  });

  it("RS256 keeps iat and scope required (a token without scope has none)", async () => {
    const result = await authenticate(`Bearer ${await jwt({ claims: {} })}`, rsPolicy, NOW);
    expect(result.ok && hasScope(result.scopes, "read")).toBe(false);
  });
});

describe("mintToken (vnf-operator shim token)", () => {
  it("mints HS256 and RS256 tokens the matching policy accepts, with the lifetime asked", async () => {
    const hs = await mintToken({
      algorithm: "HS256",
      key: secret,
      subject: "cs",
      scope: "vnf:rw",
      lifetimeSec: 3600,
      now: NOW,
    });
    const verified = await authenticate(`Bearer ${hs}`, hsPolicy, NOW);
    expect(verified).toEqual({ ok: true, subject: "cs", scopes: new Set(["vnf:rw"]) });
    const payload = JSON.parse(Buffer.from(hs.split(".")[1] ?? "", "base64url").toString()) as {
      exp: number;
      iat: number;
    };
    expect(payload.exp - payload.iat).toBe(3600);
    expect((await authenticate(`Bearer ${hs}`, hsPolicy, new Date(NOW.getTime() + 3700_000))).ok).toBe(false);

    const privatePem = rsa.privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    const rs = await mintToken({
      algorithm: "RS256",
      key: privatePem,
      subject: "cs",
      scope: "vnf:r",
      lifetimeSec: 60,
      now: NOW,
    });
    expect(await authenticate(`Bearer ${rs}`, rsPolicy, NOW)).toEqual({
      ok: true,
      subject: "cs",
      scopes: new Set(["vnf:r"]),
    });
    expect((await authenticate(`Bearer ${rs}`, hsPolicy, NOW)).ok).toBe(false);
  });

  it("refuses what would make a useless token", async () => {
    const base = {
      algorithm: "HS256" as const,
      key: secret,
      subject: "cs",
      scope: "vnf:rw",
      lifetimeSec: 60,
    };
    await expect(mintToken({ ...base, key: "short" })).rejects.toThrow(/32 bytes/);
    await expect(mintToken({ ...base, subject: "" })).rejects.toThrow(/subject/);
    await expect(mintToken({ ...base, lifetimeSec: 0 })).rejects.toThrow(/lifetime/);
    await expect(mintToken({ ...base, algorithm: "RS256", scope: "" })).rejects.toThrow(/scope/);
  });
});

describe("loadJwtKey", () => {
  it("refuses short HS256 secrets and non-RSA keys for RS256", () => {
    expect(() => loadJwtKey("HS256", "short")).toThrow(/32 bytes/);
    const ec = generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey.export({
      type: "spki",
      format: "pem",
    });
    expect(() => loadJwtKey("RS256", ec)).toThrow(/RSA/);
  });
});

describe("hasScope", () => {
  it.each([
    [["vnf:rw"], "write", true],
    [["vnf:rw"], "read", true],
    [["vnf:r"], "read", true],
    [["vnf:r"], "write", false],
    [[], "read", false],
    [["vnf:admin"], "write", false],
  ] as const)("%j for %s → %s", (scopes, needed, allowed) => {
    expect(hasScope(new Set(scopes), needed)).toBe(allowed);
  });
});
