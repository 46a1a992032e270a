// Benchmark: N firewall rules on one Batched pfSense device, end to end (real control plane, the
// operator in-process, the pfSense simulator over HTTPS). Prints time to all-Ready, appliance calls by
// method and path, applies, health checks per device per minute while the rules converge, then one
// drift cycle in steady state, and memory.
//   node bench/operator-batch.ts [--rules 50]

import { parseArgs } from "node:util";
import { CustomObjectsApi, KubeConfig } from "@kubernetes/client-node";
import { CREDENTIALS_LABEL } from "../src/api/group.ts";
import { createOperator } from "../src/operator.ts";
import { createLogger } from "../src/runtime/logging.ts";
import { startSimulator } from "../test/simulators/index.ts";
import { ControlPlane } from "../test/support/controlplane.ts";
import { installCrds } from "../test/support/crd-install.ts";
import { kubectl } from "../test/support/kubectl.ts";

const { values } = parseArgs({ options: { rules: { type: "string" }, concurrency: { type: "string" } } });
const count = Number(values.rules ?? 50);
const concurrency = values.concurrency === undefined ? undefined : Number(values.concurrency);
const group = "vnf-operator.io";
const version = "v1alpha1";
const namespace = "bench";
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

const plane = await ControlPlane.start();
const sim = await startSimulator("pfsense");
try {
  const kc = new KubeConfig();
  kc.loadFromFile(plane.kubeconfigPath);
  await installCrds(kc);
  const k = (args: string[], input?: string) =>
    kubectl(plane.kubeconfigPath, ["-n", namespace, ...args], input);
  await kubectl(plane.kubeconfigPath, ["create", "namespace", namespace]);
  // The operator reads only labelled credential Secrets.
  const labels = { [CREDENTIALS_LABEL]: "true" };
  await k(
    ["apply", "-f", "-"],
    JSON.stringify({
      apiVersion: "v1",
      kind: "List",
      items: [
        {
          apiVersion: "v1",
          kind: "Secret",
          metadata: { name: "creds", labels },
          stringData: sim.credentials,
        },
        {
          apiVersion: "v1",
          kind: "Secret",
          metadata: { name: "ca", labels },
          stringData: { "ca.crt": sim.caPem },
        },
        {
          apiVersion: `${group}/${version}`,
          kind: "VnfDevice",
          metadata: { name: "edge" },
          spec: {
            vendor: "pfsense",
            endpoint: sim.url,
            credentialsSecretRef: { name: "creds" },
            tls: { caSecretRef: { name: "ca" } },
            activation: { mode: "Batched", batchWindow: "2s" },
            driftDetection: { interval: "10s", mode: "Repair" },
          },
        },
      ],
    }),
  );
  const rssBefore = process.memoryUsage().rss;
  const operator = await createOperator({
    kubeConfig: kc,
    namespaces: [namespace],
    dictionaryDirectories: ["dictionaries"],
    logger: createLogger({ level: "silent" }),
    // The simulator listens on loopback, which the endpoint policy refuses by default.
    endpointPolicy: { allowCidrs: ["127.0.0.1/32"] },
    probeAddress: "0",
    metricsAddress: "0",
    ...(concurrency === undefined ? {} : { concurrency }),
  });
  await operator.manager.start();
  const custom = kc.makeApiClient(CustomObjectsApi);
  const readyCount = async () => {
    const list = (await custom.listNamespacedCustomObject({
      group,
      version,
      namespace,
      plural: "vnffirewallrules",
    })) as {
      items: Array<{ status?: { conditions?: Array<{ type: string; status: string }> } }>;
    };
    return list.items.filter((i) =>
      i.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"),
    ).length;
  };
  // Wait for the device before timing the rules.
  while (
    (await k(["get", "vnfdev", "edge", "-o", 'jsonpath={.status.conditions[?(@.type=="Ready")].status}']))
      .stdout !== "True"
  ) {
    await new Promise((r) => setTimeout(r, 200));
  }
  await sim.control.clearRequests();
  const healthChecks = async () => {
    const metric = await operator.manager.metrics.registry
      .getSingleMetric("vnf_appliance_requests_total")
      ?.get();
    return (metric?.values ?? [])
      .filter((v) => v.labels.operation === "health")
      .reduce((sum, v) => sum + v.value, 0);
  };
  const healthBefore = await healthChecks();
  const rules = Array.from({ length: count }, (_, i) => ({
    apiVersion: `${group}/${version}`,
    kind: "VnfFirewallRule",
    metadata: { name: `rule-${i}` },
    spec: {
      deviceRef: { name: "edge" },
      interface: "wan",
      action: "allow",
      protocol: "tcp",
      destination: { cidr: `10.1.${Math.floor(i / 250)}.${(i % 250) + 1}`, port: "443" },
      description: `bench rule ${i}`,
    },
  }));
  const t0 = Date.now();
  await k(["apply", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "List", items: rules }));
  while ((await readyCount()) < count) await new Promise((r) => setTimeout(r, 200));
  const elapsed = Date.now() - t0;
  const health = (await healthChecks()) - healthBefore;
  const requests = await sim.control.requests();
  const stats = await sim.control.stats();
  const byRoute = new Map<string, number>();
  for (const r of requests)
    byRoute.set(`${r.method} ${r.path}`, (byRoute.get(`${r.method} ${r.path}`) ?? 0) + 1);

  console.log(
    `\n${count} rules on one Batched pfSense device (batch window 2s, ${concurrency ?? "default"} workers per kind)`,
  );
  console.log(`  time from kubectl apply to all Ready: ${(elapsed / 1000).toFixed(1)} s`);
  console.log(
    `  appliance calls: ${requests.length} (applies: ${stats.applyCount}, logins: ${stats.loginCount}, lost writes: ${stats.lostWrites})`,
  );
  for (const [route, n] of [...byRoute].sort((a, b) => b[1] - a[1]))
    console.log(`    ${String(n).padStart(5)}  ${route}`);
  console.log(
    `  health checks while the rules converged: ${health} in ${(elapsed / 1000).toFixed(1)} s = ${((health * 60_000) / elapsed).toFixed(1)} per device per minute`,
  );

  // Steady state over one drift cycle (interval 10 s): what reaches the appliance and the API server.
  const rvBefore = (
    await k(["get", "vnffw,vnfdev", "-o", "jsonpath={range .items[*]}{.metadata.resourceVersion} {end}"])
  ).stdout;
  await sim.control.clearRequests();
  await new Promise((r) => setTimeout(r, 12_000));
  const cycle = await sim.control.requests();
  const rvAfter = (
    await k(["get", "vnffw,vnfdev", "-o", "jsonpath={range .items[*]}{.metadata.resourceVersion} {end}"])
  ).stdout;
  console.log(`\nsteady state over one drift cycle (12 s window, interval 10 s)`);
  console.log(
    `  appliance calls: ${cycle.length} (${cycle.map((r) => `${r.method} ${r.path}`).join(", ") || "none"})`,
  );
  console.log(`  appliance writes: ${cycle.filter((r) => r.method !== "GET").length}`);
  console.log(
    `  objects whose resourceVersion changed: ${rvBefore.split(" ").filter((rv, i) => rv !== rvAfter.split(" ")[i]).length}`,
  );
  const usage = process.memoryUsage();
  console.log(
    `\nmemory (operator in this process): rss ${mib(usage.rss)} (+${mib(usage.rss - rssBefore)} since start), heap used ${mib(usage.heapUsed)}`,
  );
  await operator.stop();
} finally {
  await sim.stop();
  await plane.stop();
}
