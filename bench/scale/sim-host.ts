// One appliance simulator in a process of its own, so the bench's own event loop (the bound client,
// the watches) and the operator never queue behind a simulator's work. Started by simulators.ts;
// prints `{"url","caPem","credentials"}` once listening and stops on SIGTERM.
//   node bench/scale/sim-host.ts '{"vendor":"fortios","options":{...}}'
import { type SimulatorVendor, startSimulator } from "../../test/simulators/index.ts";

const { vendor, options } = JSON.parse(process.argv[2] ?? "{}") as {
  vendor: SimulatorVendor;
  options: Record<string, unknown>;
};
const sim = await startSimulator(vendor, options as never);
process.stdout.write(`${JSON.stringify({ url: sim.url, caPem: sim.caPem, credentials: sim.credentials })}\n`);
process.once("SIGTERM", () => {
  void sim.stop().then(() => process.exit(0));
});
