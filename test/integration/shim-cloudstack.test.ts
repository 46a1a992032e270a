// The CloudStack shim end to end: real API server, the operator in-process, the pfSense simulator, and
// the shim over HTTPS with mTLS, driven exactly as the two CloudStack-side VnfBrokerClient classes call
// a broker (paths, bodies, headers), with RS256 bearer tokens as CloudStack's JwtTokenGenerator makes.
import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { SignJWT } from "jose";
import { Agent, request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../src/runtime/logging.ts";
import { ANNOTATION_OP_HASH, LABEL_VNF_INSTANCE, ruleResourceName } from "../../src/shim/names.ts";
import { createShimServer, type ShimServer } from "../../src/shim/server.ts";
import { waitUntil } from "../support/kube.ts";
import {
  type KubeObj,
  markerToken,
  type OperatorEnv,
  startOperatorEnv,
  statusOf,
} from "../support/operator-env.ts";
import { createCertificateAuthority } from "../support/pki.ts";

const INSTANCE = "4242";
let env: OperatorEnv;
let shim: ShimServer;
let limitedShim: ShimServer;
let base: string;
let limitedBase: string;
let agent: Agent;
let signingKey: KeyObject;
let otherKey: KeyObject;
let publicPem: string;
const issuedTokens: string[] = [];
const logLines: string[] = [];

beforeAll(async () => {
  env = await startOperatorEnv({ vendor: "pfsense", prefix: "shim" });
  const label = await env.kubectl(["label", "vnfdev", env.deviceName, `${LABEL_VNF_INSTANCE}=${INSTANCE}`]);
  expect(label.code, label.stderr).toBe(0);
  await env.waitReady("vnfdevices", env.deviceName);

  const pair = generateKeyPairSync("rsa", { modulusLength: 2048 });
  signingKey = pair.privateKey;
  publicPem = pair.publicKey.export({ type: "spki", format: "pem" }).toString();
  otherKey = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;

  const ca = await createCertificateAuthority("shim test CA");
  const server = await ca.issue({ commonName: "shim", ips: ["127.0.0.1"], usage: "server" });
  const client = await ca.issue({ commonName: "cloudstack-mgmt", usage: "client" });
  const common = {
    kubeConfig: env.kc,
    namespaces: [env.namespace],
    jwt: { algorithm: "RS256" as const, key: pair.publicKey, clockToleranceSec: 30 },
    tls: { cert: server.certPem, key: server.keyPem, clientCa: ca.certPem },
    waitTimeoutMs: 25_000,
    pollIntervalMs: 100,
    logger: createLogger({
      level: "info",
      destination: { write: (line: string) => void logLines.push(line) },
    }),
  };
  shim = createShimServer(common);
  base = `https://127.0.0.1:${(await shim.listen(0, "127.0.0.1")).port}`;
  limitedShim = createShimServer({ ...common, rateLimit: { max: 5, windowMs: 60_000 } });
  limitedBase = `https://127.0.0.1:${(await limitedShim.listen(0, "127.0.0.1")).port}`;
  agent = new Agent({ connect: { ca: ca.certPem, cert: client.certPem, key: client.keyPem } });
});

afterAll(async () => {
  await shim?.close();
  await limitedShim?.close();
  await agent?.close();
  await env?.stop();
});

// ---- helpers --------------------------------------------------------------------------------------

async function token(
  claims: Record<string, unknown> = { scope: "vnf:rw", issuer: "cloudstack" },
  options: { key?: KeyObject | Uint8Array; alg?: string; iat?: number; exp?: number; sub?: string } = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const jwt = await new SignJWT(claims)
    .setProtectedHeader({ alg: options.alg ?? "RS256", typ: "JWT" })
    .setSubject(options.sub ?? "cloudstack-mgmt")
    .setIssuedAt(options.iat ?? now)
    .setExpirationTime(options.exp ?? now + 300)
    .sign(options.key ?? signingKey);
  issuedTokens.push(jwt);
  return jwt;
}

interface Answer {
  status: number;
  body: Record<string, unknown>;
  headers: Record<string, string | string[] | undefined>;
}

async function call(
  method: "GET" | "POST" | "PUT" | "DELETE",
  path: string,
  options: {
    body?: unknown;
    raw?: string;
    bearer?: string | null;
    headers?: Record<string, string>;
    at?: string;
  } = {},
): Promise<Answer> {
  const bearer = options.bearer === undefined ? await token() : options.bearer;
  const response = await request(`${options.at ?? base}${path}`, {
    method,
    dispatcher: agent,
    headers: {
      "content-type": "application/json",
      accept: "application/json",
      "x-correlation-id": "corr-1",
      ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
      ...(options.headers ?? {}),
    },
    ...(options.raw !== undefined
      ? { body: options.raw }
      : options.body !== undefined
        ? { body: JSON.stringify(options.body) }
        : {}),
  });
  const text = await response.body.text();
  let body: Record<string, unknown> = {};
  try {
    body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    body = { text };
  }
  return { status: response.statusCode, body, headers: response.headers };
}

async function applianceRules(): Promise<Array<Record<string, unknown>>> {
  return (await env.sim.control.objects("firewallRule")).running as Array<Record<string, unknown>>;
}

async function ruleObject(kind: "firewall" | "nat", ruleId: string): Promise<KubeObj | undefined> {
  return env.find(kind === "firewall" ? "vnffirewallrules" : "vnfnatrules", ruleResourceName(kind, ruleId));
}

// ---- tests ----------------------------------------------------------------------------------------

describe("CloudStack shim on pfSense", () => {
  it("answers /health without a token while the API server is reachable", async () => {
    const health = await call("GET", "/health", { bearer: null });
    expect(health.status).toBe(200);
    expect(health.body.status).toBe("healthy");
  });

  describe("J/client/VnfBrokerClient (network element): POST /firewall/rules", () => {
    const ruleId = "6f1c2b8e-0d3a-4c55-9e0b-1a2b3c4d5e6f";
    const wire = {
      ruleId,
      action: "allow",
      protocol: "tcp",
      sourceAddressing: "any",
      destinationAddressing: "10.0.10.10",
      sourcePorts: "any",
      destinationPorts: "443",
      description: "cloudstack https",
    };
    let vendorRef = "";

    it("creates the CR, the appliance rule, and answers with the vendorRef", async () => {
      const answer = await call("POST", `/vnf/${INSTANCE}/firewall/rules`, {
        body: wire,
        headers: { "X-VNF-Operation": "create_firewall_rule" },
      });
      expect(answer.status, JSON.stringify(answer.body)).toBe(201);
      expect(answer.body).toMatchObject({ success: true, ruleId, errorCode: null, state: "Completed" });
      vendorRef = String(answer.body.vendorRef);
      expect(vendorRef).toMatch(/^\d+$/);

      const obj = (await ruleObject("firewall", ruleId)) as KubeObj;
      expect(obj).toBeDefined();
      expect(statusOf(obj).vendorRef).toBe(vendorRef);
      const meta = obj.metadata as { labels?: Record<string, string>; annotations?: Record<string, string> };
      expect(meta.labels?.[LABEL_VNF_INSTANCE]).toBe(INSTANCE);
      expect(meta.annotations?.[ANNOTATION_OP_HASH]).toMatch(/^[0-9a-f]{64}$/);
      expect(obj.spec).toMatchObject({
        ruleId,
        interface: "wan",
        action: "allow",
        protocol: "tcp",
        destination: { cidr: "10.0.10.10", port: "443" },
      });
      const onAppliance = await waitUntil("rule on the appliance", async () =>
        (await applianceRules()).find((r) => String(r.tracker) === vendorRef),
      );
      expect(onAppliance.type).toBe("pass");
      expect(String(onAppliance.descr)).toContain(markerToken(obj.metadata.uid));
    });

    it("answers a repeat with the same vendorRef and no second appliance object", async () => {
      const before = (await ruleObject("firewall", ruleId)) as KubeObj;
      const answer = await call("POST", `/vnf/${INSTANCE}/firewall/rules`, { body: wire });
      expect(answer.status).toBe(200);
      expect(answer.body.vendorRef).toBe(vendorRef);
      const after = (await ruleObject("firewall", ruleId)) as KubeObj;
      expect(after.metadata.resourceVersion).toBe(before.metadata.resourceVersion);
      expect(
        (await applianceRules()).filter((r) => String(r.descr).includes("cloudstack https")),
      ).toHaveLength(1);
    });

    it("updates the rule when the same ruleId comes with different parameters", async () => {
      const answer = await call("POST", `/vnf/${INSTANCE}/firewall/rules`, {
        body: { ...wire, destinationPorts: "8443" },
      });
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
      expect(answer.body.success).toBe(true);
      expect(answer.body.vendorRef).toBe(vendorRef);
      const updated = await waitUntil("port updated on the appliance", async () => {
        const rule = (await applianceRules()).find((r) => String(r.tracker) === vendorRef);
        return rule && String(rule.destination_port) === "8443" ? rule : undefined;
      });
      expect(String(updated.destination_port)).toBe("8443");
      expect(
        (await applianceRules()).filter((r) => String(r.descr).includes("cloudstack https")),
      ).toHaveLength(1);
    });

    it("deletes through POST /firewall/rules/delete: gone from the appliance and the cluster", async () => {
      const answer = await call("POST", `/vnf/${INSTANCE}/firewall/rules/delete`, { body: { ruleId } });
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
      expect(answer.body).toMatchObject({ success: true, ruleId, vendorRef });
      expect((await applianceRules()).some((r) => String(r.tracker) === vendorRef)).toBe(false);
      expect(await ruleObject("firewall", ruleId)).toBeUndefined();
    });
  });

  describe("J/broker/VnfBrokerClient (service): /rules/firewall with the CreateFirewallRuleCmd contract", () => {
    const ruleId = "svc-rule-1";
    let vendorRef = "";

    it("creates with the contract body, instance id in a header and the vendor in X-VNF-Vendor", async () => {
      const answer = await call("POST", "/rules/firewall", {
        headers: { "X-VNF-Instance-Id": INSTANCE, "X-VNF-Vendor": "pfSense" },
        body: {
          ruleId,
          interface: "wan",
          direction: "in",
          action: "deny",
          protocol: "udp",
          src: { cidr: "any" },
          dst: { cidr: "10.0.20.0/24" },
          ports: { dst: "53" },
          description: "cloudstack dns block",
          log: true,
        },
      });
      expect(answer.status, JSON.stringify(answer.body)).toBe(201);
      expect(answer.body).toMatchObject({ ok: true, ruleId, state: "Completed" });
      expect(typeof answer.body.appliedAt).toBe("string");
      vendorRef = String(answer.body.vendorRef);
      const onAppliance = await waitUntil("rule on the appliance", async () =>
        (await applianceRules()).find((r) => String(r.tracker) === vendorRef),
      );
      expect(onAppliance.type).toBe("block");
    });

    it("lists and gets rules of the instance (scope vnf:r is enough)", async () => {
      const reader = await token({ scope: "vnf:r" });
      const list = await call("GET", `/rules/firewall?vnfInstanceId=${INSTANCE}`, { bearer: reader });
      expect(list.status).toBe(200);
      expect(list.body.count).toBe(1);
      expect((list.body.rules as Array<Record<string, unknown>>)[0]).toMatchObject({
        ruleId,
        vendorRef,
        action: "deny",
        protocol: "udp",
        destinationAddressing: "10.0.20.0/24",
        destinationPorts: "53",
        state: "Completed",
      });
      const one = await call("GET", `/rules/firewall/${ruleId}`, { bearer: reader });
      expect(one.status).toBe(200);
      expect(one.body).toMatchObject({ ruleId, vendorRef });
    });

    it("updates with PUT /rules/firewall/{ruleId} (only the fields given change)", async () => {
      const answer = await call("PUT", `/rules/firewall/${ruleId}`, { body: { action: "allow" } });
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
      expect(answer.body).toMatchObject({ success: true, vendorRef });
      const spec = ((await ruleObject("firewall", ruleId)) as KubeObj).spec as Record<string, unknown>;
      expect(spec).toMatchObject({
        action: "allow",
        protocol: "udp",
        destination: { cidr: "10.0.20.0/24", port: "53" },
      });
      await waitUntil("pass on the appliance", async () =>
        (await applianceRules()).find((r) => String(r.tracker) === vendorRef && r.type === "pass"),
      );
    });

    it("deletes with DELETE /rules/firewall/{ruleId}", async () => {
      const answer = await call("DELETE", `/rules/firewall/${ruleId}`);
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
      expect(answer.body.success).toBe(true);
      expect((await applianceRules()).some((r) => String(r.tracker) === vendorRef)).toBe(false);
      const again = await call("DELETE", `/rules/firewall/${ruleId}`);
      expect(again.status).toBe(200);
      expect(again.body.message).toMatch(/already deleted/);
    });
  });

  describe("NAT (pfSense port forwards)", () => {
    const natWire = (ruleId: string, port: number) => ({
      ruleId,
      type: "DNAT",
      sourceAddress: "any",
      translatedAddress: "10.0.10.20",
      protocol: "tcp",
      port,
      translatedPort: 80,
      description: `cloudstack pf ${ruleId}`,
    });
    const natObjects = async (text: string) =>
      ((await env.sim.control.objects("natRule")).running as Array<Record<string, unknown>>).filter((o) =>
        JSON.stringify(o).includes(text),
      );

    it("creates through POST /nat/rules and deletes through DELETE /rules/nat/{ruleId}", async () => {
      const ruleId = "nat-ne-1";
      const answer = await call("POST", "/nat/rules", {
        body: { ...natWire(ruleId, 8080), vnfInstanceId: INSTANCE },
      });
      expect(answer.status, JSON.stringify(answer.body)).toBe(201);
      expect(answer.body.success).toBe(true);
      expect(String(answer.body.vendorRef)).not.toBe("");
      const obj = (await ruleObject("nat", ruleId)) as KubeObj;
      expect(obj.spec).toMatchObject({
        type: "dnat",
        protocol: "tcp",
        destination: { port: "8080" },
        translated: { address: "10.0.10.20", port: "80" },
      });
      const marker = markerToken(obj.metadata.uid);
      await waitUntil(
        "port forward on the appliance",
        async () => (await natObjects(marker)).length === 1 || undefined,
      );

      const deleted = await call("DELETE", `/rules/nat/${ruleId}?vnfInstanceId=${INSTANCE}`);
      expect(deleted.status, JSON.stringify(deleted.body)).toBe(200);
      expect(deleted.body.success).toBe(true);
      expect(await natObjects(marker)).toHaveLength(0);
    });

    it("creates through POST /rules/nat and deletes through POST /nat/rules/delete", async () => {
      const ruleId = "nat-svc-1";
      const answer = await call("POST", `/vnf/${INSTANCE}/rules/nat`, { body: natWire(ruleId, 8081) });
      expect(answer.status, JSON.stringify(answer.body)).toBe(201);
      const obj = (await ruleObject("nat", ruleId)) as KubeObj;
      const marker = markerToken(obj.metadata.uid);
      expect(await natObjects(marker)).toHaveLength(1);
      const deleted = await call("POST", `/vnf/${INSTANCE}/nat/rules/delete`, { body: { ruleId } });
      expect(deleted.status).toBe(200);
      expect(await natObjects(marker)).toHaveLength(0);
      expect(await ruleObject("nat", ruleId)).toBeUndefined();
    });
  });

  it("passes the appliance's refusal (400) back as errorCode VNF_INVALID", async () => {
    await env.sim.control.injectFault({
      kind: "status",
      status: 400,
      method: "POST",
      pathPrefix: "/api/v2/firewall/rule",
    });
    try {
      const answer = await call("POST", `/vnf/${INSTANCE}/firewall/rules`, {
        body: {
          ruleId: "refused-1",
          action: "allow",
          protocol: "tcp",
          sourceAddressing: "any",
          destinationAddressing: "10.0.30.1",
          destinationPorts: "22",
        },
      });
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
      expect(answer.body).toMatchObject({
        success: false,
        state: "Failed",
        errorCode: "VNF_INVALID",
        vendorRef: null,
      });
      expect(String(answer.body.message)).not.toBe("");
      expect(answer.body.error).toMatchObject({ code: "VNF_INVALID", retryable: false });
    } finally {
      await env.sim.control.clearFaults();
    }
  });

  describe("authentication and authorisation", () => {
    const list = `/rules/firewall?vnfInstanceId=${INSTANCE}`;
    const now = () => Math.floor(Date.now() / 1000);

    it("refuses a missing token, an expired token, a bad signature, another algorithm and alg none", async () => {
      const none = [
        Buffer.from(JSON.stringify({ alg: "none", typ: "JWT" })).toString("base64url"),
        Buffer.from(JSON.stringify({ sub: "x", scope: "vnf:rw", iat: now(), exp: now() + 300 })).toString(
          "base64url",
        ),
        "",
      ].join(".");
      const cases: Array<[string, string | null]> = [
        ["missing", null],
        ["expired", await token(undefined, { iat: now() - 900, exp: now() - 600 })],
        ["bad signature", await token(undefined, { key: otherKey })],
        [
          "HS256 signed with the RSA public key",
          await token(undefined, { alg: "HS256", key: new TextEncoder().encode(publicPem) }),
        ],
        ["alg none", none],
        ["garbage", "not.a.jwt"],
      ];
      for (const [what, bearer] of cases) {
        const answer = await call("GET", list, { bearer });
        expect(answer.status, what).toBe(401);
        expect(answer.body.error, what).toBe("unauthorized");
        expect(answer.headers["www-authenticate"], what).toMatch(/^Bearer/);
      }
    });

    it("needs scope vnf:rw for writes and vnf:r (or vnf:rw) for reads", async () => {
      const reader = await token({ scope: "vnf:r" });
      const nobody = await token({ scope: "other" });
      const write = await call("POST", `/vnf/${INSTANCE}/firewall/rules/delete`, {
        bearer: reader,
        body: { ruleId: "x" },
      });
      expect(write.status).toBe(403);
      expect((await call("GET", list, { bearer: nobody })).status).toBe(403);
      expect((await call("GET", list, { bearer: reader })).status).toBe(200);
    });

    it("refuses clients without a certificate from the client CA (mTLS)", async () => {
      const bare = new Agent({ connect: { rejectUnauthorized: false } });
      try {
        await expect(request(`${base}/health`, { dispatcher: bare })).rejects.toThrow();
      } finally {
        await bare.close();
      }
    });
  });

  describe("request validation", () => {
    it("answers 400 with details for malformed bodies", async () => {
      const path = `/vnf/${INSTANCE}/firewall/rules`;
      const invalidJson = await call("POST", path, { raw: "{not json" });
      expect(invalidJson.status).toBe(400);
      expect(invalidJson.body.details).toEqual([
        expect.objectContaining({ loc: ["body"], type: "json_invalid" }),
      ]);

      const bad = await call("POST", path, {
        body: {
          ruleId: "bad id!",
          protocol: "tcp",
          sourceAddressing: "any",
          destinationAddressing: "10.0.0.0/33",
          destinationPorts: "70000",
          colour: "red",
        },
      });
      expect(bad.status).toBe(400);
      expect(bad.body).toMatchObject({
        success: false,
        error: "validation_error",
        errorCode: "BROKER_INVALID_REQUEST",
      });
      const locs = (bad.body.details as Array<{ loc: string[] }>).map((d) => d.loc.join("."));
      expect(locs).toEqual(
        expect.arrayContaining([
          "body.ruleId",
          "body.action",
          "body.destinationAddressing",
          "body.destinationPorts",
          "body.colour",
        ]),
      );

      const ports = await call("POST", path, {
        body: {
          ruleId: "icmp-1",
          action: "allow",
          protocol: "icmp",
          sourceAddressing: "any",
          destinationAddressing: "any",
          destinationPorts: "22",
        },
      });
      expect(ports.status).toBe(400);
      expect(ports.body.details).toEqual([expect.objectContaining({ loc: ["body", "destinationPorts"] })]);

      const array = await call("POST", "/rules/nat", {
        body: [1, 2],
        headers: { "X-VNF-Instance-Id": INSTANCE },
      });
      expect(array.status).toBe(400);
    });

    it("answers 404 for an unknown VNF instance and 400 for a vendor that does not match the device", async () => {
      const body = {
        ruleId: "r-404",
        action: "allow",
        protocol: "any",
        sourceAddressing: "any",
        destinationAddressing: "any",
      };
      const unknown = await call("POST", "/vnf/999999/firewall/rules", { body });
      expect(unknown.status).toBe(404);
      const vendor = await call("POST", `/vnf/${INSTANCE}/firewall/rules`, {
        body,
        headers: { "X-VNF-Vendor": "FortiGate" },
      });
      expect(vendor.status).toBe(400);
      expect(vendor.body.details).toEqual([expect.objectContaining({ loc: ["header", "X-VNF-Vendor"] })]);
      expect(await ruleObject("firewall", "r-404")).toBeUndefined();
    });
  });

  it("limits each subject to its request budget with 429 and retry_after", async () => {
    const path = `/rules/firewall?vnfInstanceId=${INSTANCE}`;
    const busy = await token({ scope: "vnf:r" }, { sub: "busy-caller" });
    for (let i = 0; i < 5; i++)
      expect((await call("GET", path, { bearer: busy, at: limitedBase })).status).toBe(200);
    const limited = await call("GET", path, { bearer: busy, at: limitedBase });
    expect(limited.status).toBe(429);
    expect(limited.body.retry_after).toBeGreaterThan(0);
    expect(Number(limited.headers["retry-after"])).toBeGreaterThan(0);
    const other = await token({ scope: "vnf:r" }, { sub: "other-caller" });
    expect((await call("GET", path, { bearer: other, at: limitedBase })).status).toBe(200);
  });

  it("logs each request with its correlation id, never a token", () => {
    expect(
      logLines.some((l) => l.includes('"correlationId":"corr-1"') && l.includes('"route":"firewall.create"')),
    ).toBe(true);
    expect(issuedTokens.length).toBeGreaterThan(10);
    for (const line of logLines) {
      for (const jwt of issuedTokens) expect(line).not.toContain(jwt.split(".")[2]);
      expect(line).not.toMatch(/Bearer/i);
    }
  });

  it("exports request metrics on /metrics", async () => {
    const metrics = await request(`${base}/metrics`, { dispatcher: agent });
    const text = await metrics.body.text();
    expect(metrics.statusCode).toBe(200);
    expect(text).toMatch(
      /vnf_shim_http_requests_total\{method="POST",route="firewall.create",code="201"\} \d+/,
    );
    expect(text).toMatch(/vnf_shim_jwt_invalid_total\{reason="expired"\} 1/);
  });
});
