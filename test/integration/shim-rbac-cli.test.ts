// The shim with only the RBAC docs/cloudstack-shim.md lists (a ServiceAccount token, no operator
// running), and `vnf-operator shim` as a real process configured by flags (HS256, plain HTTP).
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { CoreV1Api, CustomObjectsApi, KubeConfig, RbacAuthorizationV1Api } from "@kubernetes/client-node";
import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ANNOTATION_DEFAULT_INTERFACE,
  LABEL_NETWORK_ID,
  LABEL_VNF_INSTANCE,
  ruleResourceName,
} from "../../src/shim/names.ts";
import { createShimServer, type ShimServer } from "../../src/shim/server.ts";
import { installCrds } from "../support/crd-install.ts";
import { createTestNamespace, kubeconfigPath, testKubeConfig, waitUntil } from "../support/kube.ts";
import { repoRoot } from "../support/operator-env.ts";

const SECRET = "shim-test-secret-0123456789abcdef0123";
const INSTANCE = "77";
let kc: KubeConfig;
let namespace: string;
let custom: CustomObjectsApi;

async function hsToken(scope = "vnf:rw"): Promise<string> {
  return new SignJWT({ scope })
    .setProtectedHeader({ alg: "HS256" })
    .setSubject("cloudstack-mgmt")
    .setIssuedAt()
    .setExpirationTime("5m")
    .sign(new TextEncoder().encode(SECRET));
}

async function call(base: string, method: string, p: string, body?: unknown) {
  const response = await fetch(`${base}${p}`, {
    method,
    headers: { authorization: `Bearer ${await hsToken()}`, "content-type": "application/json" },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** A KubeConfig that authenticates as a ServiceAccount bound to a Role with exactly `verbs` on rules. */
async function serviceAccountConfig(name: string, ruleVerbs: string[]): Promise<KubeConfig> {
  const core = kc.makeApiClient(CoreV1Api);
  const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
  await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } });
  await rbac.createNamespacedRole({
    namespace,
    body: {
      metadata: { name },
      rules: [
        // patch: the one annotation that asks for a drift check (POST /reconcile with force).
        { apiGroups: ["vnf-operator.io"], resources: ["vnfdevices"], verbs: ["get", "list", "patch"] },
        { apiGroups: ["vnf-operator.io"], resources: ["vnffirewallrules", "vnfnatrules"], verbs: ruleVerbs },
      ],
    },
  });
  await rbac.createNamespacedRoleBinding({
    namespace,
    body: {
      metadata: { name },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name },
      subjects: [{ kind: "ServiceAccount", name, namespace }],
    },
  });
  const token = await core.createNamespacedServiceAccountToken({
    name,
    namespace,
    body: { spec: { audiences: [], expirationSeconds: 3600 } },
  });
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error("no cluster");
  const sa = new KubeConfig();
  sa.loadFromOptions({
    clusters: [{ ...cluster, name: "test" }],
    users: [{ name, token: token.status?.token ?? "" }],
    contexts: [{ name, cluster: "test", user: name }],
    currentContext: name,
  });
  return sa;
}

beforeAll(async () => {
  kc = testKubeConfig();
  await installCrds(kc);
  namespace = await createTestNamespace(kc, "shim-rbac");
  custom = kc.makeApiClient(CustomObjectsApi);
  await custom.createNamespacedCustomObject({
    group: "vnf-operator.io",
    version: "v1alpha1",
    namespace,
    plural: "vnfdevices",
    body: {
      apiVersion: "vnf-operator.io/v1alpha1",
      kind: "VnfDevice",
      metadata: {
        name: "edge",
        labels: { [LABEL_VNF_INSTANCE]: INSTANCE, [LABEL_NETWORK_ID]: "204" },
        annotations: { [ANNOTATION_DEFAULT_INTERFACE]: "wan" },
      },
      spec: { vendor: "pfsense", endpoint: "https://192.0.2.1", credentialsSecretRef: { name: "none" } },
    },
  });
});

const rule = (ruleId: string) => ({
  ruleId,
  action: "allow",
  protocol: "tcp",
  sourceAddressing: "any",
  destinationAddressing: "10.0.0.1",
  destinationPorts: "22",
});

describe("the shim's minimal RBAC", () => {
  let shim: ShimServer | undefined;
  afterAll(async () => {
    await shim?.close();
  });

  async function start(kubeConfig: KubeConfig): Promise<string> {
    shim = createShimServer({
      kubeConfig,
      namespaces: [namespace],
      jwt: { algorithm: "HS256", key: new TextEncoder().encode(SECRET), clockToleranceSec: 30 },
      waitTimeoutMs: 300,
      pollIntervalMs: 100,
    });
    return `http://127.0.0.1:${(await shim.listen(0, "127.0.0.1")).port}`;
  }

  it("is enough for health, create (Pending without an operator), list, update, delete and a forced reconcile", async () => {
    const base = await start(
      await serviceAccountConfig("shim", ["get", "list", "create", "patch", "delete"]),
    );
    expect((await fetch(`${base}/health`)).status).toBe(200);
    const created = await call(base, "POST", `/vnf/${INSTANCE}/firewall/rules`, rule("rbac-1"));
    expect(created.status, JSON.stringify(created.body)).toBe(504);
    expect(created.body).toMatchObject({ success: false, state: "Pending", errorCode: "VNF_TIMEOUT" });
    const updated = await call(base, "PUT", `/rules/firewall/rbac-1`, { action: "deny" });
    expect(updated.status, JSON.stringify(updated.body)).toBe(504);
    const list = await call(base, "GET", `/rules/firewall?vnfInstanceId=${INSTANCE}`);
    expect(list.body).toMatchObject({
      count: 1,
      rules: [expect.objectContaining({ ruleId: "rbac-1", action: "deny" })],
    });
    const deleted = await call(base, "DELETE", `/rules/firewall/rbac-1`);
    expect(deleted.status, JSON.stringify(deleted.body)).toBe(200);
    // No operator runs the requested check: the annotation is written, the answer says "still running".
    const reconcile = await call(base, "POST", "/reconcile/204", { force: true });
    expect(reconcile.status, JSON.stringify(reconcile.body)).toBe(202);
    expect(reconcile.body).toMatchObject({ forced: true, checkCompleted: false, status: "Running" });
    const device = (await custom.getNamespacedCustomObject({
      group: "vnf-operator.io",
      version: "v1alpha1",
      namespace,
      plural: "vnfdevices",
      name: "edge",
    })) as { metadata: { annotations?: Record<string, string> } };
    expect(device.metadata.annotations?.["vnf-operator.io/drift-check-requested-at"]).toMatch(/^\d{4}-/);
    await shim?.close();
    shim = undefined;
  });

  it("cannot create rules without the create verb (server-side apply of a new object is a create)", async () => {
    const base = await start(await serviceAccountConfig("shim-nocreate", ["get", "list", "patch", "delete"]));
    const created = await call(base, "POST", `/vnf/${INSTANCE}/firewall/rules`, rule("rbac-2"));
    expect(created.status).toBe(500);
    expect(created.body.errorCode).toBe("BROKER_INTERNAL");
    const missing = await custom
      .getNamespacedCustomObject({
        group: "vnf-operator.io",
        version: "v1alpha1",
        namespace,
        plural: "vnffirewallrules",
        name: ruleResourceName("firewall", "rbac-2"),
      })
      .then(
        () => false,
        (error: { code?: number }) => error.code === 404,
      );
    expect(missing).toBe(true);
  });
});

describe("vnf-operator shim (process)", () => {
  it("starts from flags, serves /health and authenticates HS256, stops on SIGTERM", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "shim-cli-"));
    const secretFile = path.join(dir, "secret");
    writeFileSync(secretFile, `${SECRET}\n`);
    const child = spawn(
      process.execPath,
      [
        path.join(repoRoot, "src/cli/main.ts"),
        "shim",
        "--kubeconfig",
        kubeconfigPath(),
        "--namespaces",
        namespace,
        "--listen",
        "127.0.0.1:0",
        "--jwt-algorithm",
        "HS256",
        "--jwt-key-file",
        secretFile,
        "--wait-timeout",
        "1",
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    try {
      const address = await waitUntil(
        "the shim listening",
        async () => /"address":"127\.0\.0\.1:(\d+)"/.exec(output)?.[1],
        20_000,
      );
      const base = `http://127.0.0.1:${address}`;
      expect((await fetch(`${base}/health`)).status).toBe(200);
      const invalid = await call(base, "POST", "/rules/firewall", { vnfInstanceId: INSTANCE });
      expect(invalid.status).toBe(400);
      expect((invalid.body.details as Array<{ loc: string[] }>).map((d) => d.loc.join("."))).toContain(
        "body.interface",
      );
      expect(output).not.toContain(SECRET);
      const exit = new Promise<number | null>((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      expect(await exit).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
