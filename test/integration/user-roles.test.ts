// The roles README "Security" tells a platform team to grant (deploy/rbac/user-roles.yaml), applied
// and bound with kubectl as the README says, then asked of the real API server's RBAC authorizer with
// SubjectAccessReviews: each role allows what its row says, and nothing of the rest (no status
// subresource, no Secrets for rule editors, nothing outside the bound namespace).
import path from "node:path";
import { AuthorizationV1Api } from "@kubernetes/client-node";
import { beforeAll, describe, expect, it } from "vitest";
import { createTestNamespace, kubeconfigPath, testKubeConfig } from "../support/kube.ts";
import { kubectl } from "../support/kubectl.ts";
import { repoRoot } from "../support/operator-env.ts";

const ROLES = path.join(repoRoot, "deploy/rbac/user-roles.yaml");
const GROUPS = {
  "device-admin": "network-team",
  "rule-editor": "app-team",
  viewer: "auditors",
} as const;
type Role = keyof typeof GROUPS;

let edge: string;
let other: string;

async function run(args: string[]): Promise<void> {
  const result = await kubectl(kubeconfigPath(), args);
  expect(result.code, `kubectl ${args.join(" ")}: ${result.stderr}`).toBe(0);
}

beforeAll(async () => {
  const kc = testKubeConfig();
  edge = await createTestNamespace(kc, "roles-edge");
  other = await createTestNamespace(kc, "roles-other");
  await run(["apply", "-f", ROLES]);
  for (const [role, group] of Object.entries(GROUPS))
    await run([
      "-n",
      edge,
      "create",
      "rolebinding",
      group,
      `--clusterrole=vnf-operator:${role}`,
      `--group=${group}`,
    ]);
});

async function allowed(
  role: Role,
  verb: string,
  resource: string,
  options: { namespace?: string; subresource?: string; group?: string } = {},
): Promise<boolean> {
  const review = await testKubeConfig()
    .makeApiClient(AuthorizationV1Api)
    .createSubjectAccessReview({
      body: {
        spec: {
          user: `someone-in-${GROUPS[role]}`,
          groups: [GROUPS[role], "system:authenticated"],
          resourceAttributes: {
            namespace: options.namespace ?? edge,
            verb,
            group: options.group ?? (resource === "secrets" ? "" : "vnf-operator.io"),
            resource,
            ...(options.subresource ? { subresource: options.subresource } : {}),
          },
        },
      },
    });
  return review.status?.allowed === true;
}

const ALL_WRITES = ["create", "update", "patch", "delete"];

describe("deploy/rbac/user-roles.yaml, bound in one namespace", () => {
  it("device-admin: devices and Secrets, rules read-only", async () => {
    for (const verb of ["get", "list", "watch", ...ALL_WRITES]) {
      expect(await allowed("device-admin", verb, "vnfdevices"), `${verb} vnfdevices`).toBe(true);
      expect(await allowed("device-admin", verb, "secrets"), `${verb} secrets`).toBe(true);
    }
    expect(await allowed("device-admin", "list", "vnffirewallrules")).toBe(true);
    for (const verb of ALL_WRITES)
      expect(await allowed("device-admin", verb, "vnffirewallrules"), `${verb} vnffirewallrules`).toBe(false);
  });

  it("rule-editor: rules, devices read-only, no Secrets", async () => {
    for (const resource of ["vnffirewallrules", "vnfnatrules"])
      for (const verb of ["get", "list", "watch", ...ALL_WRITES])
        expect(await allowed("rule-editor", verb, resource), `${verb} ${resource}`).toBe(true);
    expect(await allowed("rule-editor", "get", "vnfdevices")).toBe(true);
    for (const verb of ALL_WRITES)
      expect(await allowed("rule-editor", verb, "vnfdevices"), `${verb} vnfdevices`).toBe(false);
    for (const verb of ["get", "list", "watch", "create"])
      expect(await allowed("rule-editor", verb, "secrets"), `${verb} secrets`).toBe(false);
  });

  it("viewer: reads the three kinds and Events, writes nothing, no Secrets", async () => {
    for (const resource of ["vnfdevices", "vnffirewallrules", "vnfnatrules"]) {
      expect(await allowed("viewer", "list", resource)).toBe(true);
      for (const verb of ALL_WRITES)
        expect(await allowed("viewer", verb, resource), `${verb} ${resource}`).toBe(false);
    }
    expect(await allowed("viewer", "list", "events", { group: "events.k8s.io" })).toBe(true);
    expect(await allowed("viewer", "get", "secrets")).toBe(false);
  });

  it("no role writes the status (the operator's journal), and none reaches another namespace", async () => {
    for (const role of Object.keys(GROUPS) as Role[]) {
      for (const resource of ["vnfdevices", "vnffirewallrules", "vnfnatrules"]) {
        for (const verb of ["update", "patch"])
          expect(
            await allowed(role, verb, resource, { subresource: "status" }),
            `${role} ${verb} ${resource}/status`,
          ).toBe(false);
        expect(
          await allowed(role, "get", resource, { namespace: other }),
          `${role} get ${resource} elsewhere`,
        ).toBe(false);
      }
      expect(
        await allowed(role, "get", "secrets", { namespace: other }),
        `${role} get secrets elsewhere`,
      ).toBe(false);
    }
  });
});
