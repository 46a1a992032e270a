// Contract: CloudStack's two broker clients against the real shim, the real operator, the real API
// server and the vendor simulators. Each row replays the client's exact request (path, headers, body)
// and asserts what the CLIENT concludes from the answer, through the models in
// test/support/cloudstack-clients.ts (client.VnfBrokerClient and broker.VnfBrokerClient of the
// CloudStack fork, branch VNFCopilot @ 2f8f0cc10c78): "would report success with this vendorRef",
// "would throw VNF_INVALID", "would retry 3 times". The tokens are minted by `vnf-operator shim token`,
// as an administrator would fill CloudStack's settings.
import { execFile } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { SignJWT } from "jose";
import { Agent, request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../src/runtime/logging.ts";
import {
  ANNOTATION_DEFAULT_INTERFACE,
  LABEL_NETWORK_ID,
  LABEL_VNF_INSTANCE,
  ruleResourceName,
} from "../../src/shim/names.ts";
import { createShimServer, type ShimOptions, type ShimServer } from "../../src/shim/server.ts";
import type { SimulatorHandle } from "../simulators/common/types.ts";
import {
  callAsNetworkElement,
  callAsService,
  type Exchange,
  exchangeWith,
  NETWORK_ELEMENT_CLIENT,
  networkElementFirewall,
  networkElementRequest,
  SERVICE_CLIENT,
  serviceReadsDrift,
  serviceRequest,
} from "../support/cloudstack-clients.ts";
import {
  type KubeObj,
  type OperatorEnv,
  objectsContaining,
  repoRoot,
  ruleMarkerText,
  startOperatorEnv,
  statusOf,
} from "../support/operator-env.ts";
import { createCertificateAuthority } from "../support/pki.ts";

const PF = "101"; // CloudStack VNF instance of the pfSense device
const FORTI = "102"; // … of the FortiOS device
const NETWORK = "204"; // the CloudStack network both serve
const SECRET = "cloudstack-shim-contract-secret-0123456789";

let env: OperatorEnv;
let forti: SimulatorHandle;
let dir: string;
let agent: Agent;
const shims: ShimServer[] = [];
/** The shim as configured for production: HTTPS with mTLS, HS256, 20 s wait. */
let shim: Exchange;
/** The same with a 1.5 s wait (appliance hangs). */
let impatient: Exchange;
/** The same with a budget of 2 requests per minute per subject. */
let limited: Exchange;
/** api_credentials.jwtToken and vnf.broker.auth.token, minted by `vnf-operator shim token`. */
let token: string;
let readToken: string;
const logLines: string[] = [];

const run = promisify(execFile);

async function mint(...args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, [
    path.join(repoRoot, "src/cli/main.ts"),
    "shim",
    "token",
    "--key-file",
    path.join(dir, "jwt-secret"),
    ...args,
  ]);
  return stdout.trim();
}

beforeAll(async () => {
  env = await startOperatorEnv({
    vendor: "pfsense",
    prefix: "shim-cs",
    device: { limits: { requestTimeout: "3s" } },
  });
  // The FortiOS device checks drift once a day: a forced check must not wait for the interval.
  forti = (
    await env.addDevice({
      vendor: "fortios",
      name: "forti-dev",
      device: { limits: { requestTimeout: "3s" }, driftDetection: { interval: "24h" } },
    })
  ).sim;
  for (const [device, instance, iface] of [
    [env.deviceName, PF, "wan"],
    ["forti-dev", FORTI, "port1"],
  ] as const) {
    const labelled = await env.kubectl([
      "label",
      "vnfdev",
      device,
      `${LABEL_VNF_INSTANCE}=${instance}`,
      `${LABEL_NETWORK_ID}=${NETWORK}`,
    ]);
    expect(labelled.code, labelled.stderr).toBe(0);
    const annotated = await env.kubectl([
      "annotate",
      "vnfdev",
      device,
      `${ANNOTATION_DEFAULT_INTERFACE}=${iface}`,
    ]);
    expect(annotated.code, annotated.stderr).toBe(0);
    await env.waitReady("vnfdevices", device);
  }

  dir = mkdtempSync(path.join(tmpdir(), "shim-contract-"));
  writeFileSync(path.join(dir, "jwt-secret"), `${SECRET}\n`);
  token = await mint("--lifetime", "1h");
  readToken = await mint("--lifetime", "1h", "--scope", "vnf:r", "--subject", "cloudstack-reader");

  const ca = await createCertificateAuthority("shim contract CA");
  const server = await ca.issue({ commonName: "shim", ips: ["127.0.0.1"], usage: "server" });
  const client = await ca.issue({ commonName: "cloudstack-mgmt", usage: "client" });
  agent = new Agent({ connect: { ca: ca.certPem, cert: client.certPem, key: client.keyPem } });
  const start = async (overrides: Partial<ShimOptions>): Promise<Exchange> => {
    const s = createShimServer({
      kubeConfig: env.kc,
      namespaces: [env.namespace],
      jwt: { algorithm: "HS256", key: new TextEncoder().encode(SECRET), clockToleranceSec: 30 },
      tls: { cert: server.certPem, key: server.keyPem, clientCa: ca.certPem },
      waitTimeoutMs: 20_000,
      pollIntervalMs: 100,
      logger: createLogger({
        level: "info",
        destination: { write: (line: string) => void logLines.push(line) },
      }),
      ...overrides,
    });
    shims.push(s);
    return exchangeWith(`https://127.0.0.1:${(await s.listen(0, "127.0.0.1")).port}`, agent);
  };
  shim = await start({});
  impatient = await start({ waitTimeoutMs: 1500 });
  limited = await start({ rateLimit: { max: 2, windowMs: 60_000 } });
});

afterAll(async () => {
  await Promise.all(shims.map((s) => s.close()));
  await agent?.close();
  await env?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// ---- helpers --------------------------------------------------------------------------------------

const pfRules = async () => (await env.sim.control.objects("firewallRule")).running;
const rule = (ruleId: string) => env.find<KubeObj>("vnffirewallrules", ruleResourceName("firewall", ruleId));
const ne = (instance: string, p: string, body: object, bearer = token) =>
  networkElementRequest(`/vnf/${instance}${p}`, body, bearer);

function web(
  ruleId: string,
  port: string,
  extra: Partial<Parameters<typeof networkElementFirewall>[0]> = {},
) {
  // What VnfNetworkElement sends for an ingress rule on `port`: the port range in both port members.
  return networkElementFirewall({
    ruleId,
    action: "allow",
    protocol: "tcp",
    sourceAddressing: "0.0.0.0/0",
    destinationAddressing: "10.0.10.10",
    sourcePorts: port,
    destinationPorts: port,
    description: `contract ${ruleId}`,
    ...extra,
  });
}

// ---- client.VnfBrokerClient (VnfNetworkElement, per-device broker URL …/vnf/{id}) ------------------

describe(`${NETWORK_ELEMENT_CLIENT.name} (${NETWORK_ELEMENT_CLIENT.version})`, () => {
  const ruleId = "ne-web-1";
  let vendorRef = "";

  it("create: reports success with the appliance's vendorRef (the rule is live)", async () => {
    const result = await callAsNetworkElement(shim, ne(PF, "/firewall/rules", web(ruleId, "443")));
    expect(result.reading).toMatchObject({ outcome: "success" });
    expect(result).toMatchObject({ attempts: 1, statuses: [200] });
    vendorRef = result.reading.outcome === "success" ? result.reading.vendorRef : "";
    expect(vendorRef).toMatch(/^\d+$/);
    const onAppliance = (await pfRules()).find((r) => String(r.tracker) === vendorRef);
    expect(onAppliance).toMatchObject({ type: "pass", interface: ["wan"] });
    // The mirrored sourcePorts (a bug of VnfNetworkElement) are dropped: only the destination port.
    expect((await rule(ruleId))?.spec).toMatchObject({
      interface: "wan",
      source: { cidr: "0.0.0.0/0" },
      destination: { cidr: "10.0.10.10", port: "443" },
    });
    const written = (await rule(ruleId)) as KubeObj;
    expect((written.spec as { source: object }).source).not.toHaveProperty("port");
  });

  it("repeat: the same success and vendorRef, nothing written, no second appliance object", async () => {
    const before = (await rule(ruleId))?.metadata.resourceVersion;
    const result = await callAsNetworkElement(shim, ne(PF, "/firewall/rules", web(ruleId, "443")));
    expect(result.reading).toEqual({ outcome: "success", vendorRef, message: expect.any(String) });
    expect((await rule(ruleId))?.metadata.resourceVersion).toBe(before);
    expect((await pfRules()).filter((r) => String(r.descr).includes(`contract ${ruleId}`))).toHaveLength(1);
  });

  it("update (same ruleId, new port): success, the appliance object changed in place", async () => {
    const result = await callAsNetworkElement(shim, ne(PF, "/firewall/rules", web(ruleId, "8443")));
    expect(result.reading).toMatchObject({ outcome: "success", vendorRef });
    const updated = (await pfRules()).find((r) => String(r.tracker) === vendorRef);
    expect(String(updated?.destination_port)).toBe("8443");
  });

  it("delete (POST …/firewall/rules/delete): success; gone from the appliance; again: still success", async () => {
    const result = await callAsNetworkElement(shim, ne(PF, "/firewall/rules/delete", { ruleId }));
    expect(result.reading).toMatchObject({ outcome: "success", vendorRef });
    expect((await pfRules()).some((r) => String(r.tracker) === vendorRef)).toBe(false);
    expect(await rule(ruleId)).toBeUndefined();
    const again = await callAsNetworkElement(shim, ne(PF, "/firewall/rules/delete", { ruleId }));
    expect(again.reading).toMatchObject({ outcome: "success" });
  });

  it("several source CIDRs joined with ',': one rule to CloudStack, one appliance rule per CIDR", async () => {
    const id = "ne-multi-1";
    const result = await callAsNetworkElement(
      shim,
      ne(PF, "/firewall/rules", web(id, "22", { sourceAddressing: "10.1.0.0/16,10.2.0.0/16" })),
    );
    expect(result.reading.outcome, JSON.stringify(result.reading)).toBe("success");
    const refs = result.reading.outcome === "success" ? result.reading.vendorRef.split(",") : [];
    expect(refs).toHaveLength(2);
    const objects = (await pfRules()).filter((r) => refs.includes(String(r.tracker)));
    expect(objects.map((o) => String(o.source)).sort()).toEqual(["10.1.0.0/16", "10.2.0.0/16"]);
    const deleted = await callAsNetworkElement(shim, ne(PF, "/firewall/rules/delete", { ruleId: id }));
    expect(deleted.reading).toMatchObject({ outcome: "success" });
    expect((await pfRules()).some((r) => refs.includes(String(r.tracker)))).toBe(false);
  });

  it("the same request on a FortiOS device: the device's interface (port1), not a global default", async () => {
    const id = "ne-forti-1";
    const result = await callAsNetworkElement(shim, ne(FORTI, "/firewall/rules", web(id, "443")));
    expect(result.reading.outcome, JSON.stringify(result.reading)).toBe("success");
    const policies = (await forti.control.objects("firewallRule")).running;
    const policy = policies.find(
      (p) => String(p.policyid) === (result.reading.outcome === "success" ? result.reading.vendorRef : ""),
    );
    expect(policy?.srcintf).toEqual([expect.objectContaining({ name: "port1" })]);
    expect(
      await callAsNetworkElement(shim, ne(FORTI, "/firewall/rules/delete", { ruleId: id })),
    ).toMatchObject({
      reading: { outcome: "success" },
    });
  });

  it("NAT (its wire format): success with the vendorRef; delete through POST …/nat/rules/delete", async () => {
    const id = "ne-nat-1";
    const body = {
      ruleId: id,
      type: "DNAT",
      sourceAddress: null,
      destinationAddress: null,
      translatedAddress: "10.0.10.20",
      protocol: "tcp",
      port: "8080",
      translatedPort: "80",
      description: "contract nat",
    };
    const result = await callAsNetworkElement(shim, ne(PF, "/nat/rules", body));
    expect(result.reading.outcome, JSON.stringify(result.reading)).toBe("success");
    const obj = await env.find<KubeObj>("vnfnatrules", ruleResourceName("nat", id));
    const marker = ruleMarkerText(obj?.metadata.uid ?? "");
    expect(await objectsContaining(env.sim, "natRule", marker, "running")).toHaveLength(1);
    const deleted = await callAsNetworkElement(shim, ne(PF, "/nat/rules/delete", { ruleId: id }));
    expect(deleted.reading).toMatchObject({ outcome: "success" });
    expect(await objectsContaining(env.sim, "natRule", marker, "running")).toHaveLength(0);
  });

  it("appliance refusal (pfSense 400): throws VNF_INVALID at once, no retry", async () => {
    await env.sim.control.injectFault({
      kind: "status",
      status: 400,
      method: "POST",
      pathPrefix: "/api/v2/firewall/rule",
    });
    try {
      const result = await callAsNetworkElement(shim, ne(PF, "/firewall/rules", web("ne-refused-1", "25")));
      expect(result.reading).toMatchObject({ outcome: "throws", errorCode: "VNF_INVALID" });
      expect(result).toMatchObject({ attempts: 1, statuses: [422] });
    } finally {
      await env.sim.control.clearFaults();
    }
  });

  it("appliance refusal (FortiOS 424, an interface it does not have): throws VNF_INVALID at once", async () => {
    // The rule names "wan" (a shim extension; what the old single --default-interface did to every
    // device): FortiOS answers 424, which the old shim passed on as 200 success:false.
    const result = await callAsNetworkElement(
      shim,
      ne(FORTI, "/firewall/rules", { ...web("ne-424-1", "443"), interface: "wan" }),
    );
    expect(result.reading).toMatchObject({ outcome: "throws", errorCode: "VNF_INVALID" });
    expect(result).toMatchObject({ attempts: 1, statuses: [422] });
    expect(
      await callAsNetworkElement(shim, ne(FORTI, "/firewall/rules/delete", { ruleId: "ne-424-1" })),
    ).toMatchObject({
      reading: { outcome: "success" },
    });
  });

  it("appliance hang: throws VNF_TIMEOUT after its 3 attempts; once the appliance answers, a repeat succeeds", async () => {
    const id = "ne-hang-1";
    await env.sim.control.injectFault({
      kind: "timeout",
      method: "POST",
      pathPrefix: "/api/v2/firewall/rule",
    });
    try {
      const result = await callAsNetworkElement(impatient, ne(PF, "/firewall/rules", web(id, "5432")));
      expect(result.reading).toMatchObject({ outcome: "throws", errorCode: "VNF_TIMEOUT" });
      expect(result).toMatchObject({ attempts: 3, pausesMs: [1000, 2000], statuses: [504, 504, 504] });
    } finally {
      await env.sim.control.clearFaults();
    }
    const later = await callAsNetworkElement(shim, ne(PF, "/firewall/rules", web(id, "5432")));
    expect(later.reading.outcome, JSON.stringify(later.reading)).toBe("success");
    expect((await pfRules()).filter((r) => String(r.descr).includes(`contract ${id}`))).toHaveLength(1);
  });

  it("appliance rate limit (429): throws VNF_RATE_LIMIT after retrying it", async () => {
    const id = "ne-429-1";
    await env.sim.control.injectFault({
      kind: "rateLimit",
      status: 429,
      retryAfterSeconds: 1,
      method: "POST",
    });
    try {
      // The first call starts the rule; once the operator has met the 429, every answer says so.
      await callAsNetworkElement(impatient, ne(PF, "/firewall/rules", web(id, "6379")));
      await env.waitCondition(
        "vnffirewallrules",
        ruleResourceName("firewall", id),
        (obj) => statusOf(obj).errorCode === "VNF_RATE_LIMIT",
        "errorCode VNF_RATE_LIMIT",
      );
      const result = await callAsNetworkElement(impatient, ne(PF, "/firewall/rules", web(id, "6379")));
      expect(result.reading).toMatchObject({ outcome: "throws", errorCode: "VNF_RATE_LIMIT" });
      expect(result).toMatchObject({ attempts: 3, statuses: [429, 429, 429] });
    } finally {
      await env.sim.control.clearFaults();
    }
    const later = await callAsNetworkElement(shim, ne(PF, "/firewall/rules", web(id, "6379")));
    expect(later.reading.outcome, JSON.stringify(later.reading)).toBe("success");
  });

  it("the shim's own rate limit: 429 VNF_RATE_LIMIT, which it retries", async () => {
    const busy = await mint("--lifetime", "10m", "--subject", "busy-element");
    const list = () => ne(PF, "/firewall/rules/delete", { ruleId: "nothing-here" }, busy);
    for (let i = 0; i < 2; i++)
      expect((await callAsNetworkElement(limited, list())).reading).toMatchObject({ outcome: "success" });
    const result = await callAsNetworkElement(limited, list());
    expect(result.reading).toMatchObject({ outcome: "throws", errorCode: "VNF_RATE_LIMIT" });
    expect(result).toMatchObject({ attempts: 3, statuses: [429, 429, 429] });
  });

  it.each<[string, () => Promise<string | undefined>, number]>([
    ["no token", async () => undefined, 401],
    [
      "an expired token",
      async () =>
        new SignJWT({})
          .setProtectedHeader({ alg: "HS256" })
          .setSubject("cloudstack-mgmt")
          .setExpirationTime(Math.floor(Date.now() / 1000) - 600)
          .sign(new TextEncoder().encode(SECRET)),
      401,
    ],
    [
      "another secret",
      async () =>
        new SignJWT({})
          .setProtectedHeader({ alg: "HS256" })
          .setSubject("cloudstack-mgmt")
          .setExpirationTime("5m")
          .sign(new TextEncoder().encode("another-secret-of-at-least-32-bytes-long")),
      401,
    ],
    [
      "RS256 where HS256 is configured (algorithm confusion)",
      async () =>
        new SignJWT({ scope: "vnf:rw" })
          .setProtectedHeader({ alg: "RS256" })
          .setSubject("cloudstack-mgmt")
          .setIssuedAt()
          .setExpirationTime("5m")
          .sign(generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey),
      401,
    ],
    [
      "alg none",
      async () =>
        `${Buffer.from('{"alg":"none"}').toString("base64url")}.${Buffer.from(
          JSON.stringify({ sub: "x", exp: Math.floor(Date.now() / 1000) + 300 }),
        ).toString("base64url")}.`,
      401,
    ],
    ["a read-only token on a write", async () => readToken, 403],
  ])("%s: throws at once (no retry), nothing written", async (_what, bearer, status) => {
    const request = ne(PF, "/firewall/rules", web("ne-auth-1", "993"));
    const value = await bearer();
    if (value === undefined) delete request.headers.authorization;
    else request.headers.authorization = `Bearer ${value}`;
    const result = await callAsNetworkElement(shim, request);
    expect(result.reading.outcome).toBe("throws");
    expect(result).toMatchObject({ attempts: 1, statuses: [status] });
    expect(await rule("ne-auth-1")).toBeUndefined();
  });

  it("an unknown instance (404) and an X-VNF-Vendor that is not the device's (422): throws at once", async () => {
    const unknown = await callAsNetworkElement(shim, ne("999", "/firewall/rules", web("ne-404-1", "80")));
    expect(unknown).toMatchObject({ attempts: 1, statuses: [404], reading: { outcome: "throws" } });
    const request = ne(PF, "/firewall/rules", web("ne-vendor-1", "80"));
    request.headers["x-vnf-vendor"] = "FortiGate";
    const vendor = await callAsNetworkElement(shim, request);
    expect(vendor).toMatchObject({
      attempts: 1,
      statuses: [422],
      reading: { outcome: "throws", errorCode: "BROKER_INVALID_REQUEST" },
    });
    expect(await rule("ne-vendor-1")).toBeUndefined();
  });

  it("refuses a connection without a client certificate from the configured CA (mTLS)", async () => {
    const bare = new Agent({ connect: { rejectUnauthorized: false } });
    try {
      const port = ((shims[0] as ShimServer).server.address() as { port: number }).port;
      const result = await exchangeWith(
        `https://127.0.0.1:${port}`,
        bare,
      )(serviceRequest("GET", "/health", token));
      expect(result).toHaveProperty("ioError");
    } finally {
      await bare.close();
    }
  });

  it("unknown routes answer 401 to a caller without a valid token, 404/405 only to one with", async () => {
    const probe = (method: "GET" | "PUT", p: string, bearer?: string) =>
      shim({ method, path: p, headers: bearer ? { authorization: `Bearer ${bearer}` } : {} });
    expect(await probe("GET", "/admin/secrets")).toMatchObject({ status: 401 });
    expect(await probe("GET", "/admin/secrets", token)).toMatchObject({ status: 404 });
    expect(await probe("PUT", "/firewall/rules")).toMatchObject({ status: 401 });
    expect(await probe("PUT", "/firewall/rules", token)).toMatchObject({ status: 405 });
  });
});

// ---- broker.VnfBrokerClient (VnfServiceImpl, global vnf.broker.url) --------------------------------

describe(`${SERVICE_CLIENT.name} (${SERVICE_CLIENT.version})`, () => {
  it("health (testConnectivity): returns status, timestamp, kubernetes and redis", async () => {
    const result = await callAsService(shim, serviceRequest("GET", "/health", token));
    expect(result.reading.outcome).toBe("returns");
    const body = JSON.parse(result.reading.outcome === "returns" ? result.reading.body : "{}");
    expect(body).toMatchObject({ status: "healthy", kubernetes: "reachable", redis: "not-used" });
    expect(Date.parse(body.timestamp)).not.toBeNaN();
  });

  it("firewall create with the body the service really sends ({}): a refusal it does not retry", async () => {
    const result = await callAsService(shim, serviceRequest("POST", "/rules/firewall", token, {}));
    expect(result.reading.outcome).toBe("throws");
    expect(result).toMatchObject({ attempts: 1, statuses: [400] });
  });

  describe("a rule through /rules/firewall", () => {
    const ruleId = "svc-rule-1";
    let vendorRef = "";
    it("create: returns the rule with its vendorRef", async () => {
      const result = await callAsService(
        shim,
        serviceRequest("POST", "/rules/firewall", token, {
          vnfInstanceId: PF,
          ...networkElementFirewall({
            ruleId,
            action: "deny",
            protocol: "udp",
            sourceAddressing: "any",
            destinationAddressing: "10.0.20.0/24",
            destinationPorts: "53",
            description: "contract svc dns",
          }),
        }),
      );
      expect(result.reading).toMatchObject({ outcome: "returns", status: 201 });
      vendorRef = JSON.parse(result.reading.outcome === "returns" ? result.reading.body : "{}").vendorRef;
      expect((await pfRules()).find((r) => String(r.tracker) === vendorRef)).toMatchObject({ type: "block" });
    });

    it('update with {"action","enabled"}: returns; the appliance rule changed', async () => {
      const result = await callAsService(
        shim,
        serviceRequest("PUT", `/rules/firewall/${ruleId}`, token, { action: "allow", enabled: false }),
      );
      expect(result.reading).toMatchObject({ outcome: "returns", status: 200 });
      const updated = (await pfRules()).find((r) => String(r.tracker) === vendorRef);
      expect(updated).toMatchObject({ type: "pass", disabled: true });
    });

    it("delete (DELETE /rules/firewall/{id}): returns; gone", async () => {
      const result = await callAsService(shim, serviceRequest("DELETE", `/rules/firewall/${ruleId}`, token));
      expect(result.reading).toMatchObject({ outcome: "returns", status: 200 });
      expect((await pfRules()).some((r) => String(r.tracker) === vendorRef)).toBe(false);
    });
  });

  it("NAT with the service's payload: a port forward, its ruleId derived, a retry lands on the same rule", async () => {
    const payload = {
      vnfInstanceId: PF,
      networkId: NETWORK,
      publicIp: "198.51.100.7",
      publicPort: 2222,
      privateIp: "10.0.10.30",
      privatePort: 22,
      protocol: "tcp",
    };
    const first = await callAsService(shim, serviceRequest("POST", "/rules/nat", token, payload));
    expect(first.reading).toMatchObject({ outcome: "returns", status: 201 });
    const body = JSON.parse(first.reading.outcome === "returns" ? first.reading.body : "{}");
    expect(body.ruleId).toMatch(/^nat-[0-9a-f]{32}$/);
    const again = await callAsService(shim, serviceRequest("POST", "/rules/nat", token, payload));
    expect(again.reading).toMatchObject({ outcome: "returns", status: 200 });
    expect(JSON.parse(again.reading.outcome === "returns" ? again.reading.body : "{}").ruleId).toBe(
      body.ruleId,
    );
    const obj = await env.find<KubeObj>("vnfnatrules", ruleResourceName("nat", body.ruleId));
    expect(obj?.spec).toMatchObject({
      type: "dnat",
      interface: "wan",
      destination: { address: "198.51.100.7", port: "2222" },
      translated: { address: "10.0.10.30", port: "22" },
    });
    const marker = ruleMarkerText(obj?.metadata.uid ?? "");
    expect(await objectsContaining(env.sim, "natRule", marker, "running")).toHaveLength(1);
    const deleted = await callAsService(shim, serviceRequest("DELETE", `/rules/nat/${body.ruleId}`, token));
    expect(deleted.reading).toMatchObject({ outcome: "returns", status: 200 });
    expect(await objectsContaining(env.sim, "natRule", marker, "running")).toHaveLength(0);
  });

  it("appliance refusal: a 4xx, so the service gets CloudException at once (no retry)", async () => {
    await env.sim.control.injectFault({
      kind: "status",
      status: 400,
      method: "POST",
      pathPrefix: "/api/v2/firewall/rule",
    });
    try {
      const result = await callAsService(
        shim,
        serviceRequest("POST", "/rules/firewall", token, {
          vnfInstanceId: PF,
          ...networkElementFirewall({
            ruleId: "svc-refused-1",
            action: "allow",
            protocol: "tcp",
            sourceAddressing: "any",
            destinationAddressing: "10.0.30.1",
            destinationPorts: "22",
          }),
        }),
      );
      expect(result).toMatchObject({ attempts: 1, statuses: [422], reading: { outcome: "throws" } });
    } finally {
      await env.sim.control.clearFaults();
    }
  });

  it("appliance hang: a 5xx, which it retries (4 attempts, 1 s / 2 s / 4 s)", async () => {
    await env.sim.control.injectFault({
      kind: "timeout",
      method: "POST",
      pathPrefix: "/api/v2/firewall/rule",
    });
    try {
      const result = await callAsService(
        impatient,
        serviceRequest("POST", "/rules/firewall", token, {
          vnfInstanceId: PF,
          ...networkElementFirewall({
            ruleId: "svc-hang-1",
            action: "allow",
            protocol: "tcp",
            sourceAddressing: "any",
            destinationAddressing: "10.0.30.2",
            destinationPorts: "23",
          }),
        }),
      );
      expect(result).toMatchObject({
        attempts: 4,
        pausesMs: [1000, 2000, 4000],
        statuses: [504, 504, 504, 504],
        reading: { outcome: "throws" },
      });
    } finally {
      await env.sim.control.clearFaults();
    }
  });

  it("the shim's own rate limit: 503 to this client (it does not retry a 4xx), retried", async () => {
    const busy = await mint("--lifetime", "10m", "--subject", "busy-service");
    const health = () => serviceRequest("GET", `/rules/firewall?vnfInstanceId=${PF}`, busy);
    for (let i = 0; i < 2; i++)
      expect((await callAsService(limited, health())).reading.outcome).toBe("returns");
    const result = await callAsService(limited, health());
    expect(result).toMatchObject({
      attempts: 4,
      statuses: [503, 503, 503, 503],
      reading: { outcome: "throws" },
    });
  });

  describe("reconcile (POST /reconcile/{networkId})", () => {
    const ruleId = "svc-drift-1";
    let vendorRef = "";
    beforeAll(async () => {
      const created = await callAsNetworkElement(shim, ne(PF, "/firewall/rules", web(ruleId, "8080")));
      expect(created.reading.outcome).toBe("success");
      vendorRef = created.reading.outcome === "success" ? created.reading.vendorRef : "";
    });

    it("without force: the network's rules, in sync; the service reads no drift", async () => {
      const result = await callAsService(
        shim,
        serviceRequest("POST", `/reconcile/${NETWORK}`, token, { force: false }),
      );
      expect(result.reading).toMatchObject({ outcome: "returns", status: 200 });
      expect(serviceReadsDrift(result.reading)).toBe(false);
      const body = JSON.parse(result.reading.outcome === "returns" ? result.reading.body : "{}");
      expect(body).toMatchObject({ networkId: NETWORK, driftDetected: false, forced: false });
      expect(body.devices).toHaveLength(2);
      expect(body.rules).toEqual(
        expect.arrayContaining([expect.objectContaining({ ruleId, state: "InSync" })]),
      );
    });

    it("with force: a drift check runs now and finds the rule deleted behind the operator's back", async () => {
      await env.sim.control.deleteObject("firewallRule", vendorRef);
      const result = await callAsService(
        shim,
        serviceRequest("POST", `/reconcile/${NETWORK}`, token, { force: true }),
      );
      expect(result.reading).toMatchObject({ outcome: "returns", status: 200 });
      expect(serviceReadsDrift(result.reading)).toBe(true);
      const body = JSON.parse(result.reading.outcome === "returns" ? result.reading.body : "{}");
      expect(body).toMatchObject({
        forced: true,
        checkCompleted: true,
        driftDetected: true,
        missingRules: 1,
      });
      // The devices have no driftDetection: the requested check reports, it does not repair.
      expect(body.rules).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            ruleId,
            state: "Drifted",
            driftFields: ["missing"],
            driftAction: "Reported",
          }),
        ]),
      );
      const stored = statusOf((await rule(ruleId)) as KubeObj);
      expect(stored.drift).toMatchObject({ action: "Reported", fields: ["missing"] });
      // Both devices ran their check now, the one with a 24 h interval included.
      expect(body.devices).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ name: env.deviceName, driftDetection: "Off", checkCompleted: true }),
          expect.objectContaining({ name: "forti-dev", driftDetection: "Repair", checkCompleted: true }),
        ]),
      );
    });

    it("an unknown network: 404, which the service turns into 'no drift'", async () => {
      const result = await callAsService(
        shim,
        serviceRequest("POST", "/reconcile/999", token, { force: true }),
      );
      expect(result).toMatchObject({ attempts: 1, statuses: [404] });
      expect(serviceReadsDrift(result.reading)).toBe(false);
    });
  });
});

describe("operations", () => {
  it("metrics behind the token, or on a separate listener only", async () => {
    const tokenShim = createShimServer({
      kubeConfig: env.kc,
      namespaces: [env.namespace],
      jwt: { algorithm: "HS256", key: new TextEncoder().encode(SECRET), clockToleranceSec: 30 },
      metrics: "token",
    });
    const separate = createShimServer({
      kubeConfig: env.kc,
      namespaces: [env.namespace],
      jwt: { algorithm: "HS256", key: new TextEncoder().encode(SECRET), clockToleranceSec: 30 },
      metrics: "separate",
    });
    shims.push(tokenShim, separate);
    const at = async (s: ShimServer, listen: "listen" | "listenMetrics", p: string, bearer?: string) => {
      const port = (await s[listen](0, "127.0.0.1")).port;
      const response = await request(`http://127.0.0.1:${port}${p}`, {
        headers: bearer ? { authorization: `Bearer ${bearer}` } : {},
      });
      await response.body.text();
      return response.statusCode;
    };
    expect(await at(tokenShim, "listen", "/metrics")).toBe(401);
    const tokenPort = (tokenShim.server.address() as { port: number }).port;
    const authorised = await request(`http://127.0.0.1:${tokenPort}/metrics`, {
      headers: { authorization: `Bearer ${readToken}` },
    });
    expect(authorised.statusCode).toBe(200);
    expect(await authorised.body.text()).toContain("vnf_shim_http_requests_total");
    expect(await at(separate, "listen", "/metrics", token)).toBe(404);
    expect(await at(separate, "listenMetrics", "/metrics.prom")).toBe(200);
  });

  it("logs each request with its correlation id and route, never a token", () => {
    expect(logLines.some((l) => l.includes('"route":"reconcile"') && l.includes('"correlationId":'))).toBe(
      true,
    );
    for (const line of logLines) {
      expect(line).not.toContain(token.split(".")[2]);
      expect(line).not.toMatch(/Bearer/i);
    }
  });
});
