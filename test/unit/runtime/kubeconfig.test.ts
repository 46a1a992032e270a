// The runtime's own kubeconfig reading and API-server auth (src/runtime/kubeconfig.ts, kube-auth.ts):
// the same answers as @kubernetes/client-node's KubeConfig for the same files, without loading it.
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { kubeAuth } from "../../../src/runtime/kube-auth.ts";
import { KubeConfigFile } from "../../../src/runtime/kubeconfig.ts";

const b64 = (text: string) => Buffer.from(text).toString("base64");
const dir = mkdtempSync(path.join(os.tmpdir(), "kubeconfig-test-"));

function kubeconfig(user: Record<string, unknown>, cluster: Record<string, unknown> = {}): string {
  return JSON.stringify({
    apiVersion: "v1",
    kind: "Config",
    "current-context": "ctx",
    contexts: [
      { name: "other", context: { cluster: "nope", user: "nope" } },
      { name: "ctx", context: { cluster: "c", user: "u", namespace: "team-a" } },
    ],
    clusters: [{ name: "c", cluster: { server: "https://127.0.0.1:6443/", ...cluster } }],
    users: [{ name: "u", user }],
  });
}

function write(name: string, text: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

describe("KubeConfigFile", () => {
  it("reads the current context like client-node does (same cluster and user fields)", () => {
    write("ca.crt", "CA PEM");
    const file = write(
      "config-a",
      kubeconfig(
        { "client-certificate-data": b64("CERT"), "client-key": "key.pem", as: "someone" },
        { "certificate-authority": "ca.crt", "tls-server-name": "api.internal" },
      ),
    );
    const ours = KubeConfigFile.fromFile(file);
    const theirs = new KubeConfig();
    theirs.loadFromFile(file);
    for (const field of ["server", "caFile", "tlsServerName"] as const) {
      expect(ours.getCurrentCluster()[field]).toBe(theirs.getCurrentCluster()?.[field]);
    }
    for (const field of ["certData", "keyFile", "impersonateUser"] as const) {
      expect(ours.getCurrentUser()[field]).toBe(theirs.getCurrentUser()?.[field]);
    }
    expect(ours.getCurrentCluster().caFile).toBe(path.join(dir, "ca.crt"));
    expect(ours.namespace).toBe("team-a");
  });

  it.each([
    ["no current-context", JSON.stringify({ contexts: [] }), /no current-context/],
    ["an unknown context", JSON.stringify({ "current-context": "x", contexts: [] }), /no context named "x"/],
    [
      "a cluster without a server",
      JSON.stringify({
        "current-context": "ctx",
        contexts: [{ name: "ctx", context: { cluster: "c", user: "u" } }],
        clusters: [{ name: "c", cluster: {} }],
        users: [{ name: "u", user: {} }],
      }),
      /cluster c has no server/,
    ],
  ])("refuses %s with a message that says what is wrong", (_what, text, message) => {
    expect(() => KubeConfigFile.fromText(text, dir)).toThrow(message);
  });

  it("in a pod: the service account's token file, CA and namespace", () => {
    const sa = mkdtempSync(path.join(dir, "sa-"));
    writeFileSync(path.join(sa, "namespace"), "vnf-system\n");
    const config = KubeConfigFile.inCluster(sa, {
      KUBERNETES_SERVICE_HOST: "fd00::1",
      KUBERNETES_SERVICE_PORT: "443",
    });
    expect(config.getCurrentCluster().server).toBe("https://[fd00::1]:443");
    expect(config.getCurrentCluster().caFile).toBe(path.join(sa, "ca.crt"));
    expect(config.getCurrentUser().authProvider).toEqual({
      name: "tokenFile",
      config: { tokenFile: path.join(sa, "token") },
    });
    expect(config.namespace).toBe("vnf-system");
    expect(() => KubeConfigFile.inCluster(sa, {})).toThrow(/--kubeconfig or set KUBECONFIG/);
  });
});

describe("kubeAuth", () => {
  it.each([
    ["a token", { token: "abc" }, { authorization: "Bearer abc" }],
    ["basic auth", { username: "u", password: "p" }, { authorization: `Basic ${b64("u:p")}` }],
    ["a client certificate only", { "client-certificate-data": b64("C"), "client-key-data": b64("K") }, {}],
    ["impersonation", { token: "t", as: "bob" }, { authorization: "Bearer t", "Impersonate-User": "bob" }],
  ])("headers for %s", async (_what, user, headers) => {
    const auth = kubeAuth(KubeConfigFile.fromText(kubeconfig(user), dir));
    expect(await auth.headers()).toEqual(headers);
  });

  it("TLS from the cluster and the user (data or files), verification on unless skipped", () => {
    const auth = kubeAuth(
      KubeConfigFile.fromText(
        kubeconfig(
          { "client-certificate-data": b64("CERT"), "client-key-data": b64("KEY") },
          { "certificate-authority-data": b64("CA"), "tls-server-name": "api" },
        ),
        dir,
      ),
    );
    expect(auth.tls).toEqual({
      ca: "CA",
      cert: "CERT",
      key: "KEY",
      rejectUnauthorized: true,
      servername: "api",
    });
    expect(auth.server).toBe("https://127.0.0.1:6443");
    const insecure = kubeAuth(
      KubeConfigFile.fromText(kubeconfig({}, { "insecure-skip-tls-verify": true }), dir),
    );
    expect(insecure.tls.rejectUnauthorized).toBe(false);
  });

  it("re-reads a token file once a minute (projected service-account tokens rotate)", async () => {
    const token = write("token", "first\n");
    let now = 0;
    const auth = kubeAuth(KubeConfigFile.fromText(kubeconfig({ "token-file": token }), dir), () => now);
    expect(await auth.headers()).toEqual({ authorization: "Bearer first" });
    writeFileSync(token, "second");
    now = 59_000;
    expect(await auth.headers()).toEqual({ authorization: "Bearer first" });
    now = 60_000;
    expect(await auth.headers()).toEqual({ authorization: "Bearer second" });
  });

  it("runs an exec credential plugin, keeps its token until it expires, then runs it again", async () => {
    const counter = write("exec-count", "0");
    const plugin = write(
      "plugin.sh",
      `#!/bin/sh
n=$(( $(cat ${counter}) + 1 )); echo $n > ${counter}
echo "{\\"apiVersion\\":\\"client.authentication.k8s.io/v1\\",\\"kind\\":\\"ExecCredential\\",\\"status\\":{\\"token\\":\\"tok-$n-$PLUGIN_ENV\\",\\"expirationTimestamp\\":\\"1970-01-01T00:01:40Z\\"}}"
`,
    );
    chmodSync(plugin, 0o755);
    let now = 0;
    const auth = kubeAuth(
      KubeConfigFile.fromText(
        kubeconfig({ exec: { command: plugin, env: [{ name: "PLUGIN_ENV", value: "x" }] } }),
        dir,
      ),
      () => now,
    );
    expect(await auth.headers()).toEqual({ authorization: "Bearer tok-1-x" });
    now = 80_000;
    expect(await auth.headers()).toEqual({ authorization: "Bearer tok-1-x" });
    now = 95_000; // within 10 s of expiry: renewed
    expect(await auth.headers()).toEqual({ authorization: "Bearer tok-2-x" });
  });

  it("refuses auth providers it cannot serve, naming what to use instead", () => {
    expect(() =>
      kubeAuth(KubeConfigFile.fromText(kubeconfig({ "auth-provider": { name: "oidc", config: {} } }), dir)),
    ).toThrow(/auth-provider oidc is not supported: use an exec credential plugin/);
  });
});
