// The CRDs against the real API server: the samples apply, kubectl shows the printer columns and
// explains the fields, status writes leave metadata.generation alone, and invalid manifests are refused
// at admission with a message that says what to fix.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { CustomObjectsApi, type KubeConfig, PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import { beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { setCondition } from "../../src/api/conditions.ts";
import {
  API_VERSION,
  GROUP,
  VERSION,
  VNF_DEVICE,
  VNF_FIREWALL_RULE,
  VNF_NAT_RULE,
} from "../../src/api/group.ts";
import type { VnfDevice, VnfFirewallRule, VnfFirewallRuleStatus, VnfNatRule } from "../../src/api/types.ts";
import { applyCrds, installCrds } from "../support/crd-install.ts";
import { KSTATUS_VERSION, kstatus } from "../support/kstatus.ts";
import { createTestNamespace, kubeconfigPath, testKubeConfig, waitUntil } from "../support/kube.ts";
import { kubectl } from "../support/kubectl.ts";

const SAMPLES = path.resolve(import.meta.dirname, "../../samples");
const VENDORS = ["pfsense", "fortios", "panos", "vyos", "opnsense"];

let kc: KubeConfig;
let custom: CustomObjectsApi;
let namespace: string;

const run = (args: string[], input?: string) => kubectl(kubeconfigPath(), args, input);
/** kubectl apply as a user would, without persisting anything. */
const dryRunApply = (manifest: object) =>
  run(
    ["apply", "--dry-run=server", "--validate=strict", "-n", namespace, "-f", "-"],
    JSON.stringify(manifest),
  );

/** kubectl get as a table: the header names and each row as header -> cell (empty cells kept). */
async function getTable(args: string[]): Promise<{ header: string[]; rows: Record<string, string>[] }> {
  const result = await run(["get", ...args, "-n", namespace]);
  expect(result.code, result.stderr).toBe(0);
  const [headerLine, ...lines] = result.stdout.trimEnd().split("\n");
  const columns = [...headerLine!.matchAll(/\S+/g)].map((m) => ({ name: m[0], start: m.index }));
  const rows = lines.map((line) =>
    Object.fromEntries(
      columns.map((c, i) => [c.name, line.slice(c.start, columns[i + 1]?.start ?? line.length).trim()]),
    ),
  );
  return { header: columns.map((c) => c.name), rows };
}

beforeAll(async () => {
  kc = testKubeConfig();
  custom = kc.makeApiClient(CustomObjectsApi);
  await installCrds(kc);
  namespace = await createTestNamespace(kc, "crds");
});

const firewallRule = (name: string): VnfFirewallRule => ({
  apiVersion: API_VERSION,
  kind: "VnfFirewallRule",
  metadata: { name },
  spec: {
    deviceRef: { name: "edge" },
    ruleId: "cs-4711",
    interface: "wan",
    action: "allow",
    protocol: "tcp",
    source: { cidr: "10.0.0.0/24" },
    destination: { cidr: "192.168.1.10", port: "443" },
  },
});

const natRule = (name: string): VnfNatRule => ({
  apiVersion: API_VERSION,
  kind: "VnfNatRule",
  metadata: { name },
  spec: {
    deviceRef: { name: "edge" },
    type: "dnat",
    interface: "wan",
    protocol: "tcp",
    destination: { address: "203.0.113.10", port: "443" },
    translated: { address: "10.0.0.10", port: "8443" },
  },
});

const device = (name: string): VnfDevice => ({
  apiVersion: API_VERSION,
  kind: "VnfDevice",
  metadata: { name },
  spec: {
    vendor: "pfsense",
    endpoint: "https://192.0.2.10:8443",
    credentialsSecretRef: { name: "edge-creds" },
  },
});

describe("installCrds", () => {
  it("is idempotent and safe when several callers apply at once", async () => {
    const results = await Promise.all([applyCrds(kc), applyCrds(kc), applyCrds(kc)]);
    for (const names of results) {
      expect(names.sort()).toEqual([
        "vnfdevices.vnf-operator.io",
        "vnffirewallrules.vnf-operator.io",
        "vnfnatrules.vnf-operator.io",
      ]);
    }
    expect(installCrds(kc)).toBe(installCrds(kc));
  });
});

describe("samples", () => {
  it.each(VENDORS)("samples/%s applies with strict validation", async (vendor) => {
    const dir = path.join(SAMPLES, vendor);
    const documents = readdirSync(dir)
      .filter((f) => f.endsWith(".yaml"))
      .flatMap((f) => parseAllDocuments(readFileSync(path.join(dir, f), "utf8")));
    const result = await run(["apply", "--validate=strict", "-n", namespace, "-f", dir]);
    expect(result.stderr.replace(/^WARNING: version difference.*\n/m, "")).toBe("");
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split("\n");
    expect(lines).toHaveLength(documents.length);
    for (const line of lines) expect(line).toMatch(/ (created|configured|unchanged)$/);
  });
});

describe("kubectl get", () => {
  beforeAll(async () => {
    // The samples test may run first or not at all under a filter: apply them here too (idempotent).
    for (const vendor of VENDORS) await run(["apply", "-n", namespace, "-f", path.join(SAMPLES, vendor)]);
  });

  it("vnffw shows device, action, the rule in short, Ready, Reason, VendorRef and Age", async () => {
    const { header, rows } = await getTable(["vnffw"]);
    expect(header).toEqual([
      "NAME",
      "DEVICE",
      "ACTION",
      "PROTOCOL",
      "SOURCE",
      "DESTINATION",
      "PORT",
      "READY",
      "REASON",
      "VENDORREF",
      "AGE",
    ]);
    // The Source column shows the alias when there is no CIDR.
    expect(rows.find((r) => r.NAME === "pfsense-allow-ssh-admins")).toMatchObject({
      DEVICE: "pfsense-edge",
      ACTION: "allow",
      PROTOCOL: "tcp",
      SOURCE: "admin_hosts",
      DESTINATION: "10.0.10.0/24",
      PORT: "22",
      READY: "",
    });
  });

  it("vnffw -o wide adds interface, direction, source port, priority, enabled, rule id, error, sync time", async () => {
    const { header } = await getTable(["vnffw", "-o", "wide"]);
    expect(header.slice(11)).toEqual([
      "INTERFACE",
      "DIRECTION",
      "SOURCE-PORT",
      "PRIORITY",
      "ENABLED",
      "RULE-ID",
      "ERROR",
      "SYNCED",
    ]);
  });

  it("vnfnat shows device, type, the translation in short, Ready, Reason, VendorRef and Age", async () => {
    const { header, rows } = await getTable(["vnfnat"]);
    expect(header).toEqual([
      "NAME",
      "DEVICE",
      "TYPE",
      "PROTOCOL",
      "SOURCE",
      "DESTINATION",
      "PORT",
      "TRANSLATED",
      "READY",
      "REASON",
      "VENDORREF",
      "AGE",
    ]);
    expect(rows.find((r) => r.NAME === "pfsense-forward-https")).toMatchObject({
      DEVICE: "pfsense-edge",
      TYPE: "dnat",
      PROTOCOL: "tcp",
      SOURCE: "",
      DESTINATION: "203.0.113.10",
      PORT: "443",
      TRANSLATED: "10.0.10.10",
    });
    expect(rows.find((r) => r.NAME === "pa-snat-branch")).toMatchObject({
      TYPE: "snat",
      SOURCE: "192.168.50.0/24",
      TRANSLATED: "198.51.100.41",
    });
  });

  it("vnfdev shows vendor, version, Ready, Reason, rule count, suspension and Age", async () => {
    const { header, rows } = await getTable(["vnfdev"]);
    expect(header).toEqual(["NAME", "VENDOR", "VERSION", "READY", "REASON", "RULES", "SUSPENDED", "AGE"]);
    expect(rows.map((r) => r.NAME).sort()).toEqual([
      "fortigate-dc1",
      "opnsense-lab",
      "pa-branch",
      "pfsense-edge",
      "vyos-core",
    ]);
  });

  it("the vnf category lists all three kinds", async () => {
    const result = await run(["get", "vnf", "-n", namespace, "-o", "name"]);
    expect(result.code, result.stderr).toBe(0);
    const kinds = new Set(
      result.stdout
        .trim()
        .split("\n")
        .map((l) => l.split("/")[0]),
    );
    expect([...kinds].sort()).toEqual([
      "vnfdevice.vnf-operator.io",
      "vnffirewallrule.vnf-operator.io",
      "vnfnatrule.vnf-operator.io",
    ]);
  });
});

describe("kubectl explain", () => {
  // The aggregated OpenAPI document can trail a new CRD by a moment.
  const explain = (field: string, ...expected: string[]) =>
    waitUntil(`kubectl explain ${field}`, async () => {
      const result = await run(["explain", field]);
      return result.code === 0 && expected.every((e) => result.stdout.includes(e)) ? result.stdout : false;
    });

  it("documents vnffirewallrule.spec.source field by field", async () => {
    const out = await explain("vnffirewallrule.spec.source", "FIELDS:");
    expect(out).toContain("exactly one of cidr or alias");
    expect(out).toMatch(/alias\s+<string>/);
    expect(out).toMatch(/cidr\s+<string>/);
    expect(out).toMatch(/port\s+<string>/);
    expect(out).toContain("'any', an IPv4 or IPv6 address");
    expect(out).toMatch(/1 <= N <= M\s+<= 65535/);
  });

  it.each([
    ["vnfdevice.spec.credentialsSecretRef", "opnsense:"],
    ["vnfdevice.spec.vendor", "pfsense"],
    ["vnfnatrule.spec.type", "port forwarding"],
    ["vnffirewallrule.status.pendingOperation", "Write-ahead record"],
    ["vnffirewallrule.status.errorCode", "VNF_RATE_LIMIT"],
  ])("documents %s", async (field, text) => {
    const out = await explain(field, "DESCRIPTION:");
    expect(out.replace(/\s+/g, " ")).toContain(text);
  });
});

describe("status subresource", () => {
  const ref = { group: GROUP, version: VERSION, plural: VNF_FIREWALL_RULE.plural };
  const read = async (name: string) =>
    (await custom.getNamespacedCustomObject({ ...ref, namespace, name })) as VnfFirewallRule;
  const patchStatus = (name: string, status: object) =>
    custom.patchNamespacedCustomObjectStatus(
      { ...ref, namespace, name, body: { status } },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );

  it("takes the journal (intent, then outcome) without bumping metadata.generation", async () => {
    const name = "journal";
    await custom.createNamespacedCustomObject({ ...ref, namespace, body: firewallRule(name) });
    expect((await read(name)).metadata.generation).toBe(1);

    const startedAt = "2026-01-01T00:00:00Z";
    const intent: VnfFirewallRuleStatus = {
      observedGeneration: 1,
      conditions: setCondition(
        undefined,
        { type: "Reconciling", status: "True", reason: "Applying", observedGeneration: 1 },
        new Date(startedAt),
      ),
      pendingOperation: { operation: "create", opHash: "sha256:1f2e", startedAt, attempt: 1 },
      ruleNumber: 42,
    };
    await patchStatus(name, intent);
    let got = await read(name);
    expect(got.metadata.generation).toBe(1);
    expect(got.status).toEqual(intent);

    const outcome = {
      conditions: setCondition(
        [],
        {
          type: "Ready",
          status: "True",
          reason: "Applied",
          message: "on pfsense-edge",
          observedGeneration: 1,
        },
        new Date("2026-01-01T00:00:02Z"),
      ),
      pendingOperation: null,
      vendorRef: "1700000042",
      opHash: "sha256:1f2e",
      appliedAt: "2026-01-01T00:00:02Z",
      lastSyncTime: "2026-01-01T00:00:02Z",
      drift: { detectedAt: "2026-01-01T00:00:01Z", fields: ["destination.port"], action: "Repaired" },
    };
    await patchStatus(name, outcome);
    got = await read(name);
    expect(got.metadata.generation).toBe(1);
    expect(got.status?.pendingOperation).toBeUndefined();
    expect(got.status?.vendorRef).toBe("1700000042");

    const { rows } = await getTable(["vnffw", name]);
    expect(rows[0]).toMatchObject({ READY: "True", REASON: "Applied", VENDORREF: "1700000042" });
  });

  it("ignores status in writes to the main resource, which bump the generation", async () => {
    const name = "main-write";
    await custom.createNamespacedCustomObject({ ...ref, namespace, body: firewallRule(name) });
    await patchStatus(name, { vendorRef: "original" });
    await custom.patchNamespacedCustomObject(
      { ...ref, namespace, name, body: { spec: { log: true }, status: { vendorRef: "hijacked" } } },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
    const got = await read(name);
    expect(got.metadata.generation).toBe(2);
    expect(got.spec.log).toBe(true);
    expect(got.status?.vendorRef).toBe("original");
  });

  it.each([
    ["an unknown error code", { errorCode: "VNF_OOPS" }, 'Unsupported value: "VNF_OOPS"'],
    [
      "a condition reason that is not one word",
      {
        conditions: [
          {
            type: "Ready",
            status: "True",
            reason: "all good",
            message: "",
            lastTransitionTime: "2026-01-01T00:00:00Z",
          },
        ],
      },
      "status.conditions[0].reason",
    ],
    [
      "a pending operation without its opHash",
      { pendingOperation: { operation: "create", startedAt: "2026-01-01T00:00:00Z", attempt: 1 } },
      "status.pendingOperation.opHash: Required value",
    ],
  ])("refuses %s", async (_what, status, message) => {
    const name = `bad-status-${Math.random().toString(36).slice(2, 8)}`;
    await custom.createNamespacedCustomObject({ ...ref, namespace, body: firewallRule(name) });
    const error = await patchStatus(name, status).then(
      () => undefined,
      (e: unknown) => e as { code?: number; body?: string },
    );
    expect(error?.code).toBe(422);
    expect((JSON.parse(error?.body ?? "{}") as { message?: string }).message).toContain(message);
  });
});

describe(`new objects are InProgress from their creation (kstatus model of ${KSTATUS_VERSION})`, () => {
  // With no status.observedGeneration and no conditions kstatus says Current: a Flux or kpt wait would
  // pass before the operator (or an appliance) ever saw the object. The CRDs default
  // status.observedGeneration to -1 (Flux's practice), which the API server fills in on every read.
  const kinds = [
    ["vnfdevices", device("kstatus-new-device")],
    ["vnffirewallrules", firewallRule("kstatus-new-rule")],
    ["vnfnatrules", natRule("kstatus-new-nat")],
  ] as const;
  it.each(kinds)(
    "%s: observedGeneration -1, InProgress, kubectl wait does not pass",
    async (plural, manifest) => {
      const applied = await run(["apply", "-n", namespace, "-f", "-"], JSON.stringify(manifest));
      expect(applied.code, applied.stderr).toBe(0);
      const name = manifest.metadata.name ?? "";
      const got = (await custom.getNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace,
        plural,
        name,
      })) as VnfDevice;
      expect(got.metadata.generation).toBe(1);
      expect(got.status).toEqual({ observedGeneration: -1 });
      expect(kstatus(got)).toMatchObject({ status: "InProgress", rule: "generation" });
      const listed = await run(["get", plural, name, "-n", namespace, "-o", "json"]);
      expect(kstatus(JSON.parse(listed.stdout) as object).status).toBe("InProgress");
      const wait = await run([
        "wait",
        `${plural}/${name}`,
        "-n",
        namespace,
        "--for=condition=Ready",
        "--timeout=1s",
      ]);
      expect(wait.code).not.toBe(0);
    },
  );
});

describe("defaults", () => {
  it("fills the documented defaults at admission", async () => {
    const minimal = {
      ...firewallRule("defaults"),
      spec: { deviceRef: { name: "edge" }, interface: "lan", action: "deny" as const },
    };
    const rule = (await custom.createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      plural: VNF_FIREWALL_RULE.plural,
      namespace,
      body: minimal,
    })) as VnfFirewallRule;
    expect(rule.spec).toEqual({
      deviceRef: { name: "edge" },
      interface: "lan",
      action: "deny",
      direction: "in",
      protocol: "any",
      source: { cidr: "any" },
      destination: { cidr: "any" },
      enabled: true,
      log: false,
      deletionPolicy: "Delete",
    });

    const nat = (await custom.createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      plural: VNF_NAT_RULE.plural,
      namespace,
      body: { ...natRule("defaults"), spec: { deviceRef: { name: "edge" }, type: "snat", interface: "wan" } },
    })) as VnfNatRule;
    expect(nat.spec).toMatchObject({ protocol: "any", enabled: true, log: false, deletionPolicy: "Delete" });

    const dev = (await custom.createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      plural: VNF_DEVICE.plural,
      namespace,
      body: {
        ...device("defaults"),
        spec: {
          ...device("defaults").spec,
          tls: { caSecretRef: { name: "edge-ca" } },
          activation: {},
          driftDetection: {},
        },
      },
    })) as VnfDevice;
    expect(dev.spec).toMatchObject({
      suspend: false,
      tls: { caSecretRef: { name: "edge-ca", key: "ca.crt" }, insecureSkipVerify: false },
      activation: { mode: "Immediate" },
      driftDetection: { interval: "5m", mode: "Repair", unmanaged: "Ignore" },
    });
  });
});

interface InvalidCase {
  name: string;
  base: "firewall" | "nat" | "device";
  /** Dotted paths to set; undefined deletes. */
  changes: Record<string, unknown>;
  /** Substrings the refusal must contain. */
  messages: string[];
  /** Apply the change to an object that already exists (transition rules). */
  update?: true;
}

const long = (n: number) => "x".repeat(n);
const dnatTo1to1 = {
  "spec.type": "1to1",
  "spec.protocol": undefined,
  "spec.destination.port": undefined,
  "spec.translated.port": undefined,
};

const INVALID: InvalidCase[] = [
  // VnfFirewallRule: addresses
  {
    name: "source.cidr that is no address",
    base: "firewall",
    changes: { "spec.source.cidr": "10.0.0.300/24" },
    messages: ["spec.source.cidr", "cidr '10.0.0.300/24' is not valid"],
  },
  {
    name: "destination.cidr with host bits set",
    base: "firewall",
    changes: { "spec.destination.cidr": "192.168.1.10/24" },
    messages: ["spec.destination.cidr", "has host bits set: write the network address"],
  },
  {
    name: "IPv4 prefix longer than 32",
    base: "firewall",
    changes: { "spec.source.cidr": "10.0.0.0/33" },
    messages: ["cidr '10.0.0.0/33' is not valid"],
  },
  {
    name: "IPv6 address with a bad digit",
    base: "firewall",
    changes: { "spec.source.cidr": "2001:db8::g/64" },
    messages: ["cidr '2001:db8::g/64' is not valid"],
  },
  {
    name: "source and destination of different IP families",
    base: "firewall",
    changes: { "spec.destination.cidr": "2001:db8::10" },
    messages: ["must be of the same IP family"],
  },
  {
    name: "both cidr and alias",
    base: "firewall",
    changes: { "spec.source.alias": "web_servers" },
    messages: ["spec.source", "set exactly one of cidr or alias"],
  },
  {
    name: "neither cidr nor alias",
    base: "firewall",
    changes: { "spec.destination.cidr": undefined },
    messages: ["spec.destination", "set exactly one of cidr or alias"],
  },
  {
    name: "alias starting with '-'",
    base: "firewall",
    changes: { "spec.source.cidr": undefined, "spec.source.alias": "-servers" },
    messages: ["alias must be the name of an address object"],
  },
  // VnfFirewallRule: ports
  {
    name: "port 0",
    base: "firewall",
    changes: { "spec.destination.port": "0" },
    messages: ["spec.destination.port", "port '0' is out of range: port numbers go from 1 to 65535"],
  },
  {
    name: "port 70000",
    base: "firewall",
    changes: { "spec.destination.port": "70000" },
    messages: ["port '70000' is out of range"],
  },
  {
    name: "range ending above 65535",
    base: "firewall",
    changes: { "spec.source.port": "1000-65536" },
    messages: ["spec.source.port", "port '1000-65536' is out of range"],
  },
  {
    name: "reversed port range",
    base: "firewall",
    changes: { "spec.destination.port": "8080-80" },
    messages: ["port range '8080-80' is reversed: write it low-high, e.g. 80-8080"],
  },
  {
    name: "service name instead of a port",
    base: "firewall",
    changes: { "spec.destination.port": "https" },
    messages: ['port must be a number or a range low-high, e.g. "443" or "8000-8080"'],
  },
  {
    name: "port with icmp",
    base: "firewall",
    changes: { "spec.protocol": "icmp" },
    messages: ["ports need protocol tcp, udp or tcp/udp, not icmp"],
  },
  {
    name: "port with the default protocol any",
    base: "firewall",
    changes: { "spec.protocol": undefined },
    messages: ["ports need protocol tcp, udp or tcp/udp, not any"],
  },
  // VnfFirewallRule: other fields
  {
    name: "over-long description",
    base: "firewall",
    changes: { "spec.description": long(201) },
    messages: ["spec.description: Too long: may not be more than 200"],
  },
  {
    name: "a forged ownership marker in the description",
    base: "firewall",
    changes: { "spec.description": "web [vnf:0f0e0d0c-0000-4000-8000-000000000001]" },
    messages: ['description cannot contain "[vnf:"'],
  },
  {
    name: "a forged ownership marker in a NAT description",
    base: "nat",
    changes: { "spec.description": "[vnf:aaaaaaaa.bbbbbbbb.cccccccccccccccc.dddddddd]" },
    messages: ['description cannot contain "[vnf:"'],
  },
  {
    name: "ruleId with a space",
    base: "firewall",
    changes: { "spec.ruleId": "rule 1" },
    messages: ["spec.ruleId", "should match '^[A-Za-z0-9_-]{1,128}$'"],
  },
  {
    name: "ruleId over 128 characters",
    base: "firewall",
    changes: { "spec.ruleId": long(129) },
    messages: ["spec.ruleId: Too long: may not be more than 128"],
  },
  {
    name: "unknown action",
    base: "firewall",
    changes: { "spec.action": "permit" },
    messages: ['spec.action: Unsupported value: "permit": supported values: "allow", "deny", "reject"'],
  },
  {
    name: "unknown protocol",
    base: "firewall",
    changes: { "spec.protocol": "sctp" },
    messages: ['spec.protocol: Unsupported value: "sctp"'],
  },
  {
    name: "unknown direction",
    base: "firewall",
    changes: { "spec.direction": "both" },
    messages: ['spec.direction: Unsupported value: "both"'],
  },
  {
    name: "missing interface",
    base: "firewall",
    changes: { "spec.interface": undefined },
    messages: ["spec.interface: Required value"],
  },
  {
    name: "interface with a space",
    base: "firewall",
    changes: { "spec.interface": "wan 2" },
    messages: ["interface must start with a letter or digit"],
  },
  {
    name: "interface over 32 characters",
    base: "firewall",
    changes: { "spec.interface": long(33) },
    messages: ["spec.interface: Too long: may not be more than 32"],
  },
  {
    name: "priority above 99999",
    base: "firewall",
    changes: { "spec.priority": 100000 },
    messages: ["spec.priority", "should be less than or equal to 99999"],
  },
  {
    name: "negative priority",
    base: "firewall",
    changes: { "spec.priority": -1 },
    messages: ["spec.priority", "should be greater than or equal to 0"],
  },
  {
    name: "unknown deletionPolicy",
    base: "firewall",
    changes: { "spec.deletionPolicy": "Keep" },
    messages: ['spec.deletionPolicy: Unsupported value: "Keep"'],
  },
  {
    name: "missing deviceRef",
    base: "firewall",
    changes: { "spec.deviceRef": undefined },
    messages: ["spec.deviceRef: Required value"],
  },
  {
    name: "deviceRef.name that is no object name",
    base: "firewall",
    changes: { "spec.deviceRef.name": "Edge_1" },
    messages: ["deviceRef.name must be the name of a VnfDevice"],
  },
  {
    name: "changed deviceRef",
    base: "firewall",
    update: true,
    changes: { "spec.deviceRef.name": "other" },
    messages: ["deviceRef.name is immutable: delete the rule and create a new one"],
  },
  {
    name: "changed ruleId",
    base: "firewall",
    update: true,
    changes: { "spec.ruleId": "cs-9999" },
    messages: ["ruleId cannot be changed or removed once set"],
  },
  {
    name: "removed ruleId",
    base: "firewall",
    update: true,
    changes: { "spec.ruleId": undefined },
    messages: ["ruleId cannot be changed or removed once set"],
  },
  {
    name: "unknown field (strict validation)",
    base: "firewall",
    changes: { "spec.sourcePort": "80" },
    messages: ['strict decoding error: unknown field "spec.sourcePort"'],
  },
  {
    name: "misspelt nested field (strict validation)",
    base: "firewall",
    changes: { "spec.destination.ports": "443" },
    messages: ['unknown field "spec.destination.ports"'],
  },
  // VnfNatRule
  {
    name: "dnat without translated.address",
    base: "nat",
    changes: { "spec.translated.address": undefined },
    messages: ["spec.translated.address: Required value: type dnat needs translated.address"],
  },
  {
    name: "1to1 without translated",
    base: "nat",
    changes: { ...dnatTo1to1, "spec.translated": undefined },
    messages: ["type 1to1 needs translated.address"],
  },
  {
    name: "1to1 without destination.address",
    base: "nat",
    changes: { ...dnatTo1to1, "spec.destination": undefined },
    messages: ["spec.destination.address: Required value: type 1to1 needs destination.address"],
  },
  {
    name: "1to1 with ports",
    base: "nat",
    changes: { "spec.type": "1to1" },
    messages: ["1to1 maps whole addresses: remove destination.port and translated.port"],
  },
  {
    name: "1to1 between subnets of different sizes",
    base: "nat",
    changes: {
      ...dnatTo1to1,
      "spec.destination.address": "203.0.113.0/28",
      "spec.translated.address": "10.0.0.0/27",
    },
    messages: ["1to1 needs destination.address and translated.address of the same size"],
  },
  {
    name: "dnat translated.port without destination.port",
    base: "nat",
    changes: { "spec.destination.port": undefined },
    messages: ["dnat with translated.port needs destination.port"],
  },
  {
    name: "NAT ports with protocol any",
    base: "nat",
    changes: { "spec.protocol": undefined },
    messages: ["ports need protocol tcp, udp or tcp/udp, not any"],
  },
  {
    name: "unknown NAT type",
    base: "nat",
    changes: { "spec.type": "pat" },
    messages: ['spec.type: Unsupported value: "pat": supported values: "dnat", "snat", "1to1"'],
  },
  {
    name: "NAT with icmp",
    base: "nat",
    changes: { "spec.protocol": "icmp" },
    messages: ['spec.protocol: Unsupported value: "icmp"'],
  },
  {
    name: "translated.address that is no address",
    base: "nat",
    changes: { "spec.translated.address": "10.0.0.256" },
    messages: ["translated.address '10.0.0.256' is not valid"],
  },
  {
    name: "translated.port 0",
    base: "nat",
    changes: { "spec.translated.port": "0" },
    messages: ["spec.translated.port", "port '0' is out of range"],
  },
  {
    name: "NAT source without cidr",
    base: "nat",
    changes: { "spec.source": {} },
    messages: ["spec.source.cidr: Required value"],
  },
  {
    name: "changed NAT deviceRef",
    base: "nat",
    update: true,
    changes: { "spec.deviceRef.name": "other" },
    messages: ["deviceRef.name is immutable"],
  },
  {
    name: "changed NAT type",
    base: "nat",
    update: true,
    changes: { "spec.type": "snat", "spec.destination.port": undefined, "spec.translated.port": undefined },
    messages: ["type is immutable: appliances keep each NAT type in its own table"],
  },
  // VnfDevice
  {
    name: "vendor with capitals and a space",
    base: "device",
    changes: { "spec.vendor": "Palo Alto" },
    messages: ["spec.vendor", "vendor 'Palo Alto' is not a valid vendor name"],
  },
  {
    name: "ftp endpoint",
    base: "device",
    changes: { "spec.endpoint": "ftp://192.0.2.10" },
    messages: ["spec.endpoint", "endpoint 'ftp://192.0.2.10' is not valid: use an http:// or https:// URL"],
  },
  {
    name: "endpoint without a scheme",
    base: "device",
    changes: { "spec.endpoint": "192.0.2.10:443" },
    messages: ["endpoint '192.0.2.10:443' is not valid"],
  },
  {
    name: "endpoint carrying credentials",
    base: "device",
    changes: { "spec.endpoint": "https://admin:secret@192.0.2.10" },
    messages: ["endpoint must not contain user:password@: put credentials in the Secret"],
  },
  {
    name: "endpoint with a query",
    base: "device",
    changes: { "spec.endpoint": "https://192.0.2.10/api?key=1" },
    messages: ["endpoint must not have a query"],
  },
  {
    name: "missing credentialsSecretRef",
    base: "device",
    changes: { "spec.credentialsSecretRef": undefined },
    messages: ["spec.credentialsSecretRef: Required value"],
  },
  {
    name: "Secret name with capitals",
    base: "device",
    changes: { "spec.credentialsSecretRef.name": "Edge" },
    messages: ["a Secret name must consist of lower-case letters"],
  },
  {
    name: "batchWindow that is no duration",
    base: "device",
    changes: { "spec.activation": { mode: "Batched", batchWindow: "5 seconds" } },
    messages: ["batchWindow must be a duration such as 500ms, 5s or 1m30s"],
  },
  {
    name: "batchWindow above 10m",
    base: "device",
    changes: { "spec.activation": { mode: "Batched", batchWindow: "20m" } },
    messages: ["batchWindow must be between 100ms and 10m"],
  },
  {
    name: "batchWindow with mode Immediate",
    base: "device",
    changes: { "spec.activation": { mode: "Immediate", batchWindow: "5s" } },
    messages: ["batchWindow applies only to mode: Batched"],
  },
  {
    name: "drift interval below 10s",
    base: "device",
    changes: { "spec.driftDetection": { interval: "1s" } },
    messages: ["interval must be between 10s and 24h"],
  },
  {
    name: "drift interval in days",
    base: "device",
    changes: { "spec.driftDetection": { interval: "1d" } },
    messages: ["interval must be a duration such as 30s, 5m or 1h30m"],
  },
  {
    name: "unknown drift mode",
    base: "device",
    changes: { "spec.driftDetection": { mode: "Fix" } },
    messages: ['spec.driftDetection.mode: Unsupported value: "Fix"'],
  },
  {
    name: "requestTimeout above 10m",
    base: "device",
    changes: { "spec.limits": { requestTimeout: "2h" } },
    messages: ["requestTimeout must be between 1s and 10m"],
  },
  {
    name: "tls with both a CA and insecureSkipVerify",
    base: "device",
    changes: { "spec.tls": { caSecretRef: { name: "ca" }, insecureSkipVerify: true } },
    messages: ["set either tls.caSecretRef or tls.insecureSkipVerify: true, not both"],
  },
  {
    name: "tls on an http endpoint",
    base: "device",
    changes: { "spec.endpoint": "http://192.0.2.10", "spec.tls": { insecureSkipVerify: true } },
    messages: ["tls settings apply only to an https:// endpoint"],
  },
  {
    name: "parameter name that is no identifier",
    base: "device",
    changes: { "spec.parameters": { "vdom-name": "root" } },
    messages: ["parameter names must be identifiers"],
  },
  {
    name: "more than 32 parameters",
    base: "device",
    changes: { "spec.parameters": Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`p${i}`, "v"])) },
    messages: ["spec.parameters: Too many: 33: must have at most 32 items"],
  },
  {
    name: "maxConcurrentRequests 0",
    base: "device",
    changes: { "spec.limits": { maxConcurrentRequests: 0 } },
    messages: ["spec.limits.maxConcurrentRequests", "should be greater than or equal to 1"],
  },
  {
    name: "requestsPerSecond 0",
    base: "device",
    changes: { "spec.limits": { requestsPerSecond: 0 } },
    messages: ["spec.limits.requestsPerSecond", "should be greater than 0"],
  },
  {
    name: "unknown device field (strict validation)",
    base: "device",
    changes: { "spec.password": "secret" },
    messages: ['unknown field "spec.password"'],
  },
];

const BASES = { firewall: firewallRule, nat: natRule, device } as const;

function withChanges(manifest: object, changes: Record<string, unknown>): object {
  const copy = structuredClone(manifest) as Record<string, unknown>;
  for (const [dotted, value] of Object.entries(changes)) {
    const keys = dotted.split(".");
    const last = keys.pop()!;
    let node = copy;
    for (const key of keys) {
      if (typeof node[key] !== "object" || node[key] === null) node[key] = {};
      node = node[key] as Record<string, unknown>;
    }
    if (value === undefined) delete node[last];
    else node[last] = value;
  }
  return copy;
}

describe("admission", () => {
  // The objects the update cases change; created for real so transition rules (oldSelf) apply.
  beforeAll(async () => {
    for (const base of ["firewall", "nat"] as const) {
      const created = await run(
        ["apply", "-n", namespace, "-f", "-"],
        JSON.stringify(BASES[base](`existing-${base}`)),
      );
      expect(created.code, created.stderr).toBe(0);
    }
  });

  it.each(Object.keys(BASES) as (keyof typeof BASES)[])(
    "accepts the valid %s manifest the cases start from",
    async (base) => {
      const result = await dryRunApply(BASES[base](`valid-${base}`));
      expect(result.stderr.replace(/^WARNING: version difference.*\n/m, "")).toBe("");
      expect(result.code).toBe(0);
    },
  );

  it(`has at least 30 invalid cases (${INVALID.length})`, () => {
    expect(INVALID.length).toBeGreaterThanOrEqual(30);
    expect(new Set(INVALID.map((c) => c.name)).size).toBe(INVALID.length);
  });

  describe.concurrent("refuses invalid manifests with a message that says what to fix", () => {
    it.for(INVALID)("$base: $name", async ({ base, name, changes, messages, update }, { expect }) => {
      const objectName = update ? `existing-${base}` : `case-${INVALID.findIndex((c) => c.name === name)}`;
      const result = await dryRunApply(withChanges(BASES[base](objectName), changes));
      expect(result.code, `accepted: ${result.stdout}`).not.toBe(0);
      for (const message of messages) expect(result.stderr).toContain(message);
    });
  });
});
