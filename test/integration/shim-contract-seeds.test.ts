// Contract: the two seed broker families' own test cases (the VNF Framework seeds, repository
// alexandremattioli/Build, Features/VNFramework), one row each, replayed black-box against the real
// shim + operator + simulators + API server.
//  - scaffold family (FastAPI, broker-scaffold/test_broker.py, 13 cases): HS256 {sub, exp} tokens, the
//    network element's paths, X-VNF-Management-IP/-Username/-Password headers;
//  - enhanced family (Flask, python-broker/tests/test_broker_unit.py, 12 cases): /api/vnf/… routes,
//    RS256 tokens with sub, iat, exp, scope.
// The seeds ran each case against a fresh broker with the appliance mocked; here the appliance is a
// simulator and the cluster is shared, so a case that reuses the fixture's ruleId gets its own, and
// "the engine was called once" is counted on the simulator. The scaffold's requests carry no instance:
// its broker URL is configured per device (…/vnf/{id}), as for the network element. Where a case
// contradicts the real CloudStack client on the same route, the client wins: the row asserts our
// answer AND what client.VnfBrokerClient concludes from it (docs/cloudstack-shim.md lists them).
import { generateKeyPairSync } from "node:crypto";
import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ANNOTATION_DEFAULT_INTERFACE, LABEL_VNF_INSTANCE } from "../../src/shim/names.ts";
import { createShimServer, type ShimOptions, type ShimServer } from "../../src/shim/server.ts";
import type { SimulatorHandle } from "../simulators/common/types.ts";
import {
  callAsNetworkElement,
  type Exchange,
  exchangeWith,
  NETWORK_ELEMENT_CLIENT,
  type WireRequest,
  type WireResponse,
} from "../support/cloudstack-clients.ts";
import { type KubeObj, type OperatorEnv, startOperatorEnv } from "../support/operator-env.ts";

const HS_SECRET = "scaffold-family-jwt-secret-0123456789abcdef";
const SCAFFOLD_PF = "301";
const SCAFFOLD_FORTI = "302";
/** The enhanced family's test instance ids, each a device (vnf-cb's is suspended: its open breaker). */
const ENHANCED = ["vnf-1", "vnf-rl", "vnf-cb", "vnf-u", "vnf-d", "vnf-l"] as const;

let env: OperatorEnv;
let forti: SimulatorHandle;
const shims: ShimServer[] = [];
let scaffold: Exchange;
let scaffoldImpatient: Exchange;
let enhanced: Exchange;
let enhancedLimited: Exchange;
const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });

beforeAll(async () => {
  env = await startOperatorEnv({
    vendor: "pfsense",
    prefix: "shim-seed",
    device: { limits: { requestTimeout: "3s" } },
  });
  forti = (await env.addDevice({ vendor: "fortios", name: "forti-dev" })).sim;
  const label = async (device: string, instance: string) => {
    const result = await env.kubectl(["label", "vnfdev", device, `${LABEL_VNF_INSTANCE}=${instance}`]);
    expect(result.code, result.stderr).toBe(0);
  };
  await label(env.deviceName, SCAFFOLD_PF);
  await label("forti-dev", SCAFFOLD_FORTI);
  const annotated = await env.kubectl([
    "annotate",
    "vnfdev",
    "forti-dev",
    `${ANNOTATION_DEFAULT_INTERFACE}=port1`,
  ]);
  expect(annotated.code, annotated.stderr).toBe(0);
  // The enhanced family's instances: more devices on the same pfSense simulator.
  const spec = (await env.get<KubeObj>("vnfdevices", env.deviceName)).spec as Record<string, unknown>;
  for (const instance of ENHANCED)
    await env.apply({
      apiVersion: "vnf-operator.io/v1alpha1",
      kind: "VnfDevice",
      metadata: { name: `enh-${instance}`, labels: { [LABEL_VNF_INSTANCE]: instance } },
      spec: { ...spec, ...(instance === "vnf-cb" ? { suspend: true } : {}) },
    });
  for (const device of [
    env.deviceName,
    "forti-dev",
    ...ENHANCED.filter((i) => i !== "vnf-cb").map((i) => `enh-${i}`),
  ])
    await env.waitReady("vnfdevices", device);

  const start = async (overrides: Partial<ShimOptions>): Promise<Exchange> => {
    const s = createShimServer({
      kubeConfig: env.kc,
      namespaces: [env.namespace],
      jwt: { algorithm: "HS256", key: new TextEncoder().encode(HS_SECRET), clockToleranceSec: 30 },
      defaultInterface: "wan",
      waitTimeoutMs: 20_000,
      pollIntervalMs: 100,
      ...overrides,
    });
    shims.push(s);
    return exchangeWith(`http://127.0.0.1:${(await s.listen(0, "127.0.0.1")).port}`);
  };
  scaffold = await start({});
  scaffoldImpatient = await start({ waitTimeoutMs: 1500 });
  const rs = { algorithm: "RS256" as const, key: rsa.publicKey, clockToleranceSec: 30 };
  enhanced = await start({ jwt: rs });
  // The enhanced case tightens its limit to 1 request per 2 s.
  enhancedLimited = await start({ jwt: rs, rateLimit: { max: 1, windowMs: 2000 } });
});

afterAll(async () => {
  await Promise.all(shims.map((s) => s.close()));
  await env?.stop();
});

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

function answer(response: WireResponse): Answer {
  if ("ioError" in response) throw new Error(response.ioError);
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(response.body) as Record<string, unknown>;
  } catch {
    body = { text: response.body };
  }
  return { status: response.status, body };
}

function send(
  exchange: Exchange,
  method: WireRequest["method"],
  path: string,
  headers: Record<string, string>,
  json?: unknown,
): Promise<Answer> {
  return exchange({
    method,
    path,
    headers: { ...headers, ...(json !== undefined ? { "content-type": "application/json" } : {}) },
    ...(json !== undefined ? { body: JSON.stringify(json) } : {}),
  }).then(answer);
}

// ---- scaffold family: broker-scaffold/test_broker.py -------------------------------------------

const hsToken = (expiresIn: string | number = "10m") =>
  new SignJWT({})
    .setProtectedHeader({ alg: "HS256" })
    .setSubject("test_user")
    .setExpirationTime(expiresIn)
    .sign(new TextEncoder().encode(HS_SECRET));

/** The fixture's target headers (the shim ignores them: the device's endpoint and Secret are used). */
const TARGET = {
  "X-VNF-Management-IP": "192.168.1.100",
  "X-VNF-Username": "admin",
  "X-VNF-Password": "password",
};

const firewallRuleRequest = (ruleId = "test-rule-001") => ({
  ruleId,
  action: "allow",
  protocol: "tcp",
  sourceAddressing: "192.168.1.0/24",
  destinationAddressing: "10.0.0.0/8",
  sourcePorts: "any",
  destinationPorts: "80,443",
  description: "Test firewall rule",
});

const at = (instance: string, p: string) => `/vnf/${instance}${p}`;

describe("scaffold family (broker-scaffold/test_broker.py)", () => {
  const auth = async () => ({ Authorization: `Bearer ${await hsToken()}`, ...TARGET });

  it("test_health_check: 200, status healthy, timestamp", async () => {
    const r = await send(scaffold, "GET", "/health", {});
    expect(r.status).toBe(200);
    expect(r.body.status).toBe("healthy");
    expect(r.body).toHaveProperty("timestamp");
  });

  it("test_missing_auth_header: the seed expects 422; DEVIATION: 401 (a missing token is an authentication failure; client.VnfBrokerClient reads any non-200 as a failure either way)", async () => {
    const r = await send(scaffold, "POST", at(SCAFFOLD_PF, "/firewall/rules"), TARGET, firewallRuleRequest());
    expect(r.status).toBe(401);
    expect(r.body.errorCode).toBe("BROKER_INVALID_REQUEST");
  });

  it("test_invalid_auth_format: 401", async () => {
    const r = await send(
      scaffold,
      "POST",
      at(SCAFFOLD_PF, "/firewall/rules"),
      { Authorization: "InvalidFormat token123", ...TARGET },
      firewallRuleRequest(),
    );
    expect(r.status).toBe(401);
  });

  it("test_expired_token: 401", async () => {
    const expired = await hsToken(Math.floor(Date.now() / 1000) - 600);
    const r = await send(
      scaffold,
      "POST",
      at(SCAFFOLD_PF, "/firewall/rules"),
      { Authorization: `Bearer ${expired}`, ...TARGET },
      firewallRuleRequest(),
    );
    expect(r.status).toBe(401);
  });

  it.each([
    ["test_invalid_action", { ...firewallRuleRequest(), action: "invalid" }],
    ["test_invalid_protocol", { ...firewallRuleRequest(), protocol: "invalid" }],
    ["test_missing_required_field", { ruleId: "test-rule-001", action: "allow" }],
  ])("%s: 422", async (_name, body) => {
    const r = await send(scaffold, "POST", at(SCAFFOLD_PF, "/firewall/rules"), await auth(), body);
    expect(r.status).toBe(422);
    expect(r.body.errorCode).toBe("BROKER_INVALID_REQUEST");
  });

  it("test_idempotency_cache_hit: 200 success, then 200 with the same body, the appliance written once", async () => {
    const creates = async () =>
      (await env.sim.control.requests()).filter(
        (q) => q.method === "POST" && q.path === "/api/v2/firewall/rule",
      ).length;
    const before = await creates();
    const request = firewallRuleRequest("test-rule-idem");
    const r1 = await send(scaffold, "POST", at(SCAFFOLD_PF, "/firewall/rules"), await auth(), request);
    expect(r1.status, JSON.stringify(r1.body)).toBe(200);
    expect(r1.body.success).toBe(true);
    const r2 = await send(scaffold, "POST", at(SCAFFOLD_PF, "/firewall/rules"), await auth(), request);
    expect(r2.status).toBe(200);
    expect(r2.body).toEqual(r1.body);
    // destinationPorts "80,443": two appliance rules, each created once.
    expect((await creates()) - before).toBe(2);
  });

  it("test_successful_firewall_rule_creation: 200, success, vendorRef, errorCode null", async () => {
    const r = await send(
      scaffold,
      "POST",
      at(SCAFFOLD_PF, "/firewall/rules"),
      await auth(),
      firewallRuleRequest(),
    );
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body).toMatchObject({ success: true, errorCode: null });
    expect(String(r.body.vendorRef)).toMatch(/^\d+,\d+$/);
  });

  it("test_vnf_timeout_error: the seed expects 200 + success:false + VNF_TIMEOUT; DEVIATION: 504 VNF_TIMEOUT, because client.VnfBrokerClient takes any 200 as success and would record a rule that is not there", async () => {
    await env.sim.control.injectFault({
      kind: "timeout",
      method: "POST",
      pathPrefix: "/api/v2/firewall/rule",
    });
    try {
      const request = {
        method: "POST" as const,
        path: at(SCAFFOLD_PF, "/firewall/rules"),
        headers: { ...(await auth()), "content-type": "application/json" },
        body: JSON.stringify(firewallRuleRequest("test-rule-timeout")),
      };
      const r = answer(await scaffoldImpatient(request));
      expect(r.status).toBe(504);
      expect(r.body).toMatchObject({ success: false, errorCode: "VNF_TIMEOUT" });
      // What the real client concludes: VnfBrokerException(VNF_TIMEOUT), after its retries.
      const client = await callAsNetworkElement(scaffoldImpatient, request);
      expect(client.reading).toMatchObject({ outcome: "throws", errorCode: "VNF_TIMEOUT" });
      expect(client.attempts).toBe(NETWORK_ELEMENT_CLIENT.attempts);
    } finally {
      await env.sim.control.clearFaults();
    }
  });

  it("test_delete_firewall_rule: DELETE /firewall/rules/{id} → 200, success", async () => {
    const r = await send(scaffold, "DELETE", at(SCAFFOLD_PF, "/firewall/rules/test-rule-001"), await auth());
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.success).toBe(true);
    const gone = await send(scaffold, "GET", at(SCAFFOLD_PF, "/firewall/rules/test-rule-001"), await auth());
    expect(gone.status).toBe(404);
  });

  it("test_create_nat_rule: POST /nat/rules → 200, success, vendorRef", async () => {
    const r = await send(scaffold, "POST", at(SCAFFOLD_PF, "/nat/rules"), await auth(), {
      ruleId: "nat-test-001",
      type: "DNAT",
      sourceAddress: "any",
      destinationAddress: "203.0.113.10",
      translatedAddress: "10.0.0.100",
      protocol: "tcp",
      port: "80",
      translatedPort: "8080",
      description: "Test NAT rule",
    });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.success).toBe(true);
    expect(String(r.body.vendorRef)).not.toBe("");
  });

  it("test_custom_vendor_header: X-VNF-Vendor FortiGate → 200, the rule on the FortiGate", async () => {
    const r = await send(
      scaffold,
      "POST",
      at(SCAFFOLD_FORTI, "/firewall/rules"),
      { ...(await auth()), "X-VNF-Vendor": "FortiGate" },
      firewallRuleRequest("test-rule-forti"),
    );
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const refs = String(r.body.vendorRef).split(",");
    const policies = (await forti.control.objects("firewallRule")).running;
    expect(policies.filter((p) => refs.includes(String(p.policyid)))).toHaveLength(2);
  });
});

// ---- enhanced family: python-broker/tests/test_broker_unit.py ------------------------------------

const rsToken = () =>
  new SignJWT({ scope: "vnf:rw" })
    .setProtectedHeader({ alg: "RS256" })
    .setSubject("cloudstack")
    .setIssuedAt()
    .setExpirationTime("5m")
    .sign(rsa.privateKey);

const payload = (instance: string, ruleId: string, extra: Record<string, unknown> = {}) => ({
  vnfInstanceId: instance,
  ruleId,
  action: "allow",
  protocol: "tcp",
  sourceIp: "10.0.0.0/24",
  destinationIp: "192.168.1.0/24",
  destinationPort: 443,
  enabled: true,
  ...extra,
});

describe("enhanced family (python-broker/tests/test_broker_unit.py)", () => {
  const auth = async () => ({ Authorization: `Bearer ${await rsToken()}` });

  it("test_health_endpoint_ok: 200, status healthy, a redis member", async () => {
    const r = await send(enhanced, "GET", "/health", {});
    expect(r.status).toBe(200);
    expect(r.body.status).toBe("healthy");
    expect(r.body).toHaveProperty("redis");
  });

  it("test_create_requires_auth: 401", async () => {
    const r = await send(enhanced, "POST", "/api/vnf/firewall/create", {}, payload("vnf-1", "r1"));
    expect(r.status).toBe(401);
  });

  it("test_create_validation_error: port 70000 → 400, error 'Validation error'", async () => {
    const r = await send(
      enhanced,
      "POST",
      "/api/vnf/firewall/create",
      await auth(),
      payload("vnf-1", "r1", { destinationPort: 70000 }),
    );
    expect(r.status).toBe(400);
    expect(r.body.error).toBe("Validation error");
  });

  it("test_create_firewall_success_and_idempotency: 201, then 200 with the same ruleId and success", async () => {
    const body = payload("vnf-1", `r-create-${Math.floor(Date.now() / 1000)}`);
    const r1 = await send(enhanced, "POST", "/api/vnf/firewall/create", await auth(), body);
    expect(r1.status, JSON.stringify(r1.body)).toBe(201);
    const r2 = await send(enhanced, "POST", "/api/vnf/firewall/create", await auth(), body);
    expect(r2.status).toBe(200);
    expect(r2.body.ruleId).toBe(r1.body.ruleId);
    expect(r2.body.success).toBe(r1.body.success);
  });

  it("test_rate_limit_blocks_when_exceeded: (limit 1 per 2 s) first 200/201, second 429", async () => {
    const body = payload("vnf-rl", `rl-${Math.floor(Date.now() / 1000)}`);
    const r1 = await send(enhancedLimited, "POST", "/api/vnf/firewall/create", await auth(), body);
    expect([200, 201], JSON.stringify(r1.body)).toContain(r1.status);
    const r2 = await send(enhancedLimited, "POST", "/api/vnf/firewall/create", await auth(), body);
    expect(r2.status).toBe(429);
  });

  it("test_circuit_breaker_open_blocks: the instance's device is not available (suspended) → 503", async () => {
    const r = await send(
      enhanced,
      "POST",
      "/api/vnf/firewall/create",
      await auth(),
      payload("vnf-cb", "r-cb"),
    );
    expect(r.status, JSON.stringify(r.body)).toBe(503);
    expect(r.body.vnfInstanceId).toBe("vnf-cb");
  });

  it("test_update_firewall_success: 200, ruleId, status updated", async () => {
    const rid = `upd-${Math.floor(Date.now() / 1000)}`;
    const r = await send(
      enhanced,
      "PUT",
      `/api/vnf/firewall/update/${rid}`,
      await auth(),
      payload("vnf-u", rid, {
        action: "deny",
        protocol: "udp",
        sourceIp: "10.0.1.0/24",
        destinationIp: "192.168.2.0/24",
        destinationPort: 53,
        enabled: false,
      }),
    );
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.ruleId).toBe(rid);
    expect(r.body.status).toBe("updated");
  });

  it("test_delete_requires_vnf_instance: 400", async () => {
    const r = await send(enhanced, "DELETE", "/api/vnf/firewall/delete/r-del", await auth());
    expect(r.status).toBe(400);
  });

  it("test_delete_firewall_success: 200, status deleted", async () => {
    const r = await send(enhanced, "DELETE", "/api/vnf/firewall/delete/r-del", await auth(), {
      vnfInstanceId: "vnf-d",
    });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.status).toBe("deleted");
  });

  it("test_list_requires_query_param: 400", async () => {
    const r = await send(enhanced, "GET", "/api/vnf/firewall/list", await auth());
    expect(r.status).toBe(400);
  });

  it("test_list_firewall_success: 200, success, count 0", async () => {
    const r = await send(enhanced, "GET", "/api/vnf/firewall/list?vnfInstanceId=vnf-l", await auth());
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ success: true, count: 0 });
  });

  it("test_metrics_endpoints: /metrics and /metrics.prom → 200", async () => {
    expect((await send(enhanced, "GET", "/metrics", {})).status).toBe(200);
    expect((await send(enhanced, "GET", "/metrics.prom", {})).status).toBe(200);
  });
});
