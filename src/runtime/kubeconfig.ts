// Where the API server is and who we are to it: a kubeconfig file's current context, or the in-cluster
// service account. The shapes are those of @kubernetes/client-node's KubeConfig (getCurrentCluster,
// getCurrentUser), so a client-node KubeConfig (the tests build them) works wherever one of these does.
// The runtime reads kubeconfigs itself because client-node's KubeConfig loads the whole generated API
// client with it: about 60 MiB of resident memory the operator never uses.
import { existsSync, readFileSync } from "node:fs";
import { isIPv6 } from "node:net";
import path from "node:path";
import { parse } from "yaml";

/** The API server (client-node's Cluster). Data fields are base64, as in a kubeconfig. */
export interface KubeCluster {
  readonly name?: string;
  readonly server: string;
  readonly caData?: string | null;
  readonly caFile?: string | null;
  readonly skipTLSVerify?: boolean;
  readonly tlsServerName?: string | null;
  readonly proxyUrl?: string | null;
}

/** Who we are (client-node's User). Data fields are base64, as in a kubeconfig. */
export interface KubeUser {
  readonly name?: string;
  readonly certData?: string | null;
  readonly certFile?: string | null;
  readonly keyData?: string | null;
  readonly keyFile?: string | null;
  readonly token?: string | null;
  readonly username?: string | null;
  readonly password?: string | null;
  /** An exec credential plugin (client.authentication.k8s.io ExecConfig). */
  // biome-ignore lint/suspicious/noExplicitAny: the kubeconfig's own free-form section, validated where used
  readonly exec?: any;
  /** Only `tokenFile` is supported (the in-cluster service account token, re-read as it rotates). */
  // biome-ignore lint/suspicious/noExplicitAny: the kubeconfig's own free-form section, validated where used
  readonly authProvider?: any;
  readonly impersonateUser?: string | null;
}

/** What the runtime needs of a kubeconfig; client-node's KubeConfig has the same two methods. */
export interface KubeConfigSource {
  getCurrentCluster(): KubeCluster | null;
  getCurrentUser(): KubeUser | null;
}

export const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

export class KubeConfigFile implements KubeConfigSource {
  readonly cluster: KubeCluster;
  readonly user: KubeUser;
  /** The context's namespace, or the service account's. */
  readonly namespace: string | undefined;

  constructor(cluster: KubeCluster, user: KubeUser, namespace?: string) {
    this.cluster = cluster;
    this.user = user;
    this.namespace = namespace;
  }

  getCurrentCluster(): KubeCluster {
    return this.cluster;
  }

  getCurrentUser(): KubeUser {
    return this.user;
  }

  /** The current context of a kubeconfig file; relative file paths are taken from its directory. */
  static fromFile(file: string): KubeConfigFile {
    return KubeConfigFile.fromText(readFileSync(file, "utf8"), path.dirname(path.resolve(file)), file);
  }

  static fromText(text: string, baseDir: string, source = "kubeconfig"): KubeConfigFile {
    const doc = (parse(text) ?? {}) as Record<string, unknown>;
    const named = (list: unknown, key: string, name: string) => {
      const entry = (Array.isArray(list) ? list : []).find(
        (e): e is Record<string, Record<string, unknown>> =>
          typeof e === "object" && e !== null && (e as { name?: unknown }).name === name,
      );
      if (!entry?.[key]) throw new Error(`${source}: no ${key} named ${JSON.stringify(name)}`);
      return entry[key];
    };
    const current = doc["current-context"];
    if (typeof current !== "string" || current === "") throw new Error(`${source}: no current-context`);
    const context = named(doc.contexts, "context", current);
    const clusterName = String(context.cluster ?? "");
    const userName = String(context.user ?? "");
    const c = named(doc.clusters, "cluster", clusterName);
    const u = userName === "" ? {} : named(doc.users, "user", userName);
    const str = (v: unknown) => (typeof v === "string" && v !== "" ? v : undefined);
    const file = (v: unknown) => (str(v) === undefined ? undefined : path.resolve(baseDir, String(v)));
    const server = str(c.server);
    if (!server) throw new Error(`${source}: cluster ${clusterName} has no server`);
    const tokenFile = file(u["token-file"]);
    const cluster: KubeCluster = {
      name: clusterName,
      server: server.replace(/\/+$/, ""),
      caData: str(c["certificate-authority-data"]),
      caFile: file(c["certificate-authority"]),
      skipTLSVerify: c["insecure-skip-tls-verify"] === true,
      tlsServerName: str(c["tls-server-name"]),
      proxyUrl: str(c["proxy-url"]),
    };
    const user: KubeUser = {
      name: userName,
      certData: str(u["client-certificate-data"]),
      certFile: file(u["client-certificate"]),
      keyData: str(u["client-key-data"]),
      keyFile: file(u["client-key"]),
      token: str(u.token),
      username: str(u.username),
      password: str(u.password),
      exec: u.exec,
      authProvider:
        u["auth-provider"] ?? (tokenFile ? { name: "tokenFile", config: { tokenFile } } : undefined),
      impersonateUser: str(u.as),
    };
    return new KubeConfigFile(cluster, user, str(context.namespace));
  }

  /** The pod's service account (KUBERNETES_SERVICE_HOST/PORT, its token and CA files). */
  static inCluster(dir = SERVICE_ACCOUNT_DIR, env: NodeJS.ProcessEnv = process.env): KubeConfigFile {
    const host = env.KUBERNETES_SERVICE_HOST;
    const port = env.KUBERNETES_SERVICE_PORT;
    if (!host || !port) {
      throw new Error(
        "no kubeconfig given and not running in a cluster (KUBERNETES_SERVICE_HOST/PORT unset): pass --kubeconfig or set KUBECONFIG",
      );
    }
    const namespaceFile = path.join(dir, "namespace");
    return new KubeConfigFile(
      {
        name: "inCluster",
        server: `https://${isIPv6(host) ? `[${host}]` : host}:${port}`,
        caFile: path.join(dir, "ca.crt"),
        skipTLSVerify: false,
      },
      {
        name: "inClusterUser",
        authProvider: { name: "tokenFile", config: { tokenFile: path.join(dir, "token") } },
      },
      existsSync(namespaceFile) ? readFileSync(namespaceFile, "utf8").trim() : undefined,
    );
  }
}
