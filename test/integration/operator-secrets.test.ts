// Secrets by reference only: the operator watches only Secrets labelled vnf-operator.io/credentials=true
// (and, with credentialNamespaces, only in those namespaces). Any other Secret of the namespace is
// neither cached nor usable by a VnfDevice: a device pointing at one gets CredentialsNotFound with the
// fix in the message; labelling the Secret makes the device Ready at once (watch), removing the label
// takes the credentials away again, and a rotated password is picked up without a restart.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CREDENTIALS_LABEL, CREDENTIALS_SELECTOR } from "../../src/api/group.ts";
import { CoreResources } from "../../src/runtime/resource.ts";
import { createTestNamespace, waitUntil } from "../support/kube.ts";
import {
  conditionOf,
  GROUP,
  type KubeObj,
  lastSeq,
  type OperatorEnv,
  startOperatorEnv,
  VERSION,
} from "../support/operator-env.ts";

let env: OperatorEnv;
const unrelated = `db-password-${randomBytes(6).toString("hex")}`;

const ready = (o: KubeObj) => conditionOf(o, "Ready");

function cachedSecrets(namespace: string): string[] {
  return env.operator.manager
    .informer(CoreResources.secrets, { labelSelector: CREDENTIALS_SELECTOR })
    .list(namespace)
    .map((s) => s.metadata?.name ?? "")
    .sort();
}

async function setLabel(name: string, on: boolean): Promise<void> {
  const result = await env.kubectl([
    "label",
    "secret",
    name,
    on ? `${CREDENTIALS_LABEL}=true` : `${CREDENTIALS_LABEL}-`,
  ]);
  expect(result.code, result.stderr).toBe(0);
}

beforeAll(async () => {
  env = await startOperatorEnv({ vendor: "pfsense", prefix: "op-secrets" });
  await env.waitReady("vnfdevices", env.deviceName);
  await env.core.createNamespacedSecret({
    namespace: env.namespace,
    body: { metadata: { name: "database" }, stringData: { password: unrelated } },
  });
  // The pfSense credentials again, in a Secret without the label.
  await env.core.createNamespacedSecret({
    namespace: env.namespace,
    body: { metadata: { name: "unlabelled-credentials" }, stringData: env.sim.credentials },
  });
});

afterAll(async () => {
  await env?.stop();
});

describe("only labelled Secrets", () => {
  it("are cached: an unrelated Secret of the namespace is not", async () => {
    expect(cachedSecrets(env.namespace)).toEqual([`${env.deviceName}-ca`, `${env.deviceName}-credentials`]);
  });

  it("can be used: a device naming an unlabelled Secret gets CredentialsNotFound with the fix", async () => {
    await env.apply({
      apiVersion: `${GROUP}/${VERSION}`,
      kind: "VnfDevice",
      metadata: { name: "second" },
      spec: {
        vendor: "pfsense",
        endpoint: env.sim.url,
        credentialsSecretRef: { name: "unlabelled-credentials" },
        tls: { caSecretRef: { name: `${env.deviceName}-ca` } },
      },
    });
    const obj = await env.waitCondition(
      "vnfdevices",
      "second",
      (o) => ready(o)?.reason === "CredentialsNotFound",
      "Ready=False CredentialsNotFound",
    );
    // Within the grace period after the device's creation (the Secret may still be on its way).
    expect(String(ready(obj)?.message)).toMatch(
      new RegExp(
        `^Secret ${env.namespace}/unlabelled-credentials \\(spec\\.credentialsSecretRef\\) was not found among the credential Secrets the operator reads: it must exist and carry the label ${CREDENTIALS_SELECTOR.replace(/[./]/g, "\\$&")}: create or label it \\(waiting up to \\d+ s more for it, then Stalled\\)$`,
      ),
    );
  });

  it("labelling the Secret makes the device Ready; removing the label takes the credentials away", async () => {
    await setLabel("unlabelled-credentials", true);
    await env.waitReady("vnfdevices", "second");
    await setLabel("unlabelled-credentials", false);
    await env.waitCondition(
      "vnfdevices",
      "second",
      (o) => ready(o)?.reason === "CredentialsNotFound",
      "Ready=False CredentialsNotFound again",
    );
    expect(cachedSecrets(env.namespace)).not.toContain("unlabelled-credentials");
  });

  it("a Secret without a key the dictionary's auth reads: CredentialsInvalid naming it, before any appliance call; adding it makes the device Ready", async () => {
    const { password: _password, ...withoutPassword } = env.sim.credentials;
    await env.core.createNamespacedSecret({
      namespace: env.namespace,
      body: {
        metadata: { name: "partial-credentials", labels: { [CREDENTIALS_LABEL]: "true" } },
        stringData: withoutPassword,
      },
    });
    await env.apply({
      apiVersion: `${GROUP}/${VERSION}`,
      kind: "VnfDevice",
      metadata: { name: "third" },
      spec: {
        vendor: "pfsense",
        endpoint: env.sim.url,
        credentialsSecretRef: { name: "partial-credentials" },
        tls: { caSecretRef: { name: `${env.deviceName}-ca` } },
      },
    });
    const obj = await env.waitCondition(
      "vnfdevices",
      "third",
      (o) => ready(o)?.reason === "CredentialsInvalid",
      "Ready=False CredentialsInvalid",
    );
    // A Secret that exists but lacks a key needs a person at once: Stalled, no grace period.
    expect(conditionOf(obj, "Stalled")?.status).toBe("True");
    const dictionary = env.operator.dictionaries.all().find((d) => d.vendor === "pfsense");
    expect(dictionary?.credentialKeys).toEqual(["password", "username"]);
    expect(String(ready(obj)?.message)).toBe(
      `Secret ${env.namespace}/partial-credentials lacks the key(s) password that dictionary ${dictionary?.name} needs: add them`,
    );
    // No health check was made: nothing the appliance reports is recorded.
    expect((obj as { status?: { vendorVersion?: string } }).status?.vendorVersion).toBeUndefined();
    await env.core.replaceNamespacedSecret({
      namespace: env.namespace,
      name: "partial-credentials",
      body: {
        metadata: { name: "partial-credentials", labels: { [CREDENTIALS_LABEL]: "true" } },
        stringData: env.sim.credentials,
      },
    });
    await env.waitReady("vnfdevices", "third");
  });

  it("a rotated password is picked up at once (the Secret watch), without a restart", async () => {
    const rotated = { ...env.sim.credentials, password: `rotated-${randomBytes(6).toString("hex")}` };
    const before = await lastSeq(env.sim);
    await env.sim.control.setCredentials(rotated);
    await env.core.replaceNamespacedSecret({
      namespace: env.namespace,
      name: `${env.deviceName}-credentials`,
      body: {
        metadata: { name: `${env.deviceName}-credentials`, labels: { [CREDENTIALS_LABEL]: "true" } },
        stringData: rotated,
      },
    });
    // The simulator accepts only the new password now: a successful login after the rotation used it.
    await waitUntil(
      "a login with the rotated password",
      async () =>
        (await env.sim.control.requests()).some(
          (r) => r.seq > before && r.path.endsWith("/auth/jwt") && r.status === 200,
        ),
      30_000,
    );
    await env.waitReady("vnfdevices", env.deviceName);
  });
});

describe("credentialNamespaces", () => {
  it("keeps the operator out of every other namespace's Secrets, and says so on the device", async () => {
    const elsewhere = await createTestNamespace(env.kc, "op-secrets-creds");
    await env.operator.stop();
    await env.startOperator({ namespaces: [env.namespace, elsewhere], credentialNamespaces: [elsewhere] });
    const obj = await env.waitCondition(
      "vnfdevices",
      env.deviceName,
      (o) => ready(o)?.reason === "CredentialsNotFound",
      "Ready=False CredentialsNotFound",
    );
    expect(String(ready(obj)?.message)).toMatch(
      new RegExp(
        `cannot be read: the operator reads credential Secrets only in ${elsewhere} \\(--credential-namespaces\\)`,
      ),
    );
    expect(cachedSecrets(env.namespace)).toEqual([]);
  });
});
