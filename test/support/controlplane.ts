// A real Kubernetes control plane on loopback, started the way controller-runtime's envtest does it:
// etcd + kube-apiserver (+ kube-controller-manager with only the namespace and garbage-collector
// controllers, so namespace deletion and ownerReference GC work). Binaries come from hack/build-binaries.
//
// Two ownership modes:
//  - attached (tests, the demo): the children belong to this process; stop() or the next start's
//    reaper removes them if this process died without cleaning up;
//  - detached (hack/cluster up): the children outlive the starting process until `hack/cluster down`.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { closeSync, existsSync, openSync, readdirSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import https from "node:https";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { stringify } from "yaml";
import { createCertificateAuthority, createSigningKeyPair } from "./pki.ts";

const repoRoot = path.resolve(import.meta.dirname, "../..");
const workDirPrefix = "vnf-controlplane-";

export interface ControlPlaneOptions {
  /** Directory holding etcd, kube-apiserver and kube-controller-manager; built on demand when absent. */
  binDir?: string;
  /** Where PKI, etcd data, logs and the kubeconfig live; a fresh temp dir by default. */
  workDir?: string;
  detached?: boolean;
  /** Whether to run kube-controller-manager (namespace deletion, garbage collection). Default true. */
  controllerManager?: boolean;
  startTimeoutMs?: number;
  progress?: (message: string) => void;
}

/** What `hack/cluster down` and the reaper need to find and stop a control plane again. */
export interface ControlPlaneState {
  workDir: string;
  kubeconfigPath: string;
  apiServerUrl: string;
  etcdUrl: string;
  pids: Record<string, number>;
  /** The process whose death makes this control plane an orphan; 0 when detached. */
  ownerPid: number;
  startedAt: string;
}

interface Component {
  name: string;
  child: ChildProcess;
  logPath: string;
  exited: boolean;
  exitDescription?: string;
}

export class ControlPlane {
  private stopped = false;
  readonly state: ControlPlaneState;
  private readonly components: Component[];

  private constructor(state: ControlPlaneState, components: Component[]) {
    this.state = state;
    this.components = components;
  }

  get kubeconfigPath(): string {
    return this.state.kubeconfigPath;
  }

  get apiServerUrl(): string {
    return this.state.apiServerUrl;
  }

  static async start(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
    const progress = options.progress ?? (() => {});
    const started = Date.now();
    reapOrphans(progress);
    const binDir = options.binDir ?? process.env.VNF_BIN_DIR ?? (await buildBinaries());
    for (const bin of ["etcd", "kube-apiserver", "kube-controller-manager"]) {
      if (!existsSync(path.join(binDir, bin)))
        throw new Error(`${bin} not found in ${binDir}: run hack/build-binaries`);
    }
    const workDir = options.workDir ?? (await mkdtemp(path.join(os.tmpdir(), workDirPrefix)));
    await mkdir(path.join(workDir, "logs"), { recursive: true });
    const detached = options.detached ?? false;
    const timeoutMs =
      options.startTimeoutMs ?? Number(process.env.VNF_CONTROLPLANE_START_TIMEOUT_MS ?? 90_000);
    const components: Component[] = [];
    const launch = (name: string, args: string[]) => {
      const component = launchComponent(name, path.join(binDir, name), args, workDir, detached);
      components.push(component);
      return component;
    };

    try {
      const pki = await writePki(workDir);
      const [etcdPort, etcdPeerPort, apiPort] = await freePorts(3);
      const etcdUrl = `http://127.0.0.1:${etcdPort}`;
      const apiServerUrl = `https://127.0.0.1:${apiPort}`;

      progress(`starting etcd on ${etcdUrl}`);
      const etcd = launch("etcd", [
        `--data-dir=${path.join(workDir, "etcd")}`,
        `--listen-client-urls=${etcdUrl}`,
        `--advertise-client-urls=${etcdUrl}`,
        `--listen-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
        `--initial-cluster=default=http://127.0.0.1:${etcdPeerPort}`,
        "--unsafe-no-fsync=true",
        "--log-level=warn",
      ]);
      await waitFor("etcd", etcd, timeoutMs, async () => {
        const body = await httpGet(`${etcdUrl}/health`);
        return body.includes('"health":"true"');
      });

      progress(`starting kube-apiserver on ${apiServerUrl}`);
      const apiserver = launch("kube-apiserver", [
        `--etcd-servers=${etcdUrl}`,
        "--bind-address=127.0.0.1",
        "--advertise-address=127.0.0.1",
        // A loopback advertise address makes the `kubernetes` Endpoints invalid; envtest does the same.
        "--endpoint-reconciler-type=none",
        `--secure-port=${apiPort}`,
        `--cert-dir=${path.join(workDir, "pki")}`,
        `--tls-cert-file=${pki.servingCert}`,
        `--tls-private-key-file=${pki.servingKey}`,
        `--client-ca-file=${pki.caCert}`,
        "--service-cluster-ip-range=10.0.0.0/24",
        `--service-account-issuer=${apiServerUrl}/`,
        `--service-account-key-file=${pki.saPublic}`,
        `--service-account-signing-key-file=${pki.saPrivate}`,
        "--authorization-mode=RBAC",
        "--allow-privileged=true",
        // No controller creates the `default` ServiceAccount unless asked: envtest's choice.
        "--disable-admission-plugins=ServiceAccount",
        // The bench profiles the API server with VNF_APISERVER_PROFILING=1 (kubectl get --raw /debug/pprof/profile).
        `--profiling=${process.env.VNF_APISERVER_PROFILING === "1"}`,
      ]);
      const tls = { ca: pki.caPem, cert: pki.adminCertPem, key: pki.adminKeyPem };
      await waitFor("kube-apiserver", apiserver, timeoutMs, async () => {
        const ready = await httpGet(`${apiServerUrl}/readyz`, tls);
        if (ready.trim() !== "ok") return false;
        // RBAC bootstrap and the system namespaces come shortly after /readyz.
        await httpGet(`${apiServerUrl}/api/v1/namespaces/default`, tls);
        return true;
      });

      const kubeconfigPath = path.join(workDir, "kubeconfig");
      await writeFile(kubeconfigPath, kubeconfig(apiServerUrl, pki), { mode: 0o600 });

      if (options.controllerManager ?? true) {
        progress("starting kube-controller-manager (namespace and garbage-collector controllers)");
        launch("kube-controller-manager", [
          `--kubeconfig=${kubeconfigPath}`,
          "--leader-elect=false",
          "--secure-port=0",
          "--controllers=namespace-controller,garbage-collector-controller",
          "--concurrent-namespace-syncs=5",
        ]);
      }

      const state: ControlPlaneState = {
        workDir,
        kubeconfigPath,
        apiServerUrl,
        etcdUrl,
        pids: Object.fromEntries(components.map((c) => [c.name, c.child.pid ?? 0])),
        ownerPid: detached ? 0 : process.pid,
        startedAt: new Date().toISOString(),
      };
      await writeFile(path.join(workDir, "state.json"), `${JSON.stringify(state, null, 2)}\n`);
      if (detached) for (const c of components) c.child.unref();
      progress(
        `control plane ready in ${((Date.now() - started) / 1000).toFixed(1)}s; kubeconfig ${kubeconfigPath}`,
      );
      return new ControlPlane(state, components);
    } catch (error) {
      await terminate(components.map((c) => c.child.pid ?? 0));
      if (!options.workDir) await rm(workDir, { recursive: true, force: true });
      throw error;
    }
  }

  /** Stops every component (SIGTERM, then SIGKILL) and removes the work dir. Idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    // Reverse start order: the controller manager and apiserver before etcd.
    await terminate(
      this.components
        .slice()
        .reverse()
        .map((c) => c.child.pid ?? 0),
    );
    await rm(this.state.workDir, { recursive: true, force: true });
  }

  /** Stops a control plane known only by its state file (hack/cluster down, the reaper). */
  static async stopFromState(state: ControlPlaneState): Promise<void> {
    const order = ["kube-controller-manager", "kube-apiserver", "etcd"];
    await terminate(order.map((name) => state.pids[name] ?? 0));
    await rm(state.workDir, { recursive: true, force: true });
  }

  static async readState(workDir: string): Promise<ControlPlaneState | undefined> {
    try {
      return JSON.parse(await readFile(path.join(workDir, "state.json"), "utf8")) as ControlPlaneState;
    } catch {
      return undefined;
    }
  }
}

export async function buildBinaries(): Promise<string> {
  const { stdout } = await promisify(execFile)(path.join(repoRoot, "hack/build-binaries"), [], {
    maxBuffer: 16 * 1024 * 1024,
  });
  const dir = stdout.trim().split("\n").at(-1);
  if (!dir) throw new Error("hack/build-binaries printed no directory");
  return dir;
}

function launchComponent(
  name: string,
  bin: string,
  args: string[],
  workDir: string,
  detached: boolean,
): Component {
  const logPath = path.join(workDir, "logs", `${name}.log`);
  const fd = openSync(logPath, "a");
  const child = spawn(bin, args, {
    cwd: workDir,
    stdio: ["ignore", fd, fd],
    detached,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: workDir },
  });
  closeSync(fd);
  const component: Component = { name, child, logPath, exited: false };
  child.on("exit", (code, signal) => {
    component.exited = true;
    component.exitDescription = signal ? `signal ${signal}` : `exit code ${code}`;
  });
  child.on("error", (error) => {
    component.exited = true;
    component.exitDescription = error.message;
  });
  return component;
}

async function waitFor(
  what: string,
  component: Component,
  timeoutMs: number,
  probe: () => Promise<boolean>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = "";
  while (Date.now() < deadline) {
    if (component.exited) {
      throw new Error(
        `${what} exited (${component.exitDescription}) while starting:\n${logTail(component.logPath)}`,
      );
    }
    try {
      if (await probe()) return;
    } catch (error) {
      lastError = error instanceof Error ? error.message : String(error);
    }
    await sleep(250);
  }
  throw new Error(
    `${what} not ready after ${timeoutMs} ms (last probe error: ${lastError || "none"}):\n${logTail(component.logPath)}`,
  );
}

function logTail(logPath: string, lines = 25): string {
  try {
    return readFileSync(logPath, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

interface Pki {
  caCert: string;
  caPem: string;
  servingCert: string;
  servingKey: string;
  saPublic: string;
  saPrivate: string;
  adminCertPem: string;
  adminKeyPem: string;
}

async function writePki(workDir: string): Promise<Pki> {
  const dir = path.join(workDir, "pki");
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const ca = await createCertificateAuthority("vnf-operator-local-ca");
  const serving = await ca.issue({
    commonName: "kube-apiserver",
    usage: "server",
    ips: ["127.0.0.1", "10.0.0.1"],
    dnsNames: ["localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc"],
  });
  // envtest's admin: a client certificate in group system:masters.
  const admin = await ca.issue({ commonName: "admin", organizations: ["system:masters"], usage: "client" });
  const sa = await createSigningKeyPair();
  const files: Record<string, string> = {
    "ca.crt": ca.certPem,
    "serving.crt": serving.certPem,
    "serving.key": serving.keyPem,
    "sa.pub": sa.publicKeyPem,
    "sa.key": sa.privateKeyPem,
  };
  for (const [name, content] of Object.entries(files))
    await writeFile(path.join(dir, name), content, { mode: 0o600 });
  return {
    caCert: path.join(dir, "ca.crt"),
    caPem: ca.certPem,
    servingCert: path.join(dir, "serving.crt"),
    servingKey: path.join(dir, "serving.key"),
    saPublic: path.join(dir, "sa.pub"),
    saPrivate: path.join(dir, "sa.key"),
    adminCertPem: admin.certPem,
    adminKeyPem: admin.keyPem,
  };
}

function kubeconfig(server: string, pki: Pki): string {
  const b64 = (s: string) => Buffer.from(s).toString("base64");
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "vnf-local", cluster: { server, "certificate-authority-data": b64(pki.caPem) } }],
    users: [
      {
        name: "vnf-local-admin",
        user: { "client-certificate-data": b64(pki.adminCertPem), "client-key-data": b64(pki.adminKeyPem) },
      },
    ],
    contexts: [{ name: "vnf-local", context: { cluster: "vnf-local", user: "vnf-local-admin" } }],
    "current-context": "vnf-local",
  });
}

export async function freePorts(count: number): Promise<number[]> {
  // Hold every listener until all ports are known, so the same port is never handed out twice.
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<net.Server>((resolve, reject) => {
          const server = net.createServer();
          server.once("error", reject);
          server.listen(0, "127.0.0.1", () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

function httpGet(url: string, tls?: { ca: string; cert: string; key: string }): Promise<string> {
  return new Promise((resolve, reject) => {
    const client = url.startsWith("https:") ? https : http;
    const request = client.get(url, { ...(tls ?? {}), timeout: 5000 }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        body += chunk;
      });
      res.on("end", () => {
        if ((res.statusCode ?? 0) >= 400)
          reject(new Error(`GET ${url}: HTTP ${res.statusCode} ${body.slice(0, 200)}`));
        else resolve(body);
      });
    });
    request.on("timeout", () => request.destroy(new Error(`GET ${url}: timed out`)));
    request.on("error", reject);
  });
}

function isAlive(pid: number): boolean {
  if (pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function terminate(pids: number[]): Promise<void> {
  for (const pid of pids) {
    if (!isAlive(pid)) continue;
    try {
      process.kill(pid, "SIGTERM");
    } catch {
      continue;
    }
    const deadline = Date.now() + 10_000;
    while (isAlive(pid) && Date.now() < deadline) await sleep(50);
    if (isAlive(pid)) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
      while (isAlive(pid)) await sleep(20);
    }
  }
}

/** Removes control planes whose owning process died without stopping them (a killed test run). */
function reapOrphans(progress: (message: string) => void): void {
  let entries: string[];
  try {
    entries = readdirSync(os.tmpdir()).filter((e) => e.startsWith(workDirPrefix));
  } catch {
    return;
  }
  for (const entry of entries) {
    const workDir = path.join(os.tmpdir(), entry);
    let state: ControlPlaneState;
    try {
      state = JSON.parse(readFileSync(path.join(workDir, "state.json"), "utf8")) as ControlPlaneState;
    } catch {
      continue; // starting right now, or not ours
    }
    if (state.ownerPid === 0 || isAlive(state.ownerPid)) continue;
    progress(`reaping orphaned control plane in ${workDir} (owner ${state.ownerPid} is gone)`);
    void ControlPlane.stopFromState(state);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
