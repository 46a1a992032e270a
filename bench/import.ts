// Benchmark: `vnf-operator import` on one device with many rules — the appliance read once (the bulk
// list), the reverse mapping of every object and the manifests built (src/import/plan.ts) — against
// the pfSense and FortiOS simulators, each seeded with an administrator's rulebase. The command adds
// three API-server GETs (device, Secret, rules) to this. Also prints the share of each rulebase that
// imports cleanly, and why the rest does not.
//   node bench/import.ts [--rules 1000] [--runs 3]
import path from "node:path";
import { parseArgs } from "node:util";
import { ApplianceSession } from "../src/appliance/session.ts";
import { loadDictionaryFile } from "../src/dictionary/loader.ts";
import { type ListedObject, planImport } from "../src/import/plan.ts";
import { manifestsText } from "../src/import/print.ts";
import { type SimulatorVendor, startSimulator } from "../test/simulators/index.ts";

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

interface Rulebase {
  vendor: SimulatorVendor;
  dictionary: string;
  simulator: Record<string, unknown>;
  parameters?: Record<string, string>;
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
];

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
