// The image e2e's translation of a pod spec into `podman run` (test/support/pod-runner.ts): what the
// kubelet would do, and a refusal for anything it does not translate, so that a chart change cannot
// silently go untested.
import type { V1PodSpec } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { planPodRun, quantity } from "../../support/pod-runner.ts";

const inputs = {
  podName: "rel-vnf-operator-abc12",
  namespace: "ops",
  serviceAccount: { name: "rel-vnf-operator", dir: "/tmp/sa", host: "127.0.0.1", port: 6443 },
};

function spec(overrides: Partial<V1PodSpec> = {}, container: object = {}): V1PodSpec {
  return {
    serviceAccountName: "rel-vnf-operator",
    securityContext: { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, fsGroup: 65532 },
    terminationGracePeriodSeconds: 45,
    containers: [
      {
        name: "operator",
        image: "localhost/vnf-operator:x",
        args: ["run"],
        env: [
          { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
          { name: "POD_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
          { name: "VNF_LOG_LEVEL", value: "info" },
        ],
        ports: [{ name: "probes", containerPort: 18081 }],
        readinessProbe: { httpGet: { path: "/readyz", port: "probes" }, periodSeconds: 5 },
        livenessProbe: { tcpSocket: { port: 18081 } },
        resources: { requests: { cpu: "50m" }, limits: { memory: "512Mi", cpu: "500m" } },
        securityContext: {
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ["ALL"] },
          seccompProfile: { type: "RuntimeDefault" },
        },
        volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
        ...container,
      },
    ],
    volumes: [{ name: "tmp", emptyDir: { sizeLimit: "64Mi" } }],
    ...overrides,
  };
}

describe("planPodRun", () => {
  it("translates the security context, env, limits, volumes, probes and the ServiceAccount mount", () => {
    const plan = planPodRun("podman", spec(), "operator", inputs);
    expect(plan.runArgs).toEqual([
      "--network=host",
      "--pull=never",
      "--user=65532:65532",
      "--group-add=65532",
      "--security-opt=no-new-privileges",
      "--read-only",
      "--read-only-tmpfs=false",
      "--cap-drop=ALL",
      `--memory=${512 * 1024 * 1024}`,
      "--cpus=0.5",
      "--volume=/tmp/sa:/var/run/secrets/kubernetes.io/serviceaccount:ro",
      "--env=POD_NAME=rel-vnf-operator-abc12",
      "--env=POD_NAMESPACE=ops",
      "--env=VNF_LOG_LEVEL=info",
      "--env=KUBERNETES_SERVICE_HOST=127.0.0.1",
      "--env=KUBERNETES_SERVICE_PORT=6443",
      `--mount=type=tmpfs,destination=/tmp,tmpfs-mode=1777,tmpfs-size=${64 * 1024 * 1024}`,
    ]);
    expect(plan.args).toEqual(["run"]);
    expect(plan.gracePeriodSeconds).toBe(45);
    expect(plan.probes).toEqual([
      { kind: "liveness", type: "tcp", port: 18081, budgetSeconds: 30 },
      { kind: "readiness", type: "http", port: 18081, path: "/readyz", scheme: "HTTP", budgetSeconds: 15 },
    ]);
  });

  it("docker gets no podman-only flag; command replaces the entrypoint", () => {
    const plan = planPodRun("docker", spec({}, { command: ["node", "--inspect"] }), "operator", inputs);
    expect(plan.runArgs).not.toContain("--read-only-tmpfs=false");
    expect(plan.runArgs).toContain("--read-only");
    expect(plan.runArgs).toContain("--entrypoint=node");
    expect(plan.args).toEqual(["--inspect", "run"]);
  });

  it.each([
    ["an unknown pod field", spec({ hostNetwork: true }), /does not know how to run hostNetwork/],
    ["an unknown container field", spec({}, { lifecycle: {} }), /does not know how to run lifecycle/],
    [
      "an unknown securityContext field",
      spec({}, { securityContext: { procMount: "Unmasked" } }),
      /does not know how to run procMount/,
    ],
    ["privileged", spec({}, { securityContext: { privileged: true } }), /privileged/],
    [
      "runAsNonRoot with uid 0",
      spec({ securityContext: { runAsNonRoot: true, runAsUser: 0 } }),
      /kubelet would refuse/,
    ],
    ["no uid", spec({ securityContext: {} }), /no runAsUser/],
    [
      "another ServiceAccount",
      spec({ serviceAccountName: "someone-else" }),
      /someone-else, the token given is rel-vnf-operator's/,
    ],
    [
      "an unresolvable env",
      spec({}, { env: [{ name: "X", valueFrom: { secretKeyRef: { name: "s", key: "k" } } }] }),
      /cannot resolve env X/,
    ],
    [
      "a hostPath volume",
      spec({ volumes: [{ name: "tmp", hostPath: { path: "/" } }] }),
      /only emptyDir, secret and configMap/,
    ],
    [
      "a Secret volume without a stand-in",
      spec({ volumes: [{ name: "tmp", secret: { secretName: "jwt" } }] }),
      /no stand-in for Secret volume jwt/,
    ],
    [
      "an exec probe",
      spec({}, { startupProbe: { exec: { command: ["true"] } } }),
      /only httpGet and tcpSocket/,
    ],
    [
      "a probe on an unknown port name",
      spec({}, { readinessProbe: { httpGet: { path: "/", port: "web" } } }),
      /unknown port web/,
    ],
  ])("refuses %s", (_name, podSpec, message) => {
    expect(() => planPodRun("podman", podSpec, "operator", inputs)).toThrow(message);
  });

  it.each([
    ["64Mi", 64 * 1024 * 1024],
    ["1Gi", 1024 ** 3],
    ["500m", 0.5],
    ["2", 2],
    ["128M", 128e6],
  ])("quantity(%s) = %d", (text, value) => {
    expect(quantity(text)).toBe(value);
  });
});
