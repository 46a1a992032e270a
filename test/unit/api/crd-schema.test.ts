// Structural checks on the hand-written CRDs that the API server does not make: every field is
// documented (kubectl explain), every string/list/map is bounded (CEL cost), every CEL rule says what
// to fix, the fields the issue names exist, and both rule kinds share one status (operation journal).
import { describe, expect, it } from "vitest";
import { type CrdDocument, loadCrdDocuments, walkSchema } from "./crd-files.ts";

const documents = loadCrdDocuments();
const byKind = (kind: string): CrdDocument => {
  const doc = documents.find((d) => d.spec.names.kind === kind);
  if (!doc) throw new Error(`no CRD for ${kind}`);
  return doc;
};
const schemaOf = (kind: string) => byKind(kind).spec.versions[0]!.schema.openAPIV3Schema;

const ERROR_CODES = [
  "VNF_TIMEOUT",
  "VNF_AUTH",
  "VNF_CONFLICT",
  "VNF_INVALID",
  "VNF_UPSTREAM",
  "VNF_UNREACHABLE",
  "VNF_CAPACITY",
  "VNF_RATE_LIMIT",
  "BROKER_INVALID_REQUEST",
  "BROKER_INTERNAL",
];

/** The fields issue #3 names, per kind (the CRDs may add more). */
const ISSUE_FIELDS: Record<string, string[]> = {
  VnfDevice: [
    "spec.vendor",
    "spec.dictionary",
    "spec.endpoint",
    "spec.credentialsSecretRef.name",
    "spec.tls.caSecretRef.name",
    "spec.tls.caSecretRef.key",
    "spec.tls.insecureSkipVerify",
    "spec.tls.serverName",
    "spec.parameters",
    "spec.limits.maxConcurrentRequests",
    "spec.limits.requestsPerSecond",
    "spec.activation.mode",
    "spec.activation.batchWindow",
    "spec.driftDetection.interval",
    "spec.driftDetection.mode",
    "spec.driftDetection.unmanaged",
    "spec.suspend",
    "status.conditions",
    "status.observedGeneration",
    "status.vendorVersion",
    "status.serial",
    "status.lastHealthCheckTime",
    "status.managedRules",
    "status.unmanagedObjects",
    "status.lastDriftCheckTime",
    "status.lastActivation",
  ],
  VnfFirewallRule: [
    "spec.deviceRef.name",
    "spec.ruleId",
    "spec.interface",
    "spec.direction",
    "spec.action",
    "spec.protocol",
    "spec.source.cidr",
    "spec.source.alias",
    "spec.source.port",
    "spec.destination.cidr",
    "spec.destination.alias",
    "spec.destination.port",
    "spec.description",
    "spec.enabled",
    "spec.log",
    "spec.priority",
    "spec.deletionPolicy",
  ],
  VnfNatRule: [
    "spec.deviceRef.name",
    "spec.ruleId",
    "spec.type",
    "spec.interface",
    "spec.protocol",
    "spec.source.cidr",
    "spec.destination.address",
    "spec.destination.port",
    "spec.translated.address",
    "spec.translated.port",
    "spec.description",
    "spec.enabled",
    "spec.log",
    "spec.priority",
    "spec.deletionPolicy",
  ],
};
const RULE_STATUS_FIELDS = [
  "status.conditions",
  "status.observedGeneration",
  "status.vendorRef",
  "status.opHash",
  "status.appliedAt",
  "status.lastSyncTime",
  "status.errorCode",
  "status.pendingOperation.operation",
  "status.pendingOperation.opHash",
  "status.pendingOperation.startedAt",
  "status.pendingOperation.vendorRef",
  "status.pendingOperation.attempt",
  "status.ruleNumber",
];

describe.each(documents.map((d) => [d.spec.names.kind, d] as const))("CRD %s", (kind, doc) => {
  const version = doc.spec.versions[0]!;
  const nodes = walkSchema(version.schema.openAPIV3Schema);

  it("is a namespaced vnf-operator.io/v1alpha1 CRD with a status subresource, short name and category", () => {
    expect(doc.apiVersion).toBe("apiextensions.k8s.io/v1");
    expect(doc.spec.scope).toBe("Namespaced");
    expect(doc.spec.versions).toHaveLength(1);
    expect(version).toMatchObject({ name: "v1alpha1", served: true, storage: true });
    expect(version.subresources?.status).toEqual({});
    expect(doc.spec.names.categories).toEqual(["vnf"]);
    expect(doc.spec.names.shortNames).toHaveLength(1);
  });

  it("documents every field (kubectl explain)", () => {
    const undocumented = nodes
      .filter(({ path, node }) => path !== "metadata" && !node.description?.trim())
      .map(({ path }) => path || "(root)");
    expect(undocumented).toEqual([]);
  });

  it("bounds every string, list and map (CEL cost estimation)", () => {
    const unbounded = nodes
      .filter(({ node }) => {
        if (node.type === "string") return !node.enum && node.format !== "date-time" && !node.maxLength;
        if (node.type === "array") return !node.maxItems;
        if (typeof node.additionalProperties === "object") return !node.maxProperties;
        return false;
      })
      .map(({ path }) => path);
    expect(unbounded).toEqual([]);
  });

  it("gives every CEL rule a message", () => {
    const rules = nodes.flatMap(({ path, node }) =>
      (node["x-kubernetes-validations"] ?? []).map((rule) => ({ path, ...rule })),
    );
    expect(rules.length).toBeGreaterThan(0);
    expect(rules.filter((r) => !r.message?.trim()).map((r) => `${r.path}: ${r.rule}`)).toEqual([]);
  });

  it("has the fields the issue names", () => {
    const paths = new Set(nodes.map((n) => n.path));
    const expected = [...(ISSUE_FIELDS[kind] ?? []), ...(kind === "VnfDevice" ? [] : RULE_STATUS_FIELDS)];
    expect(expected.filter((p) => !paths.has(p))).toEqual([]);
  });

  it("keeps conditions as a list-map keyed by type in metav1.Condition shape", () => {
    const conditions = nodes.find((n) => n.path === "status.conditions")!.node;
    expect(conditions["x-kubernetes-list-type"]).toBe("map");
    expect(conditions["x-kubernetes-list-map-keys"]).toEqual(["type"]);
    expect(conditions.items?.required?.slice().sort()).toEqual(
      ["lastTransitionTime", "message", "reason", "status", "type"].sort(),
    );
    expect(conditions.items?.properties?.status?.enum).toEqual(["True", "False", "Unknown"]);
  });

  it("restricts status.errorCode to the ten broker codes", () => {
    expect(nodes.find((n) => n.path === "status.errorCode")?.node.enum).toEqual(ERROR_CODES);
  });

  it("prints Ready, Reason and Age columns, with extra detail only in -o wide", () => {
    const columns = version.additionalPrinterColumns;
    const byName = new Map(columns.map((c) => [c.name, c]));
    expect(byName.get("Ready")?.jsonPath).toBe('.status.conditions[?(@.type=="Ready")].status');
    expect(byName.get("Reason")?.jsonPath).toBe('.status.conditions[?(@.type=="Ready")].reason');
    expect(byName.get("Age")).toMatchObject({ type: "date", jsonPath: ".metadata.creationTimestamp" });
    expect(columns.some((c) => (c.priority ?? 0) > 0)).toBe(true);
    const paths = new Set(nodes.map((n) => n.path));
    // Every column points at a declared field (a typo would show an empty column forever).
    const dangling = columns
      .map((c) => c.jsonPath.replace(/\['(\w+)'.*\]$/, ".$1").replace(/\[\?.*\]\.\w+$/, ""))
      .filter((p) => !p.startsWith(".metadata.") && !paths.has(p.slice(1)));
    expect(dangling).toEqual([]);
  });
});

describe("rule CRDs", () => {
  it("share one status schema, so the operation journal is the same for both kinds", () => {
    expect(schemaOf("VnfNatRule").properties?.status).toEqual(schemaOf("VnfFirewallRule").properties?.status);
  });

  it.each(["VnfFirewallRule", "VnfNatRule"])(
    "%s prints device, type/action, Ready, Reason, VendorRef, Age",
    (kind) => {
      const columns = byKind(kind).spec.versions[0]!.additionalPrinterColumns.filter((c) => !c.priority);
      const names = columns.map((c) => c.name);
      expect(names[0]).toBe("Device");
      expect(names[1]).toBe(kind === "VnfNatRule" ? "Type" : "Action");
      expect(names.slice(-4)).toEqual(["Ready", "Reason", "VendorRef", "Age"]);
      expect(columns.find((c) => c.name === "VendorRef")?.jsonPath).toBe(".status.vendorRef");
    },
  );

  it("makes deviceRef.name immutable in both kinds", () => {
    for (const kind of ["VnfFirewallRule", "VnfNatRule"]) {
      const name = schemaOf(kind).properties?.spec?.properties?.deviceRef?.properties?.name;
      expect(name?.["x-kubernetes-validations"]?.map((v) => v.rule)).toContain("self == oldSelf");
    }
  });
});
