// Brownfield, as a user does it: a pfSense appliance with 200 rules its administrator made (plus the
// factory rules and constructs no VnfFirewallRule expresses, plus NAT port forwards) → `vnf-operator
// import` (the real command, a child process, against the real API server) → `kubectl apply` of what
// it printed → every rule Ready, no create sent to the appliance, 200 ownership markers written, the
// appliance's rule order unchanged, and nothing left unmanaged that was imported. The inexpressible
// objects are named on stderr with their reasons and stay as they were.
import { spawn } from "node:child_process";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import type { VendorObject } from "../simulators/index.ts";
import { kubeconfigPath } from "../support/kube.ts";
import {
  FIREWALL,
  type KubeObj,
  NAT,
  type OperatorEnv,
  repoRoot,
  SIMULATOR_CIDR,
  startOperatorEnv,
  statusOf,
} from "../support/operator-env.ts";

const ADMIN_RULES = 200;
const INTERFACES = ["lan", "wan", "opt1"];

/** The administrator's rules: every shape a VnfFirewallRule expresses, in a realistic mix. */
function adminRule(i: number): VendorObject {
  const iface = INTERFACES[i % INTERFACES.length] ?? "lan";
  const protocol = [null, "tcp", "udp", "tcp/udp", "icmp"][i % 5] ?? null;
  const ported = protocol === "tcp" || protocol === "udp" || protocol === "tcp/udp";
  const source = i % 7 === 0 ? "any" : `10.${i % 250}.${(i * 7) % 250}.0/24`;
  const destination = i % 4 === 0 ? "any" : `192.0.2.${(i % 250) + 1}`;
  return {
    type: ["pass", "block", "reject"][i % 3],
    interface: [iface],
    ipprotocol: source === "any" && destination === "any" ? "inet46" : "inet",
    protocol,
    source,
    destination,
    ...(ported ? { destination_port: i % 6 === 0 ? `${8000 + i}:${8100 + i}` : String(1000 + i) } : {}),
    ...(ported && i % 9 === 0 ? { source_port: "1024:65535" } : {}),
    descr: i % 10 === 0 ? "" : `admin rule ${i} ${["web", "dns", "mail", "backup"][i % 4]}`,
    disabled: i % 8 === 0,
    log: i % 5 === 0,
  };
}

/** What an import cannot express (each must be named on stderr, with its reason, and left alone). */
const INEXPRESSIBLE: Array<[VendorObject, RegExp]> = [
  [
    {
      type: "pass",
      interface: ["lan", "opt1"],
      floating: true,
      direction: "any",
      ipprotocol: "inet46",
      protocol: null,
      source: "any",
      destination: "any",
      descr: "floating both",
    },
    /interfaces \(lan, opt1\)/,
  ],
  [
    {
      type: "block",
      interface: ["wan"],
      ipprotocol: "inet46",
      protocol: "tcp",
      source: "any",
      destination: "any",
      destination_port: "22",
      descr: "ssh office hours",
      sched: "office",
    },
    /gateway, schedule, limiter or queue/,
  ],
  [
    {
      type: "pass",
      interface: ["lan"],
      ipprotocol: "inet",
      protocol: "icmp",
      icmptype: ["echoreq"],
      source: "any",
      destination: "192.0.2.250",
      descr: "ping only",
    },
    /ICMP types echoreq/,
  ],
];

let env: OperatorEnv;
let cli: { code: number | null; stdout: string; stderr: string };
let orderBefore: string[];
let deviceBefore: Record<string, unknown>;
/** The factory rules, the inexpressible ones and the port forward: what stays unmanaged. */
const NOT_IMPORTED = 2 + INEXPRESSIBLE.length + 1;

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(repoRoot, "src/cli/main.ts"), ...args], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

function adoptOf(rule: KubeObj): string | undefined {
  const metadata = rule.metadata as KubeObj["metadata"] & { annotations?: Record<string, string> };
  return metadata.annotations?.["vnf-operator.io/adopt"];
}

async function filterRules(): Promise<VendorObject[]> {
  return (await env.sim.control.objects("firewallRule")).candidate;
}

beforeAll(async () => {
  env = await startOperatorEnv({
    vendor: "pfsense",
    prefix: "import-adopt",
    startOperator: false,
    // The device lists what nobody manages, so a user sees what an import would bring.
    device: { driftDetection: { interval: "1h", mode: "Report", unmanaged: "Report" } },
  });
  // The factory rules first (pfSense ships them), the administrator's after them, the inexpressible
  // ones last: no rule that stays unmanaged sits between imported ones, so the order can be kept.
  for (let i = 0; i < ADMIN_RULES; i++) await env.sim.control.putObject("firewallRule", adminRule(i));
  for (const [object] of INEXPRESSIBLE) await env.sim.control.putObject("firewallRule", object);
  await env.sim.control.putObject("natRule", {
    interface: "wan",
    protocol: "tcp",
    source: "any",
    destination: "wan:ip",
    destination_port: "8443",
    target: "10.0.0.10",
    local_port: "443",
    descr: "admin forward",
  });
  orderBefore = (await filterRules()).map((r) => String(r.tracker));
  await env.startOperator();
  await env.waitReady("vnfdevices", env.deviceName, 60_000);
  await env.checkDrift(env.deviceName, 60_000);
  deviceBefore = statusOf(await env.get<KubeObj>("vnfdevices", env.deviceName));
  await env.sim.control.clearRequests();
  cli = await run([
    "import",
    "--device",
    `${env.namespace}/${env.deviceName}`,
    "--kubeconfig",
    kubeconfigPath(),
    // The simulator listens on loopback, which the endpoint policy refuses by default.
    "--endpoint-allow-cidrs",
    SIMULATOR_CIDR,
    "--include-unsupported",
  ]);
}, 240_000);

afterAll(async () => {
  await env?.stop();
});

describe("vnf-operator import, then kubectl apply (pfSense, 200 administrator rules)", () => {
  it("before: the device counts every unmanaged object and lists the first 50, saying which import can bring", () => {
    expect(deviceBefore.unmanagedObjects).toBe(ADMIN_RULES + NOT_IMPORTED);
    const list = deviceBefore.unmanagedObjectList as Array<{
      kind: string;
      vendorRef: string;
      importable: boolean;
    }>;
    expect(list).toHaveLength(50);
    // The appliance's order: the two factory rules first (IPv4-only / IPv6-only with an alias).
    expect(list.slice(0, 3)).toEqual([
      { kind: "VnfFirewallRule", vendorRef: "100000101", importable: false },
      { kind: "VnfFirewallRule", vendorRef: "100000102", importable: false },
      { kind: "VnfFirewallRule", vendorRef: orderBefore[2], importable: true },
    ]);
  });

  it("prints one manifest per expressible rule, each adopting its object; reads the appliance only", async () => {
    expect(cli.code, cli.stderr).toBe(0);
    const docs = parseAllDocuments(cli.stdout)
      .map((d) => d.toJS() as KubeObj | null)
      .filter((d) => d !== null);
    expect(docs).toHaveLength(ADMIN_RULES);
    const adopts = docs.map((d) => adoptOf(d));
    expect(new Set(adopts).size).toBe(ADMIN_RULES);
    expect(new Set(docs.map((d) => d.metadata.name)).size).toBe(ADMIN_RULES);
    const writes = (await env.sim.control.requests()).filter((r) => r.method !== "GET");
    expect(writes.map((r) => `${r.method} ${r.path}`)).toEqual(["POST /api/v2/auth/jwt"]);
  });

  it("names every object it cannot express on stderr, with the reason, and prints them commented out", () => {
    for (const [object, reason] of INEXPRESSIBLE) {
      const line = cli.stderr
        .split("\n")
        .find(
          (l) =>
            l.startsWith("not imported: firewallRule") &&
            l.includes(`(${String(object.descr).replaceAll(" ", "-")})`),
        );
      expect(line, `stderr names ${object.descr}`).toBeDefined();
      expect(line).toMatch(reason);
    }
    // The factory rules (IPv4-only / IPv6-only with an alias) and the port forward, too.
    expect(cli.stderr).toMatch(/not imported: firewallRule 100000101 .*address family inet/);
    expect(cli.stderr).toMatch(/not imported: natRule .*no stable id/);
    expect(cli.stdout).toMatch(/^# NOT IMPORTED firewallRule \d+: a rule on 2 interfaces/m);
    expect(cli.stderr).toMatch(/200 manifests \(200 VnfFirewallRule, 0 VnfNatRule\)/);
    // The device keeps the default placement (Keep): no imported rule crosses one that stays
    // unmanaged (the factory rules first, the inexpressible ones last), so no order warning.
    expect(cli.stderr).not.toMatch(/^order:/m);
  });

  // 200 adoptions on a device that takes one write at a time, plus each rule's place recorded
  // (status.position): well over a minute under load, so the bound has headroom.
  it("applied: all Ready, 0 creates, 200 markers, the order and the count of rules unchanged", {
    timeout: 240_000,
  }, async () => {
    const applied = await env.kubectl(["apply", "-f", "-"], cli.stdout);
    expect(applied.code, applied.stderr).toBe(0);
    const names = parseAllDocuments(cli.stdout)
      .map((d) => d.toJS() as KubeObj | null)
      .filter((d) => d !== null)
      .map((d) => d.metadata.name);
    for (const name of names) await env.waitReady(FIREWALL.plural, name, 120_000);

    const requests = await env.sim.control.requests();
    expect(requests.filter((r) => r.method === "POST" && r.path.startsWith("/api/v2/firewall/rule"))).toEqual(
      [],
    );
    const rules = await filterRules();
    expect(rules.map((r) => String(r.tracker))).toEqual(orderBefore);
    const marked = rules.filter((r) => /\[vnf:[^\]]+\]$/.test(String(r.descr)));
    expect(marked).toHaveLength(ADMIN_RULES);
    // Each rule records the object it adopted, and says so.
    for (const name of names.slice(0, 20)) {
      const rule = await env.get<KubeObj>(FIREWALL.plural, name);
      const status = statusOf(rule);
      expect(status.vendorRef).toBe(
        (rule.metadata as unknown as { annotations: Record<string, string> }).annotations[
          "vnf-operator.io/adopt"
        ],
      );
      expect(JSON.stringify(status.conditions)).toContain("adopted an existing appliance object");
    }
    // The inexpressible objects are as the administrator left them.
    for (const [object] of INEXPRESSIBLE) {
      const now = rules.find((r) => r.descr === object.descr);
      expect(now?.descr).toBe(object.descr);
    }
    expect(await env.find(NAT.plural, "admin-forward")).toBeUndefined();
  });

  it("after: the device counts only what was not imported", async () => {
    await env.checkDrift(env.deviceName, 60_000);
    const status = statusOf(await env.get<KubeObj>("vnfdevices", env.deviceName));
    expect(status.unmanagedObjects).toBe(NOT_IMPORTED);
    const list = status.unmanagedObjectList as Array<{ importable: boolean }>;
    expect(list).toHaveLength(NOT_IMPORTED);
    expect(list.every((entry) => !entry.importable)).toBe(true);
  });

  it("the device's credentials go nowhere the endpoint policy refuses (loopback by default)", async () => {
    await env.sim.control.clearRequests();
    const refused = await run([
      "import",
      "--device",
      `${env.namespace}/${env.deviceName}`,
      "--kubeconfig",
      kubeconfigPath(),
    ]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/loopback/);
    expect(refused.stdout).toBe("");
    // The running operator goes on with its own calls (health checks, order and drift lists; its
    // requests name it in their User-Agent, "vnf-operator (<replica>)"); the import's login and list
    // never reached the appliance.
    const reached = (await env.sim.control.requests()).filter(
      (r) =>
        !String(r.headers["user-agent"] ?? "").startsWith("vnf-operator (") &&
        (r.path.startsWith("/api/v2/auth") || r.path.startsWith("/api/v2/firewall")),
    );
    expect(reached).toEqual([]);
  });

  it("a second import finds nothing left to import: every adopted object is managed", async () => {
    const again = await run([
      "import",
      "--device",
      `${env.namespace}/${env.deviceName}`,
      "--kubeconfig",
      kubeconfigPath(),
      "--endpoint-allow-cidrs",
      SIMULATOR_CIDR,
    ]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout.trim()).toBe("");
    expect(again.stderr).toMatch(/0 manifests .* 200 already managed/);
  });
});
