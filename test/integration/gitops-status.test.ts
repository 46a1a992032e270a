// What GitOps tools conclude from live objects, state by state, through the real API server and the
// operator against a pfSense simulator: kstatus (Flux health checks, kpt, cli-utils waits; the model of
// sigs.k8s.io/cli-utils v0.37.2 in test/support/kstatus.ts), the machine's real `kubectl wait`, and Argo
// CD (deploy/argocd/health.lua in Argo CD's Lua runtime, then gitops-engine as of Argo CD 3.3 and 3.6).
// The table docs/status.md shows is this one; the rows run in order, each setting up the next.

import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CREDENTIALS_LABEL } from "../../src/api/group.ts";
import { type ArgoHealthStatus, argocdLuaBinary, argoHealth, runHealthScript } from "../support/argocd.ts";
import { KSTATUS_VERSION, type KstatusStatus, kstatus } from "../support/kstatus.ts";
import { waitUntil } from "../support/kube.ts";
import {
  conditionOf,
  FIREWALL,
  type KubeObj,
  type OperatorEnv,
  objectsContaining,
  repoRoot,
  ruleManifest,
  ruleMarkerText,
  startOperatorEnv,
} from "../support/operator-env.ts";

const script = readFileSync(path.join(repoRoot, "deploy/argocd/health.lua"), "utf8");
const pf = "pfsense-dev";
const GRACE_MS = 4_000;

let env: OperatorEnv;

const rule = (description: string, port: string) => ({
  interface: "wan",
  action: "allow",
  protocol: "tcp",
  destination: { cidr: "10.0.10.10", port },
  description,
});

interface Seen {
  kstatus: KstatusStatus | "NotFound";
  /** `kubectl wait --for=condition=Ready --timeout=1s` succeeded. */
  waitReady: boolean;
  argo: {
    "v3.3": { status: ArgoHealthStatus; message: string };
    "v3.6": { status: ArgoHealthStatus; message: string };
  };
  obj: KubeObj | undefined;
}

/** What the three tools see of one object now. */
async function seen(plural: string, name: string): Promise<Seen> {
  const obj = await env.find<KubeObj>(plural, name);
  const wait = await env.kubectl(["wait", `${plural}/${name}`, "--for=condition=Ready", "--timeout=1s"]);
  if (!obj) {
    const gone = { status: "Missing" as const, message: "" };
    return { kstatus: "NotFound", waitReady: false, argo: { "v3.3": gone, "v3.6": gone }, obj };
  }
  const [result = {}] = await runHealthScript(script, [obj]);
  expect(result.error, "the health script failed on a live object").toBeUndefined();
  return {
    kstatus: kstatus(obj).status,
    waitReady: wait.code === 0,
    argo: { "v3.3": argoHealth("v3.3", obj, result), "v3.6": argoHealth("v3.6", obj, result) },
    obj,
  };
}

/** The rows of the table, for the summary printed at the end. */
const table: string[] = [];

async function row(
  state: string,
  plural: string,
  name: string,
  expected: {
    kstatus: Seen["kstatus"];
    waitReady: boolean;
    argo33: ArgoHealthStatus;
    argo36: ArgoHealthStatus;
  },
): Promise<Seen> {
  const s = await seen(plural, name);
  table.push(
    `| ${state} | ${s.kstatus} | ${s.waitReady ? "passes" : "waits"} | ${s.argo["v3.3"].status} | ${s.argo["v3.6"].status}: ${s.argo["v3.6"].message} |`,
  );
  expect.soft(s.kstatus, `${state}: kstatus`).toBe(expected.kstatus);
  expect.soft(s.waitReady, `${state}: kubectl wait --for=condition=Ready`).toBe(expected.waitReady);
  expect.soft(s.argo["v3.3"].status, `${state}: Argo CD 3.3`).toBe(expected.argo33);
  expect.soft(s.argo["v3.6"].status, `${state}: Argo CD 3.6`).toBe(expected.argo36);
  return s;
}

const stalledMessage = (obj: KubeObj | undefined) =>
  String(conditionOf(obj ?? ({} as KubeObj), "Stalled")?.message ?? "");

beforeAll(async () => {
  await argocdLuaBinary(); // built on first use
  env = await startOperatorEnv({
    vendor: "pfsense",
    prefix: "gitops",
    startOperator: false,
    operator: {
      healthIntervalMs: 1_000,
      gracePeriodMs: GRACE_MS,
      stalledRetry: { initialMs: 1_500, maxMs: 3_000 },
    },
  });
}, 600_000);

afterAll(async () => {
  await env?.stop();
});

describe(`every state as kstatus (${KSTATUS_VERSION}), kubectl wait and Argo CD see it`, () => {
  it("created, before the operator acted: InProgress, not Healthy", async () => {
    await env.apply(ruleManifest(FIREWALL, "web", pf, rule("web", "443")));
    const s = await row("rule created, operator not there yet", FIREWALL.plural, "web", {
      kstatus: "InProgress",
      waitReady: false,
      argo33: "Progressing",
      argo36: "Progressing",
    });
    expect(s.obj?.status).toEqual({ observedGeneration: -1 });
    await row("device created, operator not there yet", "vnfdevices", pf, {
      kstatus: "InProgress",
      waitReady: false,
      argo33: "Progressing",
      argo36: "Progressing",
    });
  });

  it("Ready", async () => {
    await env.startOperator();
    await env.waitReady("vnfdevices", pf);
    await env.waitReady(FIREWALL.plural, "web");
    await row("device Ready", "vnfdevices", pf, {
      kstatus: "Current",
      waitReady: true,
      argo33: "Healthy",
      argo36: "Healthy",
    });
    await row("rule Ready", FIREWALL.plural, "web", {
      kstatus: "Current",
      waitReady: true,
      argo33: "Healthy",
      argo36: "Healthy",
    });
  });

  it("after an edit, before the operator acted on it: InProgress, and kubectl wait does not pass on the old Ready", async () => {
    await env.operator.stop();
    await env.apply(ruleManifest(FIREWALL, "web", pf, rule("web v2", "443")));
    const s = await row("rule edited, not yet acted on", FIREWALL.plural, "web", {
      kstatus: "InProgress",
      waitReady: false,
      argo33: "Progressing",
      argo36: "Progressing",
    });
    expect(conditionOf(s.obj as KubeObj, "Ready")?.status).toBe("True"); // Ready, but for generation 1
    await env.startOperator();
    await env.waitReady(FIREWALL.plural, "web");
    await row("rule edited, applied", FIREWALL.plural, "web", {
      kstatus: "Current",
      waitReady: true,
      argo33: "Healthy",
      argo36: "Healthy",
    });
  });

  it("the appliance refuses the rule: Failed / Degraded, saying why", async () => {
    await env.sim.control.injectFault({
      kind: "status",
      status: 400,
      method: "POST",
      pathPrefix: "/api/v2/firewall/rule",
      times: 1,
    });
    await env.apply(ruleManifest(FIREWALL, "refused", pf, rule("refused", "25")));
    await env.waitCondition(
      FIREWALL.plural,
      "refused",
      (o) => conditionOf(o, "Stalled")?.status === "True",
      "Stalled",
    );
    const s = await row("appliance refusal (VNF_INVALID)", FIREWALL.plural, "refused", {
      kstatus: "Failed",
      waitReady: false,
      argo33: "Degraded",
      argo36: "Degraded",
    });
    expect(stalledMessage(s.obj)).toMatch(/VNF_INVALID/);
  });

  it("a rule applied before its device: waits through the grace period, then Stalled, then converges when the device appears", async () => {
    await env.apply(ruleManifest(FIREWALL, "early", "late-dev", rule("early", "8443")));
    await env.waitCondition(
      FIREWALL.plural,
      "early",
      (o) => conditionOf(o, "Ready")?.reason === "DeviceNotFound",
      "waiting",
    );
    await row("device missing, within the grace period", FIREWALL.plural, "early", {
      kstatus: "InProgress",
      waitReady: false,
      argo33: "Progressing",
      argo36: "Progressing",
    });
    await env.waitCondition(
      FIREWALL.plural,
      "early",
      (o) => conditionOf(o, "Stalled")?.reason === "DeviceNotFound",
      "Stalled DeviceNotFound",
      GRACE_MS + 15_000,
    );
    const s = await row("device missing, after the grace period", FIREWALL.plural, "early", {
      kstatus: "Failed",
      waitReady: false,
      argo33: "Degraded",
      argo36: "Degraded",
    });
    expect(stalledMessage(s.obj)).toMatch(/VnfDevice late-dev does not exist.*create it/);
    await env.addDevice({ vendor: "pfsense", name: "late-dev" });
    await env.waitReady(FIREWALL.plural, "early");
    await row("device created after the grace period", FIREWALL.plural, "early", {
      kstatus: "Current",
      waitReady: true,
      argo33: "Healthy",
      argo36: "Healthy",
    });
  });

  it("a missing credentials Secret: waits through the grace period, then Stalled, Ready once it is created", async () => {
    await env.apply({
      apiVersion: "vnf-operator.io/v1alpha1",
      kind: "VnfDevice",
      metadata: { name: "secretless" },
      spec: {
        vendor: "pfsense",
        endpoint: env.sim.url,
        credentialsSecretRef: { name: "secretless-credentials" },
        tls: { caSecretRef: { name: `${pf}-ca` } },
      },
    });
    await env.waitCondition(
      "vnfdevices",
      "secretless",
      (o) => conditionOf(o, "Ready")?.reason === "CredentialsNotFound",
      "waiting",
    );
    await row("Secret missing, within the grace period", "vnfdevices", "secretless", {
      kstatus: "InProgress",
      waitReady: false,
      argo33: "Progressing",
      argo36: "Progressing",
    });
    await env.waitCondition(
      "vnfdevices",
      "secretless",
      (o) => conditionOf(o, "Stalled")?.reason === "CredentialsNotFound",
      "Stalled CredentialsNotFound",
      GRACE_MS + 15_000,
    );
    const s = await row("Secret missing, after the grace period", "vnfdevices", "secretless", {
      kstatus: "Failed",
      waitReady: false,
      argo33: "Degraded",
      argo36: "Degraded",
    });
    expect(stalledMessage(s.obj)).toMatch(
      /Secret \S+\/secretless-credentials .*not found .*carry the label vnf-operator\.io\/credentials=true: create or label it \(checked again in /,
    );
    await env.core.createNamespacedSecret({
      namespace: env.namespace,
      body: {
        metadata: { name: "secretless-credentials", labels: { [CREDENTIALS_LABEL]: "true" } },
        stringData: env.sim.credentials,
      },
    });
    await env.waitReady("vnfdevices", "secretless");
    await row("Secret created", "vnfdevices", "secretless", {
      kstatus: "Current",
      waitReady: true,
      argo33: "Healthy",
      argo36: "Healthy",
    });
  });

  it("a suspended device and its rules: Current (a wait ends), Suspended in Argo CD, never Ready for kubectl wait", async () => {
    const patched = await env.kubectl([
      "patch",
      "vnfdevices/late-dev",
      "--type",
      "merge",
      "-p",
      '{"spec":{"suspend":true}}',
    ]);
    expect(patched.code, patched.stderr).toBe(0);
    await env.waitCondition(
      "vnfdevices",
      "late-dev",
      (o) => conditionOf(o, "Suspended")?.status === "True",
      "Suspended",
    );
    await env.waitCondition(
      FIREWALL.plural,
      "early",
      (o) => conditionOf(o, "Suspended")?.status === "True",
      "Suspended",
    );
    await row("device suspended", "vnfdevices", "late-dev", {
      kstatus: "Current",
      waitReady: false,
      argo33: "Suspended",
      argo36: "Suspended",
    });
    await row("rule of a suspended device", FIREWALL.plural, "early", {
      kstatus: "Current",
      waitReady: false,
      argo33: "Suspended",
      argo36: "Suspended",
    });
    await env.kubectl([
      "patch",
      "vnfdevices/late-dev",
      "--type",
      "merge",
      "-p",
      '{"spec":{"suspend":false}}',
    ]);
    await env.waitReady("vnfdevices", "late-dev");
    await env.waitReady(FIREWALL.plural, "early");
  });

  it("a deletion the appliance refuses: Terminating for kstatus, Degraded with what to do on Argo CD 3.6; it resumes once the appliance accepts", async () => {
    const doomed = await env.waitReady(FIREWALL.plural, "web");
    await env.sim.control.injectFault({
      kind: "status",
      status: 401,
      method: "DELETE",
      pathPrefix: "/api/v2/firewall/rule",
    });
    const deleted = await env.kubectl(["delete", `${FIREWALL.plural}/web`, "--wait=false"]);
    expect(deleted.code, deleted.stderr).toBe(0);
    await env.waitCondition(
      FIREWALL.plural,
      "web",
      (o) => conditionOf(o, "Stalled")?.status === "True",
      "deletion Stalled",
      30_000,
    );
    const s = await row(
      "deletion blocked (refused twice, the device's own check passing)",
      FIREWALL.plural,
      "web",
      {
        kstatus: "Terminating",
        waitReady: false,
        argo33: "Progressing",
        argo36: "Degraded",
      },
    );
    expect(s.argo["v3.3"].message).toBe("Pending deletion");
    expect(s.argo["v3.6"].message).toMatch(/^Deletion blocked: VNF_AUTH: delete failed/);
    const waitDelete = await env.kubectl(["wait", `${FIREWALL.plural}/web`, "--for=delete", "--timeout=1s"]);
    expect(waitDelete.code).not.toBe(0);

    await env.sim.control.clearFaults(); // the appliance accepts deletes again
    await env.waitGone(FIREWALL.plural, "web", 30_000);
    await row("deletion resumed and completed", FIREWALL.plural, "web", {
      kstatus: "NotFound",
      waitReady: false,
      argo33: "Missing",
      argo36: "Missing",
    });
    await waitUntil("the rule gone from the appliance", async () =>
      (await objectsContaining(env.sim, "firewallRule", ruleMarkerText(doomed.metadata.uid), "running"))
        .length === 0
        ? true
        : undefined,
    );
  });

  it("prints the table (docs/status.md shows it)", () => {
    console.log(
      [
        "| state | kstatus | kubectl wait Ready | Argo CD 3.3 | Argo CD 3.6 |",
        "| --- | --- | --- | --- | --- |",
        ...table,
      ].join("\n"),
    );
    expect(table).toHaveLength(17);
  });
});
