// Benchmark: what every rule reconcile costs before any I/O — rendering the desired request through
// the vendor's dictionary and hashing it (opHash). Offline: no login, no network.
//   node bench/engine-render.ts [--iterations 2000]
import { readdirSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { ApplianceSession } from "../src/appliance/session.ts";
import { loadDictionaryFile } from "../src/dictionary/loader.ts";

const { values } = parseArgs({ options: { iterations: { type: "string" } } });
const iterations = Number(values.iterations ?? 2000);
const root = path.resolve(import.meta.dirname, "..");
const rule = {
  interface: "wan",
  direction: "in",
  action: "allow",
  protocol: "tcp",
  source: { cidr: "198.51.100.0/24" },
  destination: { cidr: "10.0.10.10", port: "443" },
  description: 'HTTPS to the web server, with "quotes" & <markup>',
  enabled: true,
  log: false,
};
const parameters: Record<string, Record<string, string>> = {
  fortios: { vdom: "root" },
  panos: { vsys: "vsys1", natZone: "untrust" },
  vyos: { firewallName: "WAN_IN" },
};

console.log(`render + opHash of one firewall rule's create request, ${iterations} iterations per dictionary`);
for (const file of readdirSync(path.join(root, "dictionaries")).sort()) {
  const dictionary = await loadDictionaryFile(path.join(root, "dictionaries", file));
  const session = new ApplianceSession({
    dictionary,
    endpoint: "https://appliance.invalid",
    credentials: {},
    parameters: parameters[dictionary.vendor] ?? {},
  });
  const input = { rule, marker: "0b5e7c1e-7d2a-4c55-9a53-0d0c4f6f2f10", ruleNumber: 1000 };
  for (let i = 0; i < 200; i++) session.desiredOpHash("firewallRule", input); // warm-up
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) session.desiredOpHash("firewallRule", input);
  const perOp = Number(process.hrtime.bigint() - start) / iterations / 1000;
  console.log(
    `  ${dictionary.name.padEnd(24)} ${perOp.toFixed(1).padStart(8)} µs/op  ${Math.round(1e6 / perOp)
      .toString()
      .padStart(7)} ops/s`,
  );
  await session.close();
}
