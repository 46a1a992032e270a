// The CloudStack shim in the chart: off by default; when enabled, its own ServiceAccount and a
// minimal Role per namespace, a Deployment running `shim`, accepted by the real API server.
import { beforeAll, describe, expect, it } from "vitest";
import { installCrds } from "../support/crd-install.ts";
import { CHART_DIR, helm, renderChart, valuesFile } from "../support/helm.ts";
import { createTestNamespace, kubeconfigPath, testKubeConfig } from "../support/kube.ts";
import { kubectl } from "../support/kubectl.ts";

let namespaces: string[];

beforeAll(async () => {
  const kc = testKubeConfig();
  await installCrds(kc);
  namespaces = [await createTestNamespace(kc, "shim-a"), await createTestNamespace(kc, "shim-b")];
});

describe("chart: CloudStack shim", () => {
  it("renders nothing of the shim by default", async () => {
    const { objects } = await renderChart("r", "ops", {});
    expect(objects.filter((o) => o.metadata.name.endsWith("-shim"))).toEqual([]);
  });

  it("refuses to enable the shim without the JWT key Secret", async () => {
    await expect(renderChart("r", "ops", { shim: { enabled: true } })).rejects.toThrow(
      /shim[./]jwt[./]secretName/,
    );
  });

  it("helm lint --strict fails when the shim is enabled without its JWT key Secret (values schema)", async () => {
    // `required` in a template is only an INFO to helm lint; the values schema makes it an error, so
    // a CI that lints the values it deploys catches it before any cluster sees them.
    for (const jwt of [{}, { secretName: "" }]) {
      const result = await helm([
        "lint",
        "--strict",
        CHART_DIR,
        "-f",
        valuesFile({ shim: { enabled: true, jwt } }),
      ]);
      expect(result.code, result.stdout).not.toBe(0);
      expect(`${result.stdout}${result.stderr}`).toMatch(/\/shim\/jwt\/secretName': minLength/);
    }
    const ok = await helm([
      "lint",
      "--strict",
      CHART_DIR,
      "-f",
      valuesFile({ shim: { enabled: true, jwt: { secretName: "cloudstack-jwt" } } }),
    ]);
    expect(ok.code, `${ok.stdout}${ok.stderr}`).toBe(0);
    // Disabled, the JWT Secret may stay empty (the default).
    const off = await helm(["lint", "--strict", CHART_DIR, "-f", valuesFile({ shim: { enabled: false } })]);
    expect(off.code, `${off.stdout}${off.stderr}`).toBe(0);
  });

  it("grants only what the shim needs, in each of its namespaces, and the API server accepts it", async () => {
    const release = namespaces[0] ?? "";
    const { text, objects } = await renderChart("r", release, {
      shim: {
        enabled: true,
        namespaces,
        jwt: { secretName: "cloudstack-jwt" },
        tls: { secretName: "shim-tls" },
        metricsPort: 9090,
      },
    });
    const roles = objects.filter((o) => o.kind === "Role" && o.metadata.name === "r-vnf-operator-shim");
    expect(roles.map((r) => r.metadata.namespace).sort()).toEqual([...namespaces].sort());
    for (const role of roles) {
      expect(role.rules).toEqual([
        { apiGroups: ["vnf-operator.io"], resources: ["vnfdevices"], verbs: ["get", "list", "patch"] },
        {
          apiGroups: ["vnf-operator.io"],
          resources: ["vnffirewallrules", "vnfnatrules"],
          verbs: ["get", "list", "create", "patch", "delete"],
        },
      ]);
    }
    const deployment = objects.find(
      (o) => o.kind === "Deployment" && o.metadata.name === "r-vnf-operator-shim",
    ) as unknown as {
      spec: {
        template: {
          spec: {
            serviceAccountName: string;
            containers: Array<{ args: string[]; env: Array<{ name: string; value?: string }> }>;
          };
        };
      };
    };
    const container = deployment.spec.template.spec.containers[0];
    expect(deployment.spec.template.spec.serviceAccountName).toBe("r-vnf-operator-shim");
    expect(container?.args).toEqual(["shim"]);
    expect(container?.env.find((e) => e.name === "VNF_SHIM_NAMESPACES")?.value).toBe(namespaces.join(","));
    expect(container?.env.find((e) => e.name === "VNF_SHIM_TLS_CERT")?.value).toBe(
      "/etc/vnf-shim/tls/tls.crt",
    );
    // No global default interface unless asked: each device names its own (annotation).
    expect(container?.env.find((e) => e.name === "VNF_SHIM_DEFAULT_INTERFACE")).toBeUndefined();
    expect(container?.env.find((e) => e.name === "VNF_SHIM_METRICS_LISTEN")?.value).toBe(":9090");
    const result = await kubectl(kubeconfigPath(), ["apply", "--dry-run=server", "-f", "-"], text);
    expect(result.code, result.stderr).toBe(0);
  });
});
