// The endpoint policy on real connections (loopback only): a canary on 127.0.0.2, which the policy
// refuses, in every spelling an attacker would try, behind a DNS name and behind a redirect from an
// allowed address. Each forbidden target is refused before any byte reaches it (no TCP connection at
// all), with a non-retryable BROKER_INVALID_REQUEST whose reason is EndpointNotAllowed; the
// allow-list opens it, and then the canary sees the credentials (so the test can see a leak).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { EndpointPolicy } from "../../src/appliance/endpoint-policy.ts";
import type { EndpointGuard } from "../../src/appliance/guarded-connect.ts";
import { HttpClient } from "../../src/appliance/http.ts";
import { ApplianceSession } from "../../src/appliance/session.ts";
import type { CompiledDictionary } from "../../src/dictionary/compiled.ts";
import { VnfError } from "../../src/dictionary/errors.ts";
import { loadDictionaryFile } from "../../src/dictionary/loader.ts";
import {
  CANARY_NAME,
  CANARY_TEXT,
  type Canary,
  canaryLookup,
  startCanary,
  startRedirector,
} from "../support/canary.ts";

const credentials = { username: "admin", password: "canary-password-91f2" };
let dictionary: CompiledDictionary;
let canary: Canary;
let redirector: Canary;

beforeAll(async () => {
  dictionary = await loadDictionaryFile("dictionaries/pfsense-2.7-restapi-v2.yaml");
  canary = await startCanary();
  redirector = await startRedirector(canary.url);
});
afterAll(async () => {
  await canary?.stop();
  await redirector?.stop();
});
beforeEach(() => {
  canary.reset();
  redirector.reset();
});

const guard = (allowCidrs: string[] = ["127.0.0.1/32"]): EndpointGuard => ({
  policy: new EndpointPolicy({ allowCidrs }),
  lookup: canaryLookup as EndpointGuard["lookup"] & object,
});

async function health(
  endpoint: string,
  endpointGuard: EndpointGuard,
  caPem = canary.caPem,
): Promise<unknown> {
  const session = new ApplianceSession({
    dictionary,
    endpoint,
    credentials,
    tls: { caPem },
    endpointGuard,
    transportRetry: { attempts: 1 },
  });
  try {
    return await session.health();
  } catch (error) {
    return error;
  } finally {
    await session.close();
  }
}

describe("forbidden targets are refused before anything is sent", () => {
  const port = () => canary.port;
  it.each<[string, () => string]>([
    ["the address", () => `https://127.0.0.2:${port()}`],
    ["the address as a number", () => `https://2130706434:${port()}`],
    ["the address in hex", () => `https://0x7f000002:${port()}`],
    ["the address in octal", () => `https://0177.0.0.2:${port()}`],
    ["IPv4-mapped IPv6", () => `https://[::ffff:127.0.0.2]:${port()}`],
    ["IPv4-mapped IPv6 in hex", () => `https://[::ffff:7f00:2]:${port()}`],
    ["a DNS name resolving to it", () => `https://${CANARY_NAME}:${port()}`],
  ])("%s", async (_what, endpoint) => {
    const error = await health(endpoint(), guard());
    expect(error).toBeInstanceOf(VnfError);
    const vnf = error as VnfError;
    expect(vnf.code).toBe("BROKER_INVALID_REQUEST");
    expect(vnf.retryable).toBe(false);
    expect(vnf.reason).toBe("EndpointNotAllowed");
    expect(vnf.message).toMatch(/127\.0\.0\.2.* is a loopback address.*--endpoint-allow-cidrs/);
    expect(canary.connections()).toBe(0);
    expect(canary.requests()).toEqual([]);
  });

  it("a redirect from an allowed address is not followed", async () => {
    const error = await health(redirector.url, guard(), redirector.caPem);
    expect(error).toBeInstanceOf(VnfError);
    expect((error as VnfError).message).toMatch(/HTTP 302 \(a redirect: the operator never follows one\)/);
    expect(redirector.requests().length).toBeGreaterThan(0);
    expect(canary.connections()).toBe(0);
  });

  it("an explicit deny wins over the allow-list", async () => {
    const denied: EndpointGuard = {
      policy: new EndpointPolicy({ allowCidrs: ["127.0.0.0/8"], denyCidrs: ["127.0.0.2/32"] }),
    };
    const error = (await health(canary.url, denied)) as VnfError;
    expect(error.reason).toBe("EndpointNotAllowed");
    expect(error.message).toMatch(/denied range \(127\.0\.0\.2\/32\).*--endpoint-deny-cidrs/);
    expect(canary.connections()).toBe(0);
  });
});

describe("the allow-list opens it", () => {
  it.each<[string, () => string]>([
    ["by address", () => canary.url],
    ["by name", () => `https://${CANARY_NAME}:${canary.port}`],
  ])(
    "%s: the canary then receives the credentials, and its answer stays out of the error",
    async (_w, endpoint) => {
      const error = (await health(endpoint(), guard(["127.0.0.1/32", "127.0.0.2/32"]))) as VnfError;
      const login = canary.requests()[0];
      expect(login?.headers.authorization).toBe(
        `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString("base64")}`,
      );
      // The canary answers text where the dictionary expects JSON: an error without the canary's words.
      expect(error).toBeInstanceOf(VnfError);
      expect(error.message).not.toContain(CANARY_TEXT);
      expect(JSON.stringify(error.toJSON())).not.toContain(CANARY_TEXT);
    },
  );
});

describe("a request path cannot leave the device's endpoint", () => {
  // The loader refuses such a path (test/unit/dictionary/loader.test.ts); this is the HTTP client's own
  // check, for a request that got past it. Both addresses are allowed here, so only that check stands
  // between the credentials and the canary.
  it('refuses "@host/x", which would make the endpoint a user name of another host, and sends nothing', async () => {
    const client = new HttpClient({
      endpoint: `https://127.0.0.1:${redirector.port}`,
      tls: { caPem: canary.caPem },
      connections: 1,
      connectTimeoutMs: 2_000,
      headersTimeoutMs: 2_000,
      bodyTimeoutMs: 2_000,
      guard: guard(["127.0.0.1/32", "127.0.0.2/32"]),
    });
    try {
      const error = await client
        .send({
          method: "GET",
          path: `@127.0.0.2:${canary.port}/x`,
          query: [],
          headers: { authorization: "Basic Y2FuYXJ5OmxlYWs=" },
          secret: { headers: ["authorization"], query: [], form: [] },
          label: "health",
          responseFormat: "json",
        })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(error).toBeInstanceOf(VnfError);
      expect((error as VnfError).code).toBe("BROKER_INVALID_REQUEST");
      expect((error as VnfError).message).toMatch(/must start with "\/"/);
      expect(canary.connections()).toBe(0);
      expect(redirector.requests()).toEqual([]);
    } finally {
      await client.close();
    }
  });
});
