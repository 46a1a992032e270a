// The shared simulator framework, exercised over real HTTPS for every vendor: TLS, credentials, every
// fault kind, the request log and its redaction, the control API in-process and over HTTP, down/up on
// the same port. Vendor-specific behaviour is pinned in simulators-<vendor>.test.ts.
import { Agent, fetch } from "undici";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  basicAuth,
  type RawClient,
  type RawRequestInit,
  type RawResponse,
  rawClient,
} from "../simulators/common/client.ts";
import {
  connectSimulatorControl,
  type SimulatorHandle,
  type SimulatorVendor,
  startSimulator,
} from "../simulators/index.ts";
import { createCertificateAuthority } from "../support/pki.ts";

interface VendorCase {
  vendor: SimulatorVendor;
  credentialKeys: string[];
  /** An authenticated GET that succeeds on a fresh simulator. */
  readPath: string;
  auth(handle: SimulatorHandle): Record<string, string>;
  /**
   * How the read carries the fields `auth` returns, when not as headers of a plain GET (a query the
   * API needs, VyOS's key inside a POST form). The fault-matching test uses another method.
   */
  read?(fields: Record<string, string>): { method: string; init: RawRequestInit };
  /** Asserts the vendor's own error shape for `status`. */
  expectErrorShape(response: RawResponse, status: number): void;
  throttleStatus: number;
  expectUnauthorized(response: RawResponse): void;
}

const cases: VendorCase[] = [
  {
    vendor: "pfsense",
    credentialKeys: ["password", "username"],
    readPath: "/api/v2/firewall/rules",
    auth: (h) => ({ authorization: basicAuth(h.credentials.username ?? "", h.credentials.password ?? "") }),
    expectErrorShape(response, status) {
      const body = response.json<Record<string, unknown>>();
      expect(body).toMatchObject({ code: status, data: [] });
      expect(typeof body.status).toBe("string");
      expect(body.response_id).toMatch(/^[A-Z0-9_]+$/);
    },
    throttleStatus: 503,
    expectUnauthorized(response) {
      expect(response.status).toBe(401);
      expect(response.json()).toMatchObject({
        code: 401,
        status: "unauthorized",
        response_id: "AUTH_AUTHENTICATION_FAILED",
      });
    },
  },
  {
    vendor: "fortios",
    credentialKeys: ["token"],
    readPath: "/api/v2/cmdb/firewall/policy",
    auth: (h) => ({ authorization: `Bearer ${h.credentials.token}` }),
    expectErrorShape(response, status) {
      expect(response.json()).toMatchObject({
        status: "error",
        http_status: status,
        serial: expect.any(String),
      });
    },
    throttleStatus: 429,
    expectUnauthorized(response) {
      expect(response.status).toBe(401);
      expect(response.text).toContain("401 Authorization Required");
    },
  },
  {
    vendor: "panos",
    credentialKeys: ["password", "username"],
    readPath: "/api/",
    // The XML API also takes Basic credentials (not for keygen); the key path is pinned elsewhere.
    auth: (h) => ({ authorization: basicAuth(h.credentials.username ?? "", h.credentials.password ?? "") }),
    read: (fields) => ({
      method: "GET",
      init: { headers: fields, query: { type: "op", cmd: "<show><system><info></info></system></show>" } },
    }),
    expectErrorShape(response, status) {
      expect(response.status).toBe(status);
      expect(response.headers.get("content-type")).toContain("xml");
      expect(response.text).toMatch(/^<response status="error"/);
    },
    throttleStatus: 429,
    expectUnauthorized(response) {
      expect(response.status).toBe(403);
      expect(response.text).toBe(
        '<response status="error" code="403"><result><msg>Invalid credentials.</msg></result></response>',
      );
    },
  },
  {
    vendor: "vyos",
    credentialKeys: ["key"],
    readPath: "/retrieve",
    auth: (h) => ({ key: h.credentials.key ?? "" }),
    read: (fields) => ({
      method: "POST",
      init: {
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({
          data: JSON.stringify({ op: "showConfig", path: ["system"] }),
          ...fields,
        }).toString(),
      },
    }),
    expectErrorShape(response, status) {
      expect(response.status).toBe(status);
      expect(response.json()).toMatchObject({ success: false, error: expect.any(String), data: null });
    },
    throttleStatus: 429,
    expectUnauthorized(response) {
      expect(response.status).toBe(401);
      expect(response.json()).toEqual({ success: false, error: "Valid API key is required", data: null });
    },
  },
  {
    vendor: "opnsense",
    credentialKeys: ["key", "secret"],
    readPath: "/api/firewall/filter/searchRule",
    auth: (h) => ({ authorization: basicAuth(h.credentials.key ?? "", h.credentials.secret ?? "") }),
    expectErrorShape(response, status) {
      expect(response.json()).toMatchObject({ status, message: expect.any(String) });
    },
    throttleStatus: 429,
    expectUnauthorized(response) {
      expect(response.status).toBe(401);
      expect(response.json()).toEqual({ status: 401, message: "Authentication Failed" });
    },
  },
];

describe.each(cases)("simulator framework: $vendor", (vc) => {
  let sim: SimulatorHandle;
  let client: RawClient;
  const readMethod = () => vc.read?.({}).method ?? "GET";
  const get = (path = vc.readPath, fields: Record<string, string> = vc.auth(sim)) => {
    const { method, init } = vc.read?.(fields) ?? { method: "GET", init: { headers: fields } };
    return client.request(method, path, init);
  };

  beforeAll(async () => {
    sim = await startSimulator(vc.vendor);
    client = rawClient(sim);
  });
  afterAll(async () => {
    await client.close();
    await sim.stop();
  });
  afterEach(async () => {
    await sim.control.up();
    await sim.control.reset();
  });

  it("serves HTTPS on loopback with a certificate from its own CA, and the Secret's credential keys", async () => {
    expect(sim.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(sim.caPem).toContain("BEGIN CERTIFICATE");
    expect(Object.keys(sim.credentials).sort()).toEqual(vc.credentialKeys);
    expect((await get()).status).toBe(200);
    // Without the CA the certificate is not trusted.
    await expect(fetch(`${sim.url}${vc.readPath}`, { dispatcher: new Agent() })).rejects.toThrow();
  });

  it("refuses missing or wrong credentials with the vendor's 401", async () => {
    vc.expectUnauthorized(await get(vc.readPath, {}));
    const wrong = Object.fromEntries(Object.keys(sim.credentials).map((key) => [key, "wrong-secret"]));
    vc.expectUnauthorized(await get(vc.readPath, vc.auth({ ...sim, credentials: wrong })));
  });

  it("rotates credentials: the old ones stop working, the new ones work", async () => {
    const oldHeaders = vc.auth(sim);
    const rotated = Object.fromEntries(
      Object.keys(sim.credentials).map((key) => [key, `rotated-${key}-value`]),
    );
    await sim.control.setCredentials(rotated);
    expect(sim.credentials).toEqual(rotated);
    vc.expectUnauthorized(await get(vc.readPath, oldHeaders));
    expect((await get()).status).toBe(200);
  });

  it("injects a status fault in the vendor's error shape, for `times` matching requests only", async () => {
    await sim.control.injectFault({ kind: "status", status: 500, times: 2 });
    for (let i = 0; i < 2; i += 1) {
      const response = await get();
      expect(response.status).toBe(500);
      vc.expectErrorShape(response, 500);
    }
    expect((await get()).status).toBe(200);
    expect(await sim.control.faults()).toEqual([]);
  });

  it("injects a status fault with a custom body and headers", async () => {
    await sim.control.injectFault({
      kind: "status",
      status: 502,
      body: "upstream down",
      headers: { "x-sim": "1" },
      times: 1,
    });
    const response = await get();
    expect(response.status).toBe(502);
    expect(response.text).toBe("upstream down");
    expect(response.headers.get("x-sim")).toBe("1");
  });

  it("throttles in the vendor's own way with Retry-After", async () => {
    await sim.control.injectFault({ kind: "rateLimit", retryAfterSeconds: 7, times: 1 });
    const response = await get();
    expect(response.status).toBe(vc.throttleStatus);
    expect(response.headers.get("retry-after")).toBe("7");
    vc.expectErrorShape(response, vc.throttleStatus);
    await sim.control.injectFault({ kind: "rateLimit", status: 429, times: 1 });
    const overridden = await get();
    expect(overridden.status).toBe(429);
    expect(overridden.headers.get("retry-after")).toBe("1");
  });

  it("adds latency, then answers normally", async () => {
    await sim.control.injectFault({ kind: "latency", ms: 150, times: 1 });
    const started = performance.now();
    const response = await get();
    expect(response.status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
    const [entry] = await sim.control.requests();
    expect(entry?.fault).toBe("latency");
  });

  it("holds a timed-out request open until the client gives up", async () => {
    await sim.control.injectFault({ kind: "timeout", times: 1 });
    await expect(
      client.request("GET", vc.readPath, { headers: vc.auth(sim), signal: AbortSignal.timeout(200) }),
    ).rejects.toThrow();
    await expect.poll(async () => (await sim.control.requests())[0]?.outcome).toBe("timeout");
    const [entry] = await sim.control.requests();
    expect(entry).toMatchObject({ status: null, fault: "timeout" });
    expect((await get()).status).toBe(200);
  });

  it("answers garbage: 200 with a body that is not JSON", async () => {
    await sim.control.injectFault({ kind: "garbage", times: 1 });
    const response = await get();
    expect(response.status).toBe(200);
    expect(() => response.json()).toThrow();
  });

  it("resets the connection without an answer", async () => {
    await sim.control.injectFault({ kind: "reset", times: 1 });
    await expect(get()).rejects.toThrow();
    const [entry] = await sim.control.requests();
    expect(entry).toMatchObject({ outcome: "reset", status: null, fault: "reset" });
    expect((await get()).status).toBe(200);
  });

  it("expires authentication: the matched request gets the vendor's 401", async () => {
    await sim.control.injectFault({ kind: "authExpire", times: 1 });
    vc.expectUnauthorized(await get());
  });

  it("matches faults by method and path prefix", async () => {
    const otherMethod = readMethod() === "POST" ? "PUT" : "POST";
    await sim.control.injectFault({ kind: "status", status: 503, method: otherMethod });
    await sim.control.injectFault({ kind: "status", status: 504, pathPrefix: "/api/v2/nowhere" });
    expect((await get()).status).toBe(200);
    expect((await client.request("GET", "/api/v2/nowhere/x", { headers: vc.auth(sim) })).status).toBe(504);
    expect((await client.request(otherMethod, vc.readPath, { headers: vc.auth(sim), body: {} })).status).toBe(
      503,
    );
    const faults = await sim.control.faults();
    expect(faults.map((f) => [f.fault.kind, f.remaining, f.hits])).toEqual([
      ["status", null, 1],
      ["status", null, 1],
    ]);
    await sim.control.clearFaults();
    expect(await sim.control.faults()).toEqual([]);
  });

  it("matches faults by the User-Agent a client sends (one client among several)", async () => {
    await sim.control.injectFault({ kind: "status", status: 503, userAgent: "Replica-B", times: 1 });
    const as = (agent: string) => {
      const { method, init } = vc.read?.(vc.auth(sim)) ?? { method: "GET", init: { headers: vc.auth(sim) } };
      return client.request(method, vc.readPath, {
        ...init,
        headers: { ...(init.headers as Record<string, string>), "user-agent": agent },
      });
    };
    expect((await as("vnf-operator (replica-a)")).status).toBe(200);
    expect((await as("vnf-operator (replica-b)")).status).toBe(503);
    expect((await as("vnf-operator (replica-b)")).status).toBe(200);
  });

  it("logs every vendor request with credentials redacted, and never the control calls", async () => {
    await client.request("POST", `${vc.readPath}?probe=1&access_token=leak-me`, {
      headers: { ...vc.auth(sim), "x-api-key": "also-secret" },
      body: { note: `carries ${secretOf(sim)}` },
    });
    await sim.control.objects("firewallRule");
    const log = await sim.control.requests();
    expect(log).toHaveLength(1);
    const [entry] = log;
    expect(entry).toMatchObject({ seq: 1, method: "POST", path: vc.readPath, outcome: "answered" });
    expect(entry?.query).toEqual({ probe: "1", access_token: "[REDACTED]" });
    for (const name of Object.keys(vc.auth(sim))) {
      expect(entry?.headers[name.toLowerCase()]).toMatch(/^((Basic|Bearer) )?\[REDACTED\]$/);
    }
    expect(entry?.headers["x-api-key"]).toBe("[REDACTED]");
    expect(entry?.body).toContain("carries [REDACTED]");
    expect(typeof entry?.status).toBe("number");
    expect(JSON.stringify(log)).not.toContain(secretOf(sim));
    expect(await sim.control.requests({ method: "GET" })).toEqual([]);
    expect(await sim.control.requests({ pathPrefix: vc.readPath })).toHaveLength(1);
    await sim.control.clearRequests();
    expect(await sim.control.requests()).toEqual([]);
  });

  it("goes down (connections refused) and comes back up on the same port", async () => {
    const url = sim.url;
    await sim.control.down();
    await expect(get()).rejects.toThrow();
    await sim.control.up();
    expect(sim.url).toBe(url);
    expect((await get()).status).toBe(200);
  });

  it("exposes the same control API over HTTP under /__sim/", async () => {
    const remote = connectSimulatorControl(sim.url, { caPem: sim.caPem });
    expect(await remote.kinds()).toEqual(expect.arrayContaining(["firewallRule", "natRule"]));
    await remote.injectFault({ kind: "status", status: 500, times: 1 });
    expect((await get()).status).toBe(500);
    const log = await remote.requests();
    expect(log[0]?.status).toBe(500);
    expect(await remote.stats()).toMatchObject({ requests: 1 });
    await remote.clearRequests();
    expect(await sim.control.requests()).toEqual([]);
    // Down over HTTP comes back by itself after forMs.
    await remote.down({ forMs: 300 });
    await expect
      .poll(async () => (await get().catch(() => ({ status: 0 }))).status, { timeout: 5000 })
      .toBe(200);
    await expect(remote.objects("noSuchKind")).rejects.toThrow(/no object kind/);
  });

  it("counts requests and the most in flight at once", async () => {
    await sim.control.injectFault({ kind: "latency", ms: 250, times: 3 });
    await Promise.all([get(), get(), get()]);
    const stats = await sim.control.stats();
    expect(stats.requests).toBe(3);
    expect(stats.inFlight).toBe(0);
    expect(stats.maxInFlight).toBe(3);
  });

  it("reset() restores the initial state", async () => {
    const before = await sim.control.objects("firewallRule");
    await sim.control.putObject("firewallRule", unmanagedRule(vc.vendor));
    await sim.control.injectFault({ kind: "status", status: 500 });
    await sim.control.reset();
    expect(await sim.control.faults()).toEqual([]);
    expect(await sim.control.requests()).toEqual([]);
    expect((await sim.control.objects("firewallRule")).candidate).toEqual(before.candidate);
    expect((await sim.control.stats()).requests).toBe(0);
  });
});

/** The secret half of the credentials (a user name is not one). */
function secretOf(sim: SimulatorHandle): string {
  const { password, token, secret, key } = sim.credentials;
  return password ?? token ?? secret ?? key ?? "";
}

function unmanagedRule(vendor: SimulatorVendor): Record<string, unknown> {
  const rules: Record<SimulatorVendor, Record<string, unknown>> = {
    pfsense: {
      type: "block",
      interface: ["wan"],
      ipprotocol: "inet",
      source: "any",
      destination: "any",
      descr: "by hand",
    },
    fortios: {
      name: "by-hand",
      srcintf: ["port1"],
      dstintf: ["port2"],
      srcaddr: ["all"],
      dstaddr: ["all"],
      service: ["ALL"],
    },
    panos: { "@name": "by-hand", from: ["trust"], to: ["untrust"], action: "deny" },
    vyos: { path: "firewall ipv4 name WAN_IN rule 999", action: "drop" },
    opnsense: { action: "block", interface: "wan", description: "by hand" },
  };
  return rules[vendor];
}

describe("simulator framework: options", () => {
  it("serves plain HTTP with tls: false", async () => {
    const sim = await startSimulator("fortios", { tls: false });
    try {
      expect(sim.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(sim.caPem).toBe("");
      const response = await fetch(`${sim.url}/api/v2/monitor/system/status`, {
        headers: { authorization: `Bearer ${sim.credentials.token}` },
      });
      expect(response.status).toBe(200);
    } finally {
      await sim.stop();
    }
  });

  it("shares one CA between simulators and accepts fixed credentials and port", async () => {
    const ca = await createCertificateAuthority("shared test CA");
    const first = await startSimulator("pfsense", {
      ca,
      credentials: { username: "ops", password: "s3cret-pass" },
    });
    const port = Number(new URL(first.url).port);
    await first.stop();
    const second = await startSimulator("fortios", {
      ca,
      port,
      credentials: { token: "fixed-token-0123456789abcdefgh" },
    });
    const third = await startSimulator("pfsense", {
      ca,
      credentials: { username: "ops", password: "s3cret-pass" },
    });
    try {
      expect(second.url).toBe(`https://127.0.0.1:${port}`);
      expect(second.caPem).toBe(ca.certPem);
      expect(third.caPem).toBe(ca.certPem);
      const dispatcher = new Agent({ connect: { ca: ca.certPem } });
      const fo = await fetch(`${second.url}/api/v2/cmdb/firewall/vip`, {
        dispatcher,
        headers: { authorization: "Bearer fixed-token-0123456789abcdefgh" },
      });
      const pf = await fetch(`${third.url}/api/v2/firewall/rules`, {
        dispatcher,
        headers: { authorization: basicAuth("ops", "s3cret-pass") },
      });
      expect([fo.status, pf.status]).toEqual([200, 200]);
      await dispatcher.close();
    } finally {
      await second.stop();
      await third.stop();
    }
  });

  it("adds latencyMs before every vendor answer", async () => {
    const sim = await startSimulator("fortios", { latencyMs: 120 });
    const client = rawClient(sim);
    try {
      const started = performance.now();
      const response = await client.request("GET", "/api/v2/cmdb/firewall/policy", {
        headers: { authorization: `Bearer ${sim.credentials.token}` },
      });
      expect(response.status).toBe(200);
      expect(performance.now() - started).toBeGreaterThanOrEqual(110);
    } finally {
      await client.close();
      await sim.stop();
    }
  });

  it("lostAnswer: the write takes effect, its answer never comes (held open, or reset)", async () => {
    const sim = await startSimulator("pfsense", { writeLatencyMs: 0 });
    const client = rawClient(sim);
    const headers = {
      authorization: basicAuth(sim.credentials.username ?? "", sim.credentials.password ?? ""),
    };
    const body = (descr: string) => ({
      type: "pass",
      interface: ["wan"],
      ipprotocol: "inet",
      protocol: "tcp",
      source: "any",
      destination: "10.0.0.10",
      destination_port: "443",
      descr,
    });
    try {
      await sim.control.injectFault({ kind: "lostAnswer", method: "POST", times: 1 });
      await expect(
        client.request("POST", "/api/v2/firewall/rule", {
          headers,
          body: body("held"),
          signal: AbortSignal.timeout(300),
        }),
      ).rejects.toThrow();
      await sim.control.injectFault({ kind: "lostAnswer", reset: true, method: "POST", times: 1 });
      await expect(
        client.request("POST", "/api/v2/firewall/rule", { headers, body: body("reset") }),
      ).rejects.toThrow();
      const descriptions = (await sim.control.objects("firewallRule")).candidate.map((o) => o.descr);
      expect(descriptions).toEqual(expect.arrayContaining(["held", "reset"]));
      await expect
        .poll(async () => (await sim.control.requests({ method: "POST" })).map((r) => r.outcome))
        .toEqual(["timeout", "reset"]);
      expect((await sim.control.requests({ method: "POST" })).map((r) => r.fault)).toEqual([
        "lostAnswer",
        "lostAnswer",
      ]);
    } finally {
      await client.close();
      await sim.stop();
    }
  });

  it("refuses to come back up after stop()", async () => {
    const sim = await startSimulator("pfsense");
    await sim.stop();
    await expect(sim.control.up()).rejects.toThrow(/stopped/);
  });
});
