// Rule lifecycle for every vendor (pfSense, FortiOS, PAN-OS, VyOS, OPNsense: a dictionary and a
// simulator each): a firewall rule and a NAT rule become Ready (`kubectl wait --for=condition=Ready`),
// an update changes the appliance object in place, a delete removes it, and deletionPolicy Orphan
// leaves it on the appliance — no longer ours, so a drift check neither deletes it nor counts it as
// managed.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { disownedMarker } from "../../src/controllers/markers.ts";
import type { SimulatorVendor } from "../simulators/index.ts";
import { waitUntil } from "../support/kube.ts";
import {
  FIREWALL,
  type KubeObj,
  NAT,
  type OperatorEnv,
  objectsContaining,
  type RuleKindInfo,
  ruleManifest,
  ruleMarkerText,
  startOperatorEnv,
  statusOf,
} from "../support/operator-env.ts";

interface RuleCase {
  spec: Record<string, unknown>;
  update: Record<string, unknown>;
  /** True when an appliance object shows the update. */
  updated: (object: Record<string, unknown>) => boolean;
}

interface VendorCase {
  vendor: SimulatorVendor;
  firewall: RuleCase;
  nat: RuleCase;
}

const vendors: VendorCase[] = [
  {
    vendor: "pfsense",
    firewall: {
      spec: {
        interface: "wan",
        action: "allow",
        protocol: "tcp",
        destination: { cidr: "10.0.10.10", port: "443" },
        description: "HTTPS to the web server",
      },
      update: { action: "deny" },
      updated: (o) => o.type === "block",
    },
    nat: {
      spec: {
        type: "dnat",
        interface: "wan",
        protocol: "tcp",
        destination: { address: "203.0.113.10", port: "443" },
        translated: { address: "10.0.10.10", port: "8443" },
        description: "HTTPS forward",
      },
      update: { translated: { address: "10.0.10.11", port: "8443" } },
      updated: (o) => o.target === "10.0.10.11",
    },
  },
  {
    vendor: "fortios",
    firewall: {
      spec: {
        interface: "port1",
        action: "allow",
        protocol: "tcp",
        source: { cidr: "any" },
        destination: { cidr: "10.20.0.0/24", port: "443" },
        description: "HTTPS to the web tier",
      },
      update: { action: "deny" },
      updated: (o) => o.action === "deny",
    },
    nat: {
      spec: {
        type: "dnat",
        interface: "port1",
        protocol: "tcp",
        destination: { address: "203.0.113.20", port: "8443" },
        translated: { address: "10.20.0.15", port: "443" },
        description: "Virtual IP for the app server",
      },
      update: { translated: { address: "10.20.0.16", port: "443" } },
      updated: (o) => JSON.stringify(o.mappedip).includes("10.20.0.16"),
    },
  },
  {
    vendor: "panos",
    firewall: {
      spec: {
        interface: "untrust",
        action: "allow",
        protocol: "tcp",
        source: { cidr: "any" },
        destination: { cidr: "192.168.50.10", port: "443" },
        description: "Inbound HTTPS to the branch web server",
      },
      update: { action: "deny" },
      updated: (o) => o.action === "deny",
    },
    nat: {
      spec: {
        type: "dnat",
        interface: "ethernet1/1",
        protocol: "tcp",
        destination: { address: "198.51.100.40", port: "443" },
        translated: { address: "192.168.50.10" },
        description: "Publish the branch web server",
      },
      update: { translated: { address: "192.168.50.11" } },
      updated: (o) => JSON.stringify(o["destination-translation"]).includes('"192.168.50.11"'),
    },
  },
  {
    vendor: "vyos",
    firewall: {
      spec: {
        interface: "eth0",
        action: "allow",
        protocol: "tcp",
        source: { cidr: "192.0.2.0/24" },
        destination: { cidr: "172.16.0.1", port: "22" },
        description: "SSH from the management network",
      },
      update: { action: "deny" },
      updated: (o) => o.action === "drop",
    },
    nat: {
      spec: {
        type: "dnat",
        interface: "eth0",
        protocol: "tcp",
        destination: { port: "53" },
        translated: { address: "172.16.0.53" },
        description: "DNS to the internal resolver",
      },
      update: { translated: { address: "172.16.0.54" } },
      updated: (o) => (o.translation as { address?: string } | undefined)?.address === "172.16.0.54",
    },
  },
  {
    vendor: "opnsense",
    firewall: {
      spec: {
        interface: "wan",
        action: "allow",
        protocol: "udp",
        source: { cidr: "any" },
        destination: { cidr: "203.0.113.50", port: "51820" },
        description: "WireGuard",
      },
      update: { action: "deny" },
      updated: (o) => o.action === "block",
    },
    nat: {
      spec: {
        type: "dnat",
        interface: "wan",
        protocol: "tcp",
        destination: { address: "203.0.113.50", port: "27015" },
        translated: { address: "10.50.0.20" },
        description: "Game server",
      },
      update: { translated: { address: "10.50.0.21" } },
      updated: (o) => o.target === "10.50.0.21",
    },
  },
];

describe.each(vendors)("rule lifecycle on $vendor", (row) => {
  let env: OperatorEnv;
  const device = `${row.vendor}-dev`;
  const kinds: Array<[RuleKindInfo, "firewallRule" | "natRule", RuleCase]> = [
    [FIREWALL, "firewallRule", row.firewall],
    [NAT, "natRule", row.nat],
  ];

  beforeAll(async () => {
    env = await startOperatorEnv({
      vendor: row.vendor,
      prefix: `op-life-${row.vendor}`,
      device: { driftDetection: { interval: "10s", mode: "Repair", unmanaged: "Report" } },
      operator: { healthIntervalMs: 1_000 },
    });
    await env.waitReady("vnfdevices", device);
  });

  afterAll(async () => {
    await env?.stop();
  });

  it.each(kinds)("%s: create → Ready (kubectl wait), update in place, delete", async (kind, simKind, c) => {
    const name = `life-${simKind.toLowerCase()}`;
    await env.apply(ruleManifest(kind, name, device, c.spec));
    const wait = await env.kubectl([
      "wait",
      "--for=condition=Ready",
      `${kind.short}/${name}`,
      "--timeout=30s",
    ]);
    expect(wait.code, wait.stderr).toBe(0);

    const created = await env.get(kind.plural, name);
    const status = statusOf(created);
    expect(status.vendorRef).toBeTruthy();
    expect(status.opHash).toMatch(/^[0-9a-f]{64}$/);
    expect(status.pendingOperation).toBeUndefined();
    const marker = ruleMarkerText(created.metadata.uid);
    expect(await objectsContaining(env.sim, simKind, marker, "running")).toHaveLength(1);

    await env.apply(ruleManifest(kind, name, device, { ...c.spec, ...c.update }));
    const after = await env.waitReady(kind.plural, name);
    expect(statusOf(after).vendorRef).toBe(status.vendorRef);
    expect(statusOf(after).opHash).not.toBe(status.opHash);
    const updated = await objectsContaining(env.sim, simKind, marker, "running");
    expect(updated).toHaveLength(1);
    expect(c.updated(updated[0] ?? {})).toBe(true);

    const deleted = await env.kubectl(["delete", `${kind.short}/${name}`, "--wait=true", "--timeout=30s"]);
    expect(deleted.code, deleted.stderr).toBe(0);
    await waitUntil("the appliance object is deleted", async () =>
      (await objectsContaining(env.sim, simKind, marker, "running")).length === 0 ? true : undefined,
    );
  });

  it.each(kinds)(
    "%s: deletionPolicy Orphan leaves the object, and drift leaves it too",
    async (kind, simKind, c) => {
      const name = `orphan-${simKind.toLowerCase()}`;
      await env.apply(ruleManifest(kind, name, device, { ...c.spec, deletionPolicy: "Orphan" }));
      const ready = await env.waitReady(kind.plural, name);
      const vendorRef = String(statusOf(ready).vendorRef);
      const uid = ready.metadata.uid;
      const description = String(c.spec.description);
      const [onAppliance] = await objectsContaining(env.sim, simKind, ruleMarkerText(uid));
      expect(onAppliance).toBeDefined();

      const unmanagedBefore = Number(statusOf(await env.get("vnfdevices", device)).unmanagedObjects ?? 0);
      const deleted = await env.kubectl(["delete", `${kind.short}/${name}`, "--wait=true", "--timeout=30s"]);
      expect(deleted.code, deleted.stderr).toBe(0);

      // Still there, with its description, but no longer carrying our ownership marker.
      const left = await objectsContaining(env.sim, simKind, description);
      expect(left).toHaveLength(1);
      expect(JSON.stringify(left)).not.toContain(ruleMarkerText(uid));
      // Disowned: which rule it was stays readable, but the marker is no longer an owned one.
      expect(JSON.stringify(left)).toContain(`[vnf:${disownedMarker(uid)}]`);

      await env.checkDrift(device);
      expect(await objectsContaining(env.sim, simKind, description)).toHaveLength(1);
      const unmanagedAfter = Number(statusOf(await env.get<KubeObj>("vnfdevices", device)).unmanagedObjects);
      expect(unmanagedAfter).toBe(unmanagedBefore + 1);
      expect(vendorRef).toBeTruthy();
    },
  );
});
