// How requests to the API server authenticate, from a kubeconfig's current cluster and user: TLS
// (the cluster's CA, a client certificate) for the connection, and per request a header (a bearer
// token — static, read from a file that rotates, or from an exec credential plugin — or basic auth).
// Computed once; only rotating tokens are refreshed (a file re-read each minute, as client-go does;
// an exec token when it expires).
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { promisify } from "node:util";
import type { KubeConfigSource, KubeUser } from "./kubeconfig.ts";

export interface KubeTls {
  ca?: string;
  cert?: string;
  key?: string;
  rejectUnauthorized: boolean;
  servername?: string;
}

export interface KubeAuth {
  server: string;
  tls: KubeTls;
  proxyUrl?: string;
  /** The auth headers for the next request. */
  headers(): Promise<Record<string, string>>;
}

const TOKEN_FILE_REFRESH_MS = 60_000;

export function kubeAuth(source: KubeConfigSource, now: () => number = Date.now): KubeAuth {
  const cluster = source.getCurrentCluster();
  if (!cluster) throw new Error("the kubeconfig has no current cluster");
  const user = source.getCurrentUser() ?? {};
  const tls: KubeTls = { rejectUnauthorized: cluster.skipTLSVerify !== true };
  const ca = material(cluster.caData, cluster.caFile);
  if (ca) tls.ca = ca;
  if (cluster.tlsServerName) tls.servername = cluster.tlsServerName;
  const cert = material(user.certData, user.certFile);
  const key = material(user.keyData, user.keyFile);
  if (cert && key) {
    tls.cert = cert;
    tls.key = key;
  }
  const auth: KubeAuth = {
    server: cluster.server.replace(/\/+$/, ""),
    tls,
    headers: headerSource(user, now),
  };
  if (cluster.proxyUrl) auth.proxyUrl = cluster.proxyUrl;
  return auth;
}

function material(data: string | null | undefined, file: string | null | undefined): string | undefined {
  if (data) return Buffer.from(data, "base64").toString("utf8");
  if (file) return readFileSync(file, "utf8");
  return undefined;
}

function headerSource(user: KubeUser, now: () => number): () => Promise<Record<string, string>> {
  const extra: Record<string, string> = user.impersonateUser
    ? { "Impersonate-User": user.impersonateUser }
    : {};
  const bearer = (token: string) => ({ ...extra, authorization: `Bearer ${token.trim()}` });
  if (user.token) {
    const headers = bearer(user.token);
    return async () => headers;
  }
  const provider = user.authProvider as { name?: string; config?: Record<string, string> } | undefined;
  if (provider?.name === "tokenFile" && provider.config?.tokenFile) {
    const file = provider.config.tokenFile;
    let cached: { headers: Record<string, string>; at: number } | undefined;
    return async () => {
      if (!cached || now() - cached.at >= TOKEN_FILE_REFRESH_MS) {
        cached = { headers: bearer(readFileSync(file, "utf8")), at: now() };
      }
      return cached.headers;
    };
  }
  if (provider?.name) {
    throw new Error(
      `kubeconfig auth-provider ${provider.name} is not supported: use an exec credential plugin (users[].user.exec) or a token`,
    );
  }
  if (user.exec) return execCredentials(user.exec as ExecConfig, bearer, now);
  if (user.username && user.password) {
    const headers = {
      ...extra,
      authorization: `Basic ${Buffer.from(`${user.username}:${user.password}`).toString("base64")}`,
    };
    return async () => headers;
  }
  return async () => extra; // client certificate (or anonymous)
}

/** client.authentication.k8s.io ExecConfig, as in a kubeconfig. */
interface ExecConfig {
  command?: string;
  args?: string[];
  env?: Array<{ name: string; value: string }> | null;
  apiVersion?: string;
}

/** Runs the plugin for a token and keeps it until its expirationTimestamp (or for good without one). */
function execCredentials(
  exec: ExecConfig,
  bearer: (token: string) => Record<string, string>,
  now: () => number,
): () => Promise<Record<string, string>> {
  if (!exec.command) throw new Error("kubeconfig exec credential plugin without a command");
  const command = exec.command;
  let cached: { headers: Record<string, string>; expires: number } | undefined;
  let pending: Promise<{ headers: Record<string, string>; expires: number }> | undefined;
  const run = async () => {
    const env = { ...process.env };
    for (const { name, value } of exec.env ?? []) env[name] = value;
    env.KUBERNETES_EXEC_INFO = JSON.stringify({
      apiVersion: exec.apiVersion ?? "client.authentication.k8s.io/v1",
      kind: "ExecCredential",
      spec: { interactive: false },
    });
    const { stdout } = await promisify(execFile)(command, exec.args ?? [], { env, timeout: 60_000 });
    const status = (JSON.parse(stdout) as { status?: { token?: string; expirationTimestamp?: string } })
      .status;
    if (!status?.token) {
      throw new Error(
        `exec credential plugin ${command} returned no token (client certificates from plugins are not supported)`,
      );
    }
    const expires = status.expirationTimestamp
      ? Date.parse(status.expirationTimestamp)
      : Number.POSITIVE_INFINITY;
    return { headers: bearer(status.token), expires };
  };
  return async () => {
    // Renew a little early so a request never leaves with a token about to lapse.
    if (cached && now() < cached.expires - 10_000) return cached.headers;
    pending ??= run().finally(() => {
      pending = undefined;
    });
    cached = await pending;
    return cached.headers;
  };
}
