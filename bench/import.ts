// Benchmark: `vnf-operator import` on one device with many rules — the appliance read once (the bulk
// list), the reverse mapping of every object and the manifests built (src/import/plan.ts) — against
// the simulators of all five vendors, each seeded with an administrator's rulebase. The command adds
// three API-server GETs (device, Secret, rules) to this. Also prints the share of each rulebase that
// imports cleanly, and why the rest does not, then one table for all vendors.
//
// The rulebases are constructed, not real-world data: generated from each vendor's common constructs
// in proportions we chose (mostly plain per-interface rules, plus constructs the reverse mapping cannot
// express). The share that imports cleanly follows from those proportions; read it as "what import
// expresses of these constructs", not as a survey of production firewalls.
//   node bench/import.ts [--rules 1000] [--runs 3]
import path from "node:path";
import { parseArgs } from "node:util";
import { ApplianceSession } from "../src/appliance/session.ts";
import { loadDictionaryFile } from "../src/dictionary/loader.ts";
import { type ListedObject, planImport } from "../src/import/plan.ts";
import { manifestsText } from "../src/import/print.ts";
import { type SimulatorHandle, type SimulatorVendor, startSimulator } from "../test/simulators/index.ts";

const { values } = parseArgs({ options: { rules: { type: "string" }, runs: { type: "string" } } });
const count = Number(values.rules ?? 1000);
const runs = Number(values.runs ?? 3);
const root = path.resolve(import.meta.dirname, "..");

/**
 * A pfSense rulebase as administrators write them: mostly plain pass/block rules per interface, and
 * now and then what no VnfFirewallRule expresses (floating rules on several interfaces, schedules,
 * ICMP types, negated addresses, IPv4-only rules with an alias).
 */
function rulebaseRule(i: number): Record<string, unknown> {
  const iface = ["lan", "wan", "opt1"][i % 3] ?? "lan";
  const protocol = [null, "tcp", "udp", "tcp/udp", "icmp"][i % 5] ?? null;
  const ported = protocol === "tcp" || protocol === "udp" || protocol === "tcp/udp";
  const source = i % 7 === 0 ? "any" : `10.${i % 250}.${(i * 7) % 250}.0/24`;
  const destination = i % 4 === 0 ? "any" : `192.0.2.${(i % 250) + 1}`;
  const rule: Record<string, unknown> = {
    type: ["pass", "block", "reject"][i % 3],
    interface: [iface],
    ipprotocol: source === "any" && destination === "any" ? "inet46" : "inet",
    protocol,
    source,
    destination,
    ...(ported ? { destination_port: String(1000 + (i % 60000)) } : {}),
    descr: `rule ${i}`,
    disabled: i % 8 === 0,
    log: i % 5 === 0,
  };
  if (i % 50 === 1) Object.assign(rule, { interface: ["lan", "opt1"], floating: true, direction: "any" });
  if (i % 40 === 7) rule.sched = "office-hours";
  if (protocol === "icmp" && i % 3 === 0) rule.icmptype = ["echoreq"];
  if (i % 33 === 5) rule.source = "!lan";
  if (i % 29 === 11) Object.assign(rule, { source: "lan", destination: "any", ipprotocol: "inet" });
  return rule;
}

/**
 * A FortiOS policy list as administrators write them: most policies go from one interface to another
 * (LAN → WAN), log security events only (logtraffic utm, the factory default) and use predefined
 * services; some are per-interface with any on the other side, log all or nothing, and some apply NAT.
 */
function fortiPolicy(i: number): Record<string, unknown> {
  const ports = ["port1", "port2", "port3", "port4"];
  const services = ["HTTPS", "HTTP", "SSH", "DNS", "ALL", "ALL_ICMP", "SMTP"];
  const inbound = i % 3 !== 0;
  return {
    name: `policy-${i}`,
    srcintf: [{ name: ports[i % 4] }],
    dstintf: [{ name: inbound && i % 2 === 0 ? "any" : ports[(i + 1) % 4] }],
    srcaddr: [{ name: "all" }],
    dstaddr: [{ name: "all" }],
    service: i % 11 === 0 ? [{ name: "HTTP" }, { name: "HTTPS" }] : [{ name: services[i % services.length] }],
    action: i % 4 === 0 ? "deny" : "accept",
    schedule: "always",
    logtraffic: ["utm", "all", "disable", "utm"][i % 4],
    nat: i % 9 === 0 ? "enable" : "disable",
    status: "enable",
    comments: `policy ${i}`,
  };
}

/**
 * A PAN-OS security rulebase as administrators write them: zone-based, often App-ID with
 * `application-default` or predefined/custom service objects, sometimes zone to zone; the rest match
 * one zone (the other side any) on addresses only, or ICMP by application. Some use `drop`, which has
 * no VnfFirewallRule action. (The simulator's control API takes a member list as a plain array.)
 */
function panosRule(i: number): Record<string, unknown> {
  const zones = ["trust", "untrust", "dmz"];
  const zone = zones[i % 3] ?? "trust";
  const kind = i % 10;
  const application =
    kind < 2 ? (i % 4 === 0 ? ["ssl", "web-browsing"] : ["dns"]) : kind === 9 ? ["icmp"] : ["any"];
  const service =
    kind < 2
      ? ["application-default"]
      : kind === 2
        ? ["service-https"]
        : kind === 3
          ? [`tcp-${8000 + (i % 100)}`]
          : ["any"];
  const zonePair = i % 8 === 0;
  return {
    "@name": `rule-${i}`,
    from: [zonePair ? "trust" : i % 2 === 0 ? zone : "any"],
    to: [zonePair ? "untrust" : i % 2 === 0 ? "any" : zone],
    source: i % 13 === 0 ? ["10.1.0.0/16", "10.2.0.0/16"] : [i % 5 === 0 ? "any" : `10.${i % 250}.0.0/16`],
    destination: [i % 4 === 0 ? "any" : `192.0.2.${(i % 250) + 1}`],
    application,
    service,
    action: i % 17 === 0 ? "drop" : i % 3 === 0 ? "deny" : "allow",
    description: `rule ${i}`,
    disabled: i % 8 === 3 ? "yes" : "no",
    "log-end": i % 5 === 0 ? "no" : "yes",
  };
}

/**
 * A VyOS 1.4 named rule set (WAN_IN) as administrators write them: an established/related rule now
 * and then, rules per inbound interface on addresses, ports and address groups, some IPv6; some rules
 * without an interface (the rule set is attached elsewhere), rate limits and time windows, and
 * protocols such as GRE and ESP that a VnfFirewallRule has no value for.
 */
function vyosRule(i: number): Record<string, unknown> {
  const ipv6 = i % 10 === 9;
  const protocol = ["tcp", "udp", "tcp_udp", "icmp", undefined, "tcp"][i % 6];
  const ported = protocol === "tcp" || protocol === "udp" || protocol === "tcp_udp";
  const rule: Record<string, unknown> = {
    path: `firewall ${ipv6 ? "ipv6" : "ipv4"} name WAN_IN rule ${(i + 1) * 10}`,
    action: ["accept", "drop", "reject", "accept"][i % 4],
    "inbound-interface": { name: ["eth0", "eth1", "eth2"][i % 3] },
    ...(protocol ? { protocol } : {}),
    source: ipv6
      ? { address: `2001:db8:${(i % 250).toString(16)}::/64` }
      : { address: `10.${i % 250}.0.0/16` },
    destination:
      i % 11 === 0
        ? { group: { "address-group": "servers" }, ...(ported ? { port: "443" } : {}) }
        : {
            address: ipv6 ? `2001:db8:ff::${(i % 250).toString(16)}` : `192.0.2.${(i % 250) + 1}`,
            ...(ported ? { port: String(1000 + (i % 60000)) } : {}),
          },
    description: `rule ${i}`,
  };
  if (i % 5 === 0) rule.log = {};
  if (i % 8 === 3) rule.disable = {};
  if (i % 100 === 0) Object.assign(rule, { state: { established: "enable", related: "enable" } });
  if (i % 12 === 7) delete rule["inbound-interface"];
  if (i % 37 === 5) rule["outbound-interface"] = { name: "eth1" };
  if (i % 45 === 4) rule.limit = { rate: "10/minute" };
  if (i % 60 === 8) rule.time = { starttime: "08:00:00", stoptime: "18:00:00" };
  if (i % 50 === 21) rule.protocol = ["gre", "esp"][i % 2];
  return rule;
}

/**
 * An OPNsense filter rulebase (Firewall: Automation) as administrators write them: per-interface pass
 * and block rules on addresses, ports and aliases; some negated addresses, some floating rules on
 * several interfaces (direction any or in), some protocols (GRE, ESP) a VnfFirewallRule has no value
 * for. Policy-routed rules (`gateway`) are refused too (unit-tested), but are not seeded: the simulator
 * knows no gateways here.
 */
function opnsenseRule(i: number): Record<string, unknown> {
  const protocol = ["TCP", "UDP", "TCP/UDP", "ICMP", "any"][i % 5] ?? "any";
  const ported = protocol === "TCP" || protocol === "UDP" || protocol === "TCP/UDP";
  const rule: Record<string, unknown> = {
    interface: ["lan", "wan", "opt1"][i % 3],
    direction: i % 6 === 5 ? "out" : "in",
    action: ["pass", "block", "reject", "pass"][i % 4],
    ipprotocol: "inet",
    protocol,
    source_net: i % 7 === 0 ? "any" : `10.${i % 250}.${(i * 7) % 250}.0/24`,
    destination_net: i % 11 === 0 ? "partner_nets" : i % 4 === 0 ? "any" : `192.0.2.${(i % 250) + 1}`,
    ...(ported ? { destination_port: String(1000 + (i % 60000)) } : {}),
    description: `rule ${i}`,
    enabled: i % 8 === 3 ? "0" : "1",
    log: i % 5 === 0 ? "1" : "0",
    sequence: String((i + 1) * 10),
  };
  if (i % 33 === 5) rule.source_not = "1";
  if (i % 41 === 9) rule.destination_not = "1";
  if (i % 50 === 1) Object.assign(rule, { interface: "lan,opt1", direction: "any" });
  if (i % 50 === 26) Object.assign(rule, { interface: "lan,opt1", direction: "in" });
  if (i % 70 === 2) Object.assign(rule, { protocol: ["GRE", "ESP"][i % 2], destination_port: "" });
  return rule;
}

interface Rulebase {
  vendor: SimulatorVendor;
  dictionary: string;
  simulator: Record<string, unknown>;
  parameters?: Record<string, string>;
  /** Objects the rules refer to (address groups), made before the rules. */
  setup?: (sim: SimulatorHandle) => Promise<void>;
  object(i: number): Record<string, unknown>;
}

const RULEBASES: Rulebase[] = [
  {
    vendor: "pfsense",
    dictionary: "dictionaries/pfsense-2.7-restapi-v2.yaml",
    simulator: { factoryRules: true },
    object: rulebaseRule,
  },
  {
    vendor: "fortios",
    dictionary: "dictionaries/fortios-7.yaml",
    simulator: {},
    parameters: { vdom: "root" },
    object: fortiPolicy,
  },
  {
    vendor: "panos",
    dictionary: "dictionaries/panos-10-xmlapi.yaml",
    simulator: {},
    parameters: { vsys: "vsys1" },
    object: panosRule,
  },
  {
    vendor: "vyos",
    dictionary: "dictionaries/vyos-1.4-httpapi.yaml",
    simulator: {},
    parameters: { firewallName: "WAN_IN" },
    setup: async (sim) => {
      await sim.control.putObject("config", {
        path: "firewall group address-group servers",
        config: { address: ["192.0.2.10", "192.0.2.11"] },
      });
    },
    object: vyosRule,
  },
  {
    vendor: "opnsense",
    dictionary: "dictionaries/opnsense-26.1-api.yaml",
    simulator: { version: "26.1.11", aliases: ["partner_nets"] },
    object: opnsenseRule,
  },
];

const table: { vendor: string; listed: number; median: number; imported: number; refused: number }[] = [];

for (const base of RULEBASES) {
  const sim = await startSimulator(base.vendor, base.simulator as never);
  const dictionary = await loadDictionaryFile(path.join(root, base.dictionary));
  const session = new ApplianceSession({
    dictionary,
    endpoint: sim.url,
    credentials: sim.credentials,
    tls: { caPem: sim.caPem },
    ...(base.parameters ? { parameters: base.parameters } : {}),
  });
  try {
    await base.setup?.(sim);
    for (let i = 0; i < count; i++) await sim.control.putObject("firewallRule", base.object(i));
    const timings: number[] = [];
    let plan: ReturnType<typeof planImport> | undefined;
    let listed = 0;
    for (let run = 0; run < runs; run++) {
      const start = performance.now();
      const objects = await session.list("firewallRule");
      const list: ListedObject[] = objects.map((object) => ({
        vendorRef: object.vendorRef,
        reversed: session.reverse("firewallRule", object),
        normalized: object.normalized,
      }));
      plan = planImport({
        device: { namespace: "bench", name: "fw" },
        lists: { firewallRule: list },
        recorded: new Set(),
      });
      manifestsText(plan, "yaml", true);
      timings.push(performance.now() - start);
      listed = objects.length;
    }
    timings.sort((a, b) => a - b);
    const median = timings[Math.floor(timings.length / 2)] ?? 0;
    const imported = plan?.manifests.length ?? 0;
    console.log(`${base.vendor}: import of ${listed} firewall rules (${count} seeded), ${runs} runs`);
    console.log(
      `  list + reverse mapping + manifests: median ${median.toFixed(0)} ms (${timings.map((t) => t.toFixed(0)).join(", ")} ms)`,
    );
    console.log(
      `  imports cleanly: ${imported} of ${listed} (${((100 * imported) / Math.max(1, listed)).toFixed(1)} %)`,
    );
    table.push({ vendor: base.vendor, listed, median, imported, refused: plan?.unsupported.length ?? 0 });
    const reasons = new Map<string, number>();
    for (const entry of plan?.unsupported ?? []) {
      const reason = entry.reason
        .replace(/\d+/g, "N")
        .replace(/\(.*?\)/g, "(…)")
        .slice(0, 80);
      reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
    }
    for (const [reason, n] of [...reasons].sort((a, b) => b[1] - a[1])) {
      console.log(`  ${String(n).padStart(5)}  ${reason}`);
    }
  } finally {
    await session.close();
    await sim.stop();
  }
}

console.log(`\nvendor     rules  median ms  imports cleanly   refused`);
for (const row of table) {
  const share = `${row.imported} (${((100 * row.imported) / Math.max(1, row.listed)).toFixed(1)} %)`;
  console.log(
    `${row.vendor.padEnd(9)} ${String(row.listed).padStart(6)} ${row.median.toFixed(0).padStart(10)}  ${share.padStart(15)} ${String(row.refused).padStart(9)}`,
  );
}
