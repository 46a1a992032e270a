// A rule may only reference a device in its own namespace. The CRD has only deviceRef.name: the API
// server refuses deviceRef.namespace under strict field validation (kubectl's default), and without
// validation the field is pruned — the rule then names a device in ITS namespace. The operator, which
// here watches both namespaces, never looks anywhere else: the rule waits (DeviceNotFound) and the
// other namespace's appliance never hears of it; a device of that name in the rule's own namespace
// is the one used.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CREDENTIALS_LABEL } from "../../src/api/group.ts";
import { startSimulator } from "../simulators/index.ts";
import { createTestNamespace, kubeconfigPath, waitUntil } from "../support/kube.ts";
import { kubectl } from "../support/kubectl.ts";
import {
  conditionOf,
  FIREWALL,
  GROUP,
  type KubeObj,
  type OperatorEnv,
  objectsContaining,
  ruleMarkerText,
  sleep,
  startOperatorEnv,
  statusOf,
  VERSION,
} from "../support/operator-env.ts";

let env: OperatorEnv;
let other = "";
let stopAlso: () => Promise<void> = async () => {};
const device = "pfsense-dev";

const crossRule = {
  apiVersion: `${GROUP}/${VERSION}`,
  kind: FIREWALL.kind,
  metadata: { name: "cross-namespace" },
  spec: {
    deviceRef: { name: device, namespace: "" },
    interface: "wan",
    action: "allow",
    protocol: "tcp",
    destination: { cidr: "10.0.10.10", port: "443" },
    description: "points at another namespace",
  },
};

beforeAll(async () => {
  env = await startOperatorEnv({ vendor: "pfsense", prefix: "op-ns-a", startOperator: false });
  other = await createTestNamespace(env.kc, "op-ns-b");
  crossRule.spec.deviceRef.namespace = env.namespace;
  await env.startOperator({ namespaces: [env.namespace, other] });
  await env.waitReady("vnfdevices", device);
});

afterAll(async () => {
  await env?.stop();
  await stopAlso();
});

const inOther = (args: string[], input?: string) => kubectl(kubeconfigPath(), ["-n", other, ...args], input);

async function getInOther(name: string): Promise<KubeObj> {
  return (await env.custom.getNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace: other,
    plural: FIREWALL.plural,
    name,
  })) as KubeObj;
}

describe("a rule referencing a device in another namespace", () => {
  it("is refused by the API server under strict field validation (kubectl's default)", async () => {
    for (const args of [
      ["apply", "--validate=strict", "-f", "-"],
      ["apply", "-f", "-"],
    ]) {
      const result = await inOther(args, JSON.stringify(crossRule));
      expect(result.code, args.join(" ")).not.toBe(0);
      expect(result.stderr).toContain('unknown field "spec.deviceRef.namespace"');
    }
  });

  it("without validation, deviceRef.namespace is pruned and the operator looks only in the rule's namespace", async () => {
    await env.sim.control.clearRequests();
    const result = await inOther(["apply", "--validate=false", "-f", "-"], JSON.stringify(crossRule));
    expect(result.code, result.stderr).toBe(0);
    const stored = await getInOther("cross-namespace");
    expect((stored.spec as { deviceRef: Record<string, unknown> }).deviceRef).toEqual({ name: device });

    const waiting = await waitUntil("the rule waits for a device of its own namespace", async () => {
      const rule = await getInOther("cross-namespace");
      return conditionOf(rule, "Ready")?.reason === "DeviceNotFound" ? rule : undefined;
    });
    expect(conditionOf(waiting, "Ready")?.status).toBe("False");
    await sleep(1_000);
    const ruleCalls = (await env.sim.control.requests()).filter((r) =>
      r.path.startsWith("/api/v2/firewall/"),
    );
    expect(ruleCalls).toEqual([]);
    expect(await objectsContaining(env.sim, "firewallRule", ruleMarkerText(waiting.metadata.uid))).toEqual(
      [],
    );
  });

  it("a device of that name in the rule's own namespace is the one it goes to", async () => {
    const own = await startSimulator("pfsense");
    stopAlso = () => own.stop();
    // Same device name as in the first namespace, but in the rule's namespace and on another appliance.
    const apply = await inOther(
      ["apply", "-f", "-"],
      JSON.stringify({
        apiVersion: `${GROUP}/${VERSION}`,
        kind: "List",
        items: [
          {
            apiVersion: "v1",
            kind: "Secret",
            metadata: { name: "creds", labels: { [CREDENTIALS_LABEL]: "true" } },
            stringData: own.credentials,
          },
          {
            apiVersion: "v1",
            kind: "Secret",
            metadata: { name: "ca", labels: { [CREDENTIALS_LABEL]: "true" } },
            stringData: { "ca.crt": own.caPem },
          },
          {
            apiVersion: `${GROUP}/${VERSION}`,
            kind: "VnfDevice",
            metadata: { name: device },
            spec: {
              vendor: "pfsense",
              endpoint: own.url,
              credentialsSecretRef: { name: "creds" },
              tls: { caSecretRef: { name: "ca" } },
            },
          },
        ],
      }),
    );
    expect(apply.code, apply.stderr).toBe(0);
    const ready = await waitUntil("the rule Ready on its own namespace's device", async () => {
      const rule = await getInOther("cross-namespace");
      return conditionOf(rule, "Ready")?.status === "True" ? rule : undefined;
    });
    const marker = ruleMarkerText(ready.metadata.uid);
    expect(await objectsContaining(own, "firewallRule", marker, "running")).toHaveLength(1);
    expect(await objectsContaining(env.sim, "firewallRule", marker)).toEqual([]);
    expect(statusOf(ready).vendorRef).toBeTruthy();
  });
});
