// The samples the README and the demo use: per vendor a credentials Secret with the keys the
// VnfDevice documents, one device, a few firewall rules and at least one NAT rule, all pointing at
// that device. (test/integration/crds.test.ts proves the API server accepts them.)
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { API_VERSION } from "../../../src/api/group.ts";
import type { VnfDevice } from "../../../src/api/types.ts";

const SAMPLES = path.resolve(import.meta.dirname, "../../../samples");
const CREDENTIAL_KEYS: Record<string, string[]> = {
  pfsense: ["password", "username"],
  fortios: ["token"],
  panos: ["password", "username"],
  vyos: ["key"],
  opnsense: ["key", "secret"],
};

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  spec?: { deviceRef?: { name: string } };
  stringData?: Record<string, string>;
}

function manifests(vendor: string): Manifest[] {
  const dir = path.join(SAMPLES, vendor);
  return readdirSync(dir)
    .filter((f) => f.endsWith(".yaml"))
    .sort()
    .flatMap((f) =>
      parseAllDocuments(readFileSync(path.join(dir, f), "utf8")).map((d) => d.toJS() as Manifest),
    );
}

describe("samples/", () => {
  it("has one directory per built-in vendor", () => {
    expect(
      readdirSync(SAMPLES)
        .filter((f) => !f.includes("."))
        .sort(),
    ).toEqual(Object.keys(CREDENTIAL_KEYS).sort());
  });

  describe.each(Object.entries(CREDENTIAL_KEYS))("%s", (vendor, keys) => {
    const all = manifests(vendor);
    const ofKind = (kind: string) => all.filter((m) => m.kind === kind);

    it("has one device of that vendor whose Secret carries the documented keys", () => {
      const devices = ofKind("VnfDevice") as unknown as VnfDevice[];
      expect(devices).toHaveLength(1);
      const device = devices[0]!;
      expect(device.spec.vendor).toBe(vendor);
      const secret = ofKind("Secret").find((s) => s.metadata.name === device.spec.credentialsSecretRef.name);
      expect(Object.keys(secret?.stringData ?? {}).sort()).toEqual(keys);
    });

    it("has a few firewall rules and a NAT rule, all on that device", () => {
      const device = ofKind("VnfDevice")[0]!.metadata.name;
      const rules = [...ofKind("VnfFirewallRule"), ...ofKind("VnfNatRule")];
      expect(ofKind("VnfFirewallRule").length).toBeGreaterThanOrEqual(3);
      expect(ofKind("VnfNatRule").length).toBeGreaterThanOrEqual(1);
      expect(rules.filter((r) => r.spec?.deviceRef?.name !== device).map((r) => r.metadata.name)).toEqual([]);
      expect(rules.every((r) => r.apiVersion === API_VERSION)).toBe(true);
    });

    it("leaves the namespace to kubectl and prefixes names with the device's family", () => {
      expect(all.filter((m) => m.metadata.namespace !== undefined)).toEqual([]);
      const prefix = ofKind("VnfDevice")[0]!.metadata.name.split("-")[0];
      expect(
        all.filter((m) => !m.metadata.name.startsWith(`${prefix}-`)).map((m) => m.metadata.name),
      ).toEqual([]);
    });
  });

  it("uses names unique across vendors, so all samples fit in one namespace", () => {
    const names = Object.keys(CREDENTIAL_KEYS).flatMap((v) =>
      manifests(v).map((m) => `${m.kind}/${m.metadata.name}`),
    );
    expect(new Set(names).size).toBe(names.length);
  });
});
