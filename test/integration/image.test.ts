// The operator image, built from the Dockerfile (hack/image build) and run the way the chart runs it:
// the Deployment that `helm install` created is translated container for container (pod-runner.ts:
// uid 65532, read-only root filesystem, no capabilities, no privilege escalation, the chart's args,
// env, volumes and limits), authenticated by the ServiceAccount token the kubelet would mount (the
// TokenRequest API, the chart's RBAC, not admin), against this run's API server and the vendor
// simulators. The demo's sample rules must become Ready; the chart's probes, /metrics and the Lease
// must answer; SIGTERM must stop it cleanly within the chart's grace period. The same for the shim.
//
// Needs podman (or docker): `apt-get install podman runc mmdebstrap` as root. Without one the suite
// is skipped with that message, unless VNF_REQUIRE_IMAGE_E2E=1 (CI: .ci/run sets it) makes it fail.
import { spawn } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { CoordinationV1Api, CustomObjectsApi, type V1Deployment } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SimulatorHandle } from "../simulators/common/types.ts";
import { freePorts } from "../support/controlplane.ts";
import { installCrds } from "../support/crd-install.ts";
import {
  installChart,
  releaseObjects,
  repoRoot,
  serviceAccountVolume,
  uninstallChart,
} from "../support/helm.ts";
import { createTestNamespace, kubeconfigPath, testKubeConfig, waitUntil } from "../support/kube.ts";
import {
  type ContainerEngine,
  containerEngine,
  containerLogs,
  containerState,
  engineCommand,
  type PodRunPlan,
  type ProbeTarget,
  planPodRun,
  removePod,
  startPod,
  stopPod,
} from "../support/pod-runner.ts";
import {
  applySamples,
  listRules,
  startSampleSimulators,
  stopSimulators,
  waitForRules,
} from "../support/samples.ts";
import { recordLog } from "../support/test-logger.ts";

const { engine, reason } = containerEngine();
const required = process.env.VNF_REQUIRE_IMAGE_E2E === "1";
const HOW =
  "install podman (apt-get install podman runc mmdebstrap, as root) or Docker, then `hack/image e2e`";
const say = (message: string) => process.stdout.write(`[image e2e] ${message}\n`);

if (!engine && !required) say(`SKIPPED: no container engine (${reason}). To run it: ${HOW}`);

if (!engine && required) {
  describe("the operator image (VNF_REQUIRE_IMAGE_E2E=1: CI must run it)", () => {
    it("needs a container engine", () => {
      throw new Error(`no container engine (${reason}); ${HOW}`);
    });
  });
}

const RELEASE = "img";
// Unique per checkout, so that parallel runs from several worktrees never run each other's build.
const TAG = `e2e-${Buffer.from(repoRoot).toString("hex").slice(-12)}`;
const IMAGE = `localhost/vnf-operator:${TAG}`;

describe.skipIf(!engine)(`the operator image, run as the chart runs it (${engine?.name})`, () => {
  const eng = engine as ContainerEngine;
  const admin = testKubeConfig();
  const custom = admin.makeApiClient(CustomObjectsApi);
  const apiServer = new URL(admin.getCurrentCluster()?.server ?? "https://127.0.0.1");
  const suffix = Math.random().toString(16).slice(2, 8);
  const operatorName = `vnf-operator-e2e-${suffix}`;
  const shimName = `vnf-shim-e2e-${suffix}`;
  let releaseNs = "";
  let demoNs = "";
  let sims = new Map<string, SimulatorHandle>();
  let operatorPlan: PodRunPlan;
  let shimPlan: PodRunPlan;
  let podName = "";
  // Token and key directories mounted into the containers, removed afterwards.
  const scratchDirs: string[] = [];
  const scratch = (dir: string) => {
    scratchDirs.push(dir);
    return dir;
  };

  beforeAll(async () => {
    // 1. The image.
    say(await buildImage());

    // 2. The cluster side: CRDs, namespaces, the chart (ServiceAccounts, RBAC, the Deployments the
    //    pods come from), the simulators and the demo's samples (which wait for an operator).
    await installCrds(admin);
    releaseNs = await createTestNamespace(admin, "img-rel");
    demoNs = await createTestNamespace(admin, "img-demo");
    const [probePort, metricsPort, shimPort] = await freePorts(3);
    await installChart(admin, kubeconfigPath(), RELEASE, releaseNs, {
      image: { repository: IMAGE.split(":")[0], tag: TAG, pullPolicy: "Never" },
      // Two replicas: leader election through the Lease, as in production (one container runs here).
      replicaCount: 2,
      watchNamespaces: [demoNs],
      // The simulators listen on loopback, which the endpoint policy refuses unless allowed.
      endpointPolicy: { allowCidrs: ["127.0.0.1/32"] },
      probes: { port: probePort },
      metrics: { port: metricsPort },
      shim: {
        enabled: true,
        namespaces: [demoNs],
        port: shimPort,
        jwt: { algorithm: "HS256", secretName: "img-shim-jwt", secretKey: "jwt.key" },
      },
    });
    sims = await startSampleSimulators();
    const applied = await applySamples(kubeconfigPath(), demoNs, sims);
    say(`${sims.size} simulators, ${applied} sample objects applied in ${demoNs}`);

    // 3. The pods, from the Deployments as installed.
    const objects = await releaseObjects(kubeconfigPath(), RELEASE, releaseNs);
    const podSpec = (name: string) => {
      const d = objects.find((o) => o.kind === "Deployment" && o.metadata.name === name) as
        | V1Deployment
        | undefined;
      if (!d?.spec?.template.spec) throw new Error(`no Deployment ${name} in the release`);
      return d.spec.template.spec;
    };
    const serviceAccount = async (name: string) => ({
      name,
      dir: scratch(await serviceAccountVolume(admin, releaseNs, name)),
      host: apiServer.hostname,
      port: Number(apiServer.port || 443),
    });
    podName = `${RELEASE}-vnf-operator-7c9d5-${suffix}`;
    operatorPlan = planPodRun(eng.name, podSpec(`${RELEASE}-vnf-operator`), "operator", {
      podName,
      namespace: releaseNs,
      serviceAccount: await serviceAccount(`${RELEASE}-vnf-operator`),
    });
    // A Secret volume: files 0644 in a directory any uid may enter (the kubelet's defaults).
    const jwtDir = scratch(mkdtempSync(path.join(tmpdir(), "vnf-shim-jwt-")));
    chmodSync(jwtDir, 0o755);
    writeFileSync(path.join(jwtDir, "jwt.key"), "an HS256 secret of at least 32 bytes, for the e2e", {
      mode: 0o644,
    });
    shimPlan = planPodRun(eng.name, podSpec(`${RELEASE}-vnf-operator-shim`), "shim", {
      podName: `${RELEASE}-vnf-operator-shim-5f6b7-${suffix}`,
      namespace: releaseNs,
      serviceAccount: await serviceAccount(`${RELEASE}-vnf-operator-shim`),
      secrets: { "img-shim-jwt": jwtDir },
    });
    expect(operatorPlan.image).toBe(IMAGE);
  }, 30 * 60_000);

  afterAll(async () => {
    for (const name of [operatorName, shimName]) {
      if (process.env.VNF_IMAGE_E2E_KEEP !== "1") await removePod(eng, name);
    }
    for (const dir of scratchDirs) rmSync(dir, { recursive: true, force: true });
    await stopSimulators(sims);
    if (releaseNs) await uninstallChart(kubeconfigPath(), RELEASE, releaseNs);
  }, 120_000);

  it("runs restricted: uid 65532, read-only root filesystem, no capabilities, no privilege escalation", () => {
    expect(operatorPlan.user).toEqual({ uid: 65532, gid: 65532 });
    expect(operatorPlan.runArgs).toEqual(
      expect.arrayContaining(["--read-only", "--cap-drop=ALL", "--security-opt=no-new-privileges"]),
    );
    expect(operatorPlan.args).toEqual(["run"]);
  });

  it("brings every demo rule to Ready as the chart's ServiceAccount, with its probes, /metrics and Lease", async () => {
    const started = Date.now();
    await startPod(eng, operatorName, operatorPlan);
    // Not a speed test (the time is printed): on a loaded 2-core machine Node alone may take 30 s to
    // load the sources.
    const rows = await waitForRules(custom, demoNs, {
      timeoutMs: 300_000,
      progress: (line) => say(`+${((Date.now() - started) / 1000).toFixed(1)}s rules Ready: ${line}`),
      check: () => {},
    }).catch(async (error: Error) => {
      throw new Error(`${error.message}\n${await tail(operatorName)}`);
    });
    const readySeconds = (Date.now() - started) / 1000;
    const notReady = rows.filter((r) => !r.ready);
    expect(notReady, `${JSON.stringify(notReady, null, 2)}\n${await tail(operatorName)}`).toEqual([]);
    expect(rows.length).toBeGreaterThanOrEqual(5);
    say(`from \`${eng.name} run\` to all ${rows.length} demo rules Ready: ${readySeconds.toFixed(1)}s`);

    // The chart's probes, from outside as the kubelet sends them.
    expect(operatorPlan.probes.map((p) => `${p.kind} ${p.path}`).sort()).toEqual([
      "liveness /healthz",
      "readiness /readyz",
      "startup /healthz",
    ]);
    for (const probe of operatorPlan.probes) expect(await probeOnce(probe), probe.kind).toBe(true);
    const metricsPort = operatorPlan.ports.metrics;
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(metrics).toMatch(/^vnf_\w+/m);
    expect(metrics).toMatch(/^vnf_appliance_activations_total\{.*result="success"\} [1-9]/m);

    const lease = await admin
      .makeApiClient(CoordinationV1Api)
      .readNamespacedLease({ namespace: releaseNs, name: "vnf-operator-leader" });
    expect(lease.spec?.holderIdentity).toBe(podName);

    // Every API call was allowed by the chart's RBAC, and nothing needed a writable root.
    const logs = await containerLogs(eng, operatorName);
    recordLog("image-operator", logs);
    expect(logs).not.toMatch(/forbidden|\b403\b|EROFS|EACCES/i);
  }, 360_000);

  it("really runs with what the pod spec asks: uid, no capabilities, no_new_privs, read-only root", async () => {
    // A process started in the container reads PID 1's (the operator's) status and tries writes.
    const script = `
      const fs = require("node:fs");
      const status = fs.readFileSync("/proc/1/status", "utf8");
      const field = (k) => (status.match(new RegExp("^" + k + ":\\\\s*(.*)$", "m")) || [])[1];
      const tryWrite = (p) => { try { fs.writeFileSync(p, "x"); fs.rmSync(p); return "ok"; } catch (e) { return e.code; } };
      console.log(JSON.stringify({
        uid: field("Uid"), gid: field("Gid"), capEff: field("CapEff"), capBnd: field("CapBnd"),
        noNewPrivs: field("NoNewPrivs"), seccomp: field("Seccomp"),
        app: tryWrite("/app/x"), root: tryWrite("/x"), tmp: tryWrite("/tmp/x"),
      }));`;
    const result = await engineCommand(eng, ["exec", operatorName, "node", "-e", script]);
    expect(result.code, result.stderr).toBe(0);
    const seen = JSON.parse(result.stdout) as Record<string, string>;
    expect(seen.uid?.split(/\s+/)).toEqual(["65532", "65532", "65532", "65532"]);
    expect(seen.gid?.split(/\s+/)[0]).toBe("65532");
    expect(seen.capEff).toBe("0000000000000000");
    expect(seen.capBnd).toBe("0000000000000000");
    expect(seen.noNewPrivs).toBe("1");
    expect(seen.seccomp).toBe("2"); // filter mode: the runtime's default profile
    expect(seen.app).toBe("EROFS");
    expect(seen.root).toBe("EROFS");
    expect(seen.tmp).toBe("ok"); // the chart's emptyDir
  });

  it("stops on SIGTERM within the grace period, exit code 0, and hands the Lease back", async () => {
    expect(operatorPlan.gracePeriodSeconds).toBe(45);
    const { exitCode, seconds } = await stopPod(eng, operatorName, operatorPlan.gracePeriodSeconds);
    say(
      `operator stopped in ${seconds.toFixed(1)}s after SIGTERM (grace ${operatorPlan.gracePeriodSeconds}s)`,
    );
    // 137 would be the SIGKILL at the end of the grace period.
    expect(exitCode, await tail(operatorName)).toBe(0);
    expect(seconds).toBeLessThan(operatorPlan.gracePeriodSeconds);
    const lease = await admin
      .makeApiClient(CoordinationV1Api)
      .readNamespacedLease({ namespace: releaseNs, name: "vnf-operator-leader" });
    expect(lease.spec?.holderIdentity ?? "").toBe("");
    expect(await containerLogs(eng, operatorName)).toMatch(/vnf-operator stopped/);
    // The rules stay Ready: stopping the operator deletes nothing.
    expect((await listRules(custom, demoNs)).every((r) => r.ready)).toBe(true);
  }, 120_000);

  it("the shim container answers its probes as its own ServiceAccount and stops cleanly on SIGTERM", async () => {
    expect(shimPlan.args).toEqual(["shim"]);
    expect(shimPlan.user).toEqual({ uid: 65532, gid: 65532 });
    await startPod(eng, shimName, shimPlan);
    const readiness = shimPlan.probes.find((p) => p.kind === "readiness");
    const liveness = shimPlan.probes.find((p) => p.kind === "liveness");
    expect(readiness).toMatchObject({ type: "http", path: "/health" });
    expect(liveness).toMatchObject({ type: "tcp" });
    const started = Date.now();
    await waitUntil(
      "the shim's readiness probe",
      async () => (await containerState(eng, shimName)).running && probeOnce(readiness as ProbeTarget),
      60_000,
      250,
    ).catch(async (error: Error) => {
      throw new Error(`${error.message}\n${await tail(shimName)}`);
    });
    say(`shim ready ${((Date.now() - started) / 1000).toFixed(1)}s after \`${eng.name} run\``);
    expect(await probeOnce(liveness as ProbeTarget)).toBe(true);
    const { exitCode, seconds } = await stopPod(eng, shimName, shimPlan.gracePeriodSeconds);
    say(`shim stopped in ${seconds.toFixed(1)}s after SIGTERM (grace ${shimPlan.gracePeriodSeconds}s)`);
    expect(exitCode, await tail(shimName)).toBe(0);
    expect(seconds).toBeLessThan(shimPlan.gracePeriodSeconds);
    const logs = await containerLogs(eng, shimName);
    recordLog("image-shim", logs);
    expect(logs).toMatch(/vnf-cloudstack-shim stopped/);
    expect(logs).not.toMatch(/forbidden|\b403\b|EROFS|EACCES/i);
  }, 120_000);

  async function tail(name: string): Promise<string> {
    return `--- ${name} (tail) ---\n${(await containerLogs(eng, name)).slice(-4000)}`;
  }
});

/** `hack/image build`, its progress kept for the failure message; returns its summary (size, time). */
async function buildImage(): Promise<string> {
  const child = spawn(path.join(repoRoot, "hack/image"), ["build", "--tag", IMAGE], {
    cwd: repoRoot,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (d: Buffer) => {
    output += d.toString();
  });
  child.stderr.on("data", (d: Buffer) => {
    output += d.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
  if (code !== 0) throw new Error(`hack/image build failed (exit ${code}):\n${output.slice(-6000)}`);
  const summary = output.split("\n").find((l) => l.startsWith(`==> image ${IMAGE}:`));
  if (!summary) throw new Error(`hack/image build printed no summary:\n${output.slice(-2000)}`);
  return summary.replace(/^==> /, "");
}

/** One probe, as the kubelet sends it: HTTP 200-399 within a second, or a TCP connect. */
async function probeOnce(probe: ProbeTarget): Promise<boolean> {
  if (probe.type === "tcp") {
    return new Promise((resolve) => {
      const socket = connect({ host: "127.0.0.1", port: probe.port, timeout: 1000 });
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
      socket.once("timeout", () => {
        socket.destroy();
        resolve(false);
      });
    });
  }
  try {
    const scheme = probe.scheme === "HTTPS" ? "https" : "http";
    const response = await fetch(`${scheme}://127.0.0.1:${probe.port}${probe.path}`, {
      signal: AbortSignal.timeout(1000),
    });
    return response.status >= 200 && response.status < 400;
  } catch {
    return false;
  }
}
