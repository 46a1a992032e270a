// The Argo CD health check (deploy/argocd/health.lua, shipped in deploy/argocd/argocd-cm.yaml) run in
// Argo CD's own Lua runtime: gopher-lua with only the libraries Argo CD opens for argocd-cm scripts
// (base, table, package, os.time/os.date; no string, no math), through hack/tools/argocd-lua. What the
// user then sees is gitops-engine's answer, which for an object being deleted differs by version
// (test/support/argocd.ts): Argo CD 3.3 shows "Pending deletion" whatever the script says; 3.6 shows the
// script's answer only when it sets deletionMessage.
import { readFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import {
  ARGO_VERSIONS,
  type ArgoHealthStatus,
  type ArgoVersion,
  argocdLuaBinary,
  argoHealth,
  runHealthScript,
} from "../support/argocd.ts";

const root = path.resolve(import.meta.dirname, "../..");
const script = readFileSync(path.join(root, "deploy/argocd/health.lua"), "utf8");
const argocdCm = parse(readFileSync(path.join(root, "deploy/argocd/argocd-cm.yaml"), "utf8")) as {
  data: Record<string, string>;
};
const KINDS = ["VnfDevice", "VnfFirewallRule", "VnfNatRule"] as const;

interface Cond {
  type: string;
  status: "True" | "False" | "Unknown";
  reason: string;
  message?: string;
  observedGeneration?: number;
}

interface Sample {
  generation: number;
  /** undefined: no status at all. */
  observedGeneration?: number;
  conditions?: Cond[];
  deleting?: boolean;
  suspend?: boolean;
}

function objectOf(kind: string, s: Sample): object {
  return {
    apiVersion: "vnf-operator.io/v1alpha1",
    kind,
    metadata: {
      name: "allow-https",
      namespace: "edge",
      generation: s.generation,
      ...(s.deleting
        ? { deletionTimestamp: "2026-11-23T10:00:00Z", finalizers: ["vnf-operator.io/cleanup"] }
        : {}),
    },
    spec: { deviceRef: { name: "edge-fw" }, ...(s.suspend ? { suspend: true } : {}) },
    ...(s.observedGeneration === undefined && s.conditions === undefined
      ? {}
      : {
          status: {
            ...(s.observedGeneration === undefined ? {} : { observedGeneration: s.observedGeneration }),
            ...(s.conditions === undefined
              ? {}
              : {
                  conditions: s.conditions.map((c) => ({
                    lastTransitionTime: "2026-11-23T09:00:00Z",
                    message: "",
                    ...c,
                  })),
                }),
          },
        }),
  };
}

const c = (type: string, status: Cond["status"], reason: string, gen: number, message = ""): Cond => ({
  type,
  status,
  reason,
  message,
  observedGeneration: gen,
});

type Expected = { status: ArgoHealthStatus; message: RegExp };

interface Row {
  name: string;
  sample: Sample;
  /** What Argo CD shows; per version where they differ. */
  argo: Expected | Record<ArgoVersion, Expected>;
}

const progressing = (message: RegExp): Expected => ({ status: "Progressing", message });
const PENDING = progressing(/^Pending deletion$/);

const TABLE: Row[] = [
  {
    name: "created, the operator has not written status (observedGeneration -1, the CRD default)",
    sample: { generation: 1, observedGeneration: -1 },
    argo: progressing(/^Waiting for the operator to report status$/),
  },
  {
    name: "no status at all",
    sample: { generation: 1 },
    argo: progressing(/^Waiting for the operator to report status$/),
  },
  {
    name: "Ready=True for the current generation",
    sample: {
      generation: 3,
      observedGeneration: 3,
      conditions: [c("Ready", "True", "Applied", 3, "on the appliance")],
    },
    argo: { status: "Healthy", message: /^Applied: on the appliance$/ },
  },
  {
    name: "edited: generation ahead of observedGeneration (Ready=True left from the old spec)",
    sample: { generation: 4, observedGeneration: 3, conditions: [c("Ready", "True", "Applied", 3)] },
    argo: progressing(/^Waiting for the operator to observe generation 4$/),
  },
  {
    name: "Ready's own observedGeneration behind",
    sample: { generation: 4, observedGeneration: 4, conditions: [c("Ready", "True", "Applied", 3)] },
    argo: progressing(/^Waiting for the operator to observe generation 4$/),
  },
  {
    name: "applying (Reconciling=True)",
    sample: {
      generation: 2,
      observedGeneration: 2,
      conditions: [
        c("Ready", "False", "Applying", 2),
        c("Reconciling", "True", "Applying", 2, "create in progress"),
      ],
    },
    argo: progressing(/^Applying: create in progress$/),
  },
  {
    name: "retrying a transient appliance error",
    sample: {
      generation: 1,
      observedGeneration: 1,
      conditions: [
        c("Ready", "False", "VNF_UNREACHABLE", 1, "connection refused"),
        c(
          "Reconciling",
          "True",
          "RetryingAfterError",
          1,
          "VNF_UNREACHABLE is retryable: retrying with backoff",
        ),
      ],
    },
    argo: progressing(/^RetryingAfterError: VNF_UNREACHABLE is retryable/),
  },
  {
    name: "waiting for the device (Ready=False, nothing abnormal)",
    sample: {
      generation: 1,
      observedGeneration: 1,
      conditions: [c("Ready", "False", "DeviceNotFound", 1, "VnfDevice edge-fw does not exist (yet)")],
    },
    argo: progressing(/^DeviceNotFound: VnfDevice edge-fw does not exist \(yet\)$/),
  },
  {
    name: "Ready=Unknown",
    sample: { generation: 1, observedGeneration: 1, conditions: [c("Ready", "Unknown", "Pending", 1)] },
    argo: progressing(/^Pending$/),
  },
  {
    name: "Stalled (needs a human)",
    sample: {
      generation: 2,
      observedGeneration: 2,
      conditions: [
        c("Ready", "False", "VNF_INVALID", 2, "port out of range"),
        c("Stalled", "True", "VNF_INVALID", 2, "port out of range: fix spec.destination.port"),
      ],
    },
    argo: { status: "Degraded", message: /^VNF_INVALID: port out of range: fix spec.destination.port$/ },
  },
  {
    name: "Stalled for an older generation (the new spec may fix it)",
    sample: {
      generation: 3,
      observedGeneration: 2,
      conditions: [c("Ready", "False", "VNF_INVALID", 2), c("Stalled", "True", "VNF_INVALID", 2)],
    },
    argo: progressing(/^Waiting for the operator to observe generation 3$/),
  },
  {
    name: "suspended device (Suspended=True, no Ready)",
    sample: {
      generation: 2,
      observedGeneration: 2,
      suspend: true,
      conditions: [c("Suspended", "True", "Suspended", 2, "spec.suspend is true")],
    },
    argo: { status: "Suspended", message: /^Suspended: spec.suspend is true$/ },
  },
  {
    name: "rule of a suspended device",
    sample: {
      generation: 1,
      observedGeneration: 1,
      conditions: [c("Suspended", "True", "DeviceSuspended", 1, "VnfDevice edge-fw is suspended")],
    },
    argo: { status: "Suspended", message: /^DeviceSuspended: VnfDevice edge-fw is suspended$/ },
  },
  {
    name: "being deleted",
    sample: {
      generation: 2,
      observedGeneration: 2,
      deleting: true,
      conditions: [
        c("Ready", "True", "Applied", 2),
        c("Reconciling", "True", "Deleting", 2, "delete in progress"),
      ],
    },
    argo: { "v3.3": PENDING, "v3.6": progressing(/^Deleting: delete in progress$/) },
  },
  {
    name: "being deleted, without status",
    sample: { generation: 1, deleting: true },
    argo: {
      "v3.3": PENDING,
      "v3.6": progressing(/^Deleting: the operator removes it from the appliance$/),
    },
  },
  {
    name: "being deleted, waiting for its device",
    sample: {
      generation: 2,
      observedGeneration: 2,
      deleting: true,
      conditions: [c("Ready", "False", "DeviceNotReady", 2, "deletion completes when the device recovers")],
    },
    argo: {
      "v3.3": PENDING,
      "v3.6": progressing(/^Deleting: DeviceNotReady: deletion completes when the device recovers$/),
    },
  },
  {
    name: "being deleted while its device is suspended",
    sample: {
      generation: 1,
      observedGeneration: 1,
      deleting: true,
      conditions: [c("Suspended", "True", "DeviceSuspended", 1, "deleted when the device resumes")],
    },
    argo: {
      "v3.3": PENDING,
      "v3.6": progressing(/^Deleting: DeviceSuspended: deleted when the device resumes$/),
    },
  },
  {
    name: "deletion blocked (Stalled)",
    sample: {
      generation: 2,
      observedGeneration: 2,
      deleting: true,
      conditions: [
        c("Ready", "False", "DeviceStalled", 2),
        c(
          "Stalled",
          "True",
          "DeviceStalled",
          2,
          "VnfDevice edge-fw refuses the credentials: fix Secret edge-creds",
        ),
      ],
    },
    argo: {
      "v3.3": PENDING,
      "v3.6": {
        status: "Degraded",
        message:
          /^Deletion blocked: DeviceStalled: VnfDevice edge-fw refuses the credentials: fix Secret edge-creds$/,
      },
    },
  },
];

beforeAll(async () => {
  await argocdLuaBinary(); // the first run builds it (seconds; minutes on a cold Go cache)
}, 600_000);

describe("Argo CD health Lua, in Argo CD's runtime (gopher-lua, base/table/package/os only)", () => {
  it("argocd-cm ships the same script for each of the three kinds", () => {
    for (const kind of KINDS) {
      expect(argocdCm.data[`resource.customizations.health.vnf-operator.io_${kind}`]).toBe(script);
    }
    expect(Object.keys(argocdCm.data)).toHaveLength(KINDS.length);
  });

  it("the runtime has Argo CD's library set: no string, math or io; string methods fail; os has time and date only", async () => {
    const probe = `
      local os2 = require("os")
      local ok = string == nil and math == nil and io == nil and debug == nil and coroutine == nil
        and type(os.time) == "function" and type(os.date) == "function" and os.exit == nil
        and os.getenv == nil and os2.time ~= nil and type(table.insert) == "function"
      return {status = ok and "Healthy" or "Degraded", message = tostring(ok)}`;
    const [libs, method, unknown, notATable] = await runHealthScript(probe, [{}]).then(async (first) => [
      ...first,
      ...(await runHealthScript('return {status = ("x"):upper()}', [{}])),
      ...(await runHealthScript('return {status = "Fine"}', [{}])),
      ...(await runHealthScript("return 1", [{}])),
    ]);
    expect(libs).toEqual({ status: "Healthy", message: "true" });
    expect(method?.error).toMatch(/attempt to index a non-table object\(string\) with key 'upper'/);
    expect(unknown).toEqual({ status: "Unknown", message: "Lua returned an invalid health status" });
    expect(notATable?.error).toMatch(/expect table output/);
  });

  for (const kind of KINDS) {
    describe(kind, () => {
      const source = argocdCm.data[`resource.customizations.health.vnf-operator.io_${kind}`] ?? "";
      for (const version of ARGO_VERSIONS) {
        it(`every state, as Argo CD ${version} shows it`, async () => {
          const objects = TABLE.map((row) => objectOf(kind, row.sample));
          const results = await runHealthScript(source, objects);
          for (const [i, row] of TABLE.entries()) {
            const result = results[i] ?? {};
            expect.soft(result.error, `${row.name}: the script failed`).toBeUndefined();
            const expected = "status" in row.argo ? row.argo : row.argo[version];
            const health = argoHealth(version, objects[i] as object, result);
            expect.soft(health.status, row.name).toBe(expected.status);
            expect.soft(health.message, row.name).toMatch(expected.message);
          }
        });
      }
    });
  }
});

describe("gitops-engine model (test/support/argocd.ts)", () => {
  const deleting = { metadata: { deletionTimestamp: "2026-01-01T00:00:00Z" } };
  it.each([
    [
      "v3.3 ignores the script for a deleting object",
      "v3.3",
      deleting,
      { status: "Degraded", deletionMessage: "x" },
      PENDING,
    ],
    [
      "v3.6 uses a deleting object's answer when it sets deletionMessage",
      "v3.6",
      deleting,
      { status: "Degraded", message: "m", deletionMessage: "blocked" },
      { status: "Degraded", message: /^blocked$/ },
    ],
    [
      "v3.6 ignores a deleting object's answer without deletionMessage",
      "v3.6",
      deleting,
      { status: "Degraded", message: "m" },
      PENDING,
    ],
    [
      "a script error on a live object is Unknown",
      "v3.6",
      {},
      { error: "boom" },
      { status: "Unknown", message: /^boom$/ },
    ],
    [
      "Argo CD's own hook finalizer: the script decides even while deleting",
      "v3.3",
      {
        metadata: {
          deletionTimestamp: "2026-01-01T00:00:00Z",
          finalizers: ["argocd.argoproj.io/hook-finalizer"],
        },
      },
      { status: "Degraded", message: "m" },
      { status: "Degraded", message: /^m$/ },
    ],
  ] as const)("%s", (_name, version, obj, script, expected) => {
    const health = argoHealth(version, obj, script);
    expect(health.status).toBe(expected.status);
    expect(health.message).toMatch(expected.message);
  });
});
