// SSRF through the real operator: VnfDevices whose endpoints lead to a canary HTTPS server on
// 127.0.0.2 (outside the test allow-list 127.0.0.1/32) in every spelling, behind a DNS name (an
// injected resolver: CANARY_NAME is in the reserved .invalid TLD, so no real DNS can answer it) and
// behind a redirect from an allowed address. Every one ends Ready=False with a reason that says what
// to do, and the canary receives nothing: no connection, no credential. Plain http:// needs the
// spec's opt-in. Then an operator whose allow-list covers 127.0.0.2 does reach the canary and sends
// the credentials (the canary would see a leak), and the canary's answer stays out of status and Events.

import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CREDENTIALS_LABEL } from "../../src/api/group.ts";
import {
  CANARY_NAME,
  CANARY_TEXT,
  type Canary,
  canaryLookup,
  startCanary,
  startRedirector,
} from "../support/canary.ts";
import { waitUntil } from "../support/kube.ts";
import {
  conditionOf,
  GROUP,
  type KubeObj,
  type OperatorEnv,
  SIMULATOR_CIDR,
  startOperatorEnv,
  VERSION,
} from "../support/operator-env.ts";

let env: OperatorEnv;
let canary: Canary;
let redirector: Canary;
const passwords = new Map<string, string>();

const lookup = canaryLookup as never;

async function device(name: string, endpoint: string, caSecret: string, extra: Record<string, unknown> = {}) {
  const password = `pw-${name}-${randomBytes(6).toString("hex")}`;
  passwords.set(name, password);
  await env.core.createNamespacedSecret({
    namespace: env.namespace,
    body: {
      metadata: { name: `${name}-credentials`, labels: { [CREDENTIALS_LABEL]: "true" } },
      stringData: { username: "admin", password },
    },
  });
  await env.apply({
    apiVersion: `${GROUP}/${VERSION}`,
    kind: "VnfDevice",
    metadata: { name },
    spec: {
      vendor: "pfsense",
      endpoint,
      credentialsSecretRef: { name: `${name}-credentials` },
      ...(endpoint.startsWith("https://") ? { tls: { caSecretRef: { name: caSecret } } } : {}),
      ...extra,
    },
  });
}

const readyReason = (obj: KubeObj) => conditionOf(obj, "Ready");

beforeAll(async () => {
  canary = await startCanary();
  redirector = await startRedirector(canary.url);
  env = await startOperatorEnv({
    vendor: "pfsense",
    prefix: "op-ssrf",
    operator: { endpointPolicy: { allowCidrs: [SIMULATOR_CIDR], lookup } },
  });
  for (const [name, pem] of [
    ["canary-ca", canary.caPem],
    ["redirector-ca", redirector.caPem],
  ] as const) {
    await env.core.createNamespacedSecret({
      namespace: env.namespace,
      body: {
        metadata: { name, labels: { [CREDENTIALS_LABEL]: "true" } },
        stringData: { "ca.crt": pem },
      },
    });
  }
});

afterAll(async () => {
  await env?.stop();
  await canary?.stop();
  await redirector?.stop();
});

const FORBIDDEN: Array<[string, () => string]> = [
  ["by-address", () => `https://127.0.0.2:${canary.port}`],
  ["by-number", () => `https://2130706434:${canary.port}`],
  ["by-hex", () => `https://0x7f000002:${canary.port}`],
  ["by-mapped-ipv6", () => `https://[::ffff:127.0.0.2]:${canary.port}`],
  ["by-name", () => `https://${CANARY_NAME}:${canary.port}`],
];

describe("forbidden endpoints, through the operator", () => {
  it("refuses each one with Ready=False EndpointNotAllowed and sends the canary nothing", async () => {
    for (const [name, endpoint] of FORBIDDEN) await device(name, endpoint(), "canary-ca");
    for (const [name] of FORBIDDEN) {
      const obj = await env.waitCondition(
        "vnfdevices",
        name,
        (o) => readyReason(o)?.reason === "EndpointNotAllowed",
        "Ready=False EndpointNotAllowed",
      );
      const ready = readyReason(obj);
      expect(ready?.status).toBe("False");
      expect(String(ready?.message)).toMatch(/127\.0\.0\.2.* is a loopback address.*--endpoint-allow-cidrs/);
      expect(conditionOf(obj, "Stalled")?.status).toBe("True");
      expect((obj.status as { errorCode?: string }).errorCode).toBe("BROKER_INVALID_REQUEST");
    }
    expect(canary.connections()).toBe(0);
    expect(canary.requests()).toEqual([]);
  });

  it("does not follow a redirect from an allowed address to the canary", async () => {
    await device("by-redirect", redirector.url, "redirector-ca");
    const obj = await env.waitCondition(
      "vnfdevices",
      "by-redirect",
      (o) => /a redirect: the operator never follows one/.test(String(readyReason(o)?.message)),
      "Ready=False with the redirect explained",
    );
    expect(readyReason(obj)?.status).toBe("False");
    expect(redirector.requests().length).toBeGreaterThan(0);
    expect(canary.connections()).toBe(0);
  });

  it("needs the spec's opt-in for plain http://, and then still applies the address policy", async () => {
    await expect(device("plain-http", `http://127.0.0.2:${canary.port}`, "canary-ca")).rejects.toThrow(
      /sends the credentials unencrypted: use https:\/\/, or set allowInsecureHttp: true/,
    );
    await device("plain-http-opted-in", `http://127.0.0.2:${canary.port}`, "canary-ca", {
      allowInsecureHttp: true,
    });
    await env.waitCondition(
      "vnfdevices",
      "plain-http-opted-in",
      (o) => readyReason(o)?.reason === "EndpointNotAllowed",
      "Ready=False EndpointNotAllowed",
    );
    expect(canary.connections()).toBe(0);
  });
});

describe("an allow-list that covers the canary", () => {
  it("opens it: the credentials then reach it, and its answer stays out of status and Events", async () => {
    await env.operator.stop();
    await env.startOperator({
      endpointPolicy: { allowCidrs: [SIMULATOR_CIDR, "127.0.0.2/32"], lookup },
    });
    const basic = (name: string) =>
      `Basic ${Buffer.from(`admin:${passwords.get(name) ?? ""}`).toString("base64")}`;
    await waitUntil(
      "the canary to receive by-address's and by-name's credentials",
      async () => {
        const seen = canary.requests().map((r) => r.headers.authorization);
        return seen.includes(basic("by-address")) && seen.includes(basic("by-name"));
      },
      30_000,
    );
    // The canary answers text where the login expects a JSON token: the device is not Ready, and
    // says so without quoting the answer.
    const obj = await env.waitCondition(
      "vnfdevices",
      "by-address",
      (o) => readyReason(o)?.status === "False" && readyReason(o)?.reason !== "EndpointNotAllowed",
      "Ready=False after reaching the canary",
    );
    expect(String(readyReason(obj)?.message)).toMatch(/auth\.login/);
    expect(JSON.stringify(obj.status)).not.toContain(CANARY_TEXT);
    const events = await env.kubectl(["get", "events.events.k8s.io", "-o", "json"]);
    expect(events.code).toBe(0);
    expect(events.stdout).toContain("by-address");
    expect(events.stdout).not.toContain(CANARY_TEXT);
  });
});
