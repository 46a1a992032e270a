// Simulators for a scenario, each in its own process (sim-host.ts), driven through their HTTP control
// API: the same SimulatorHandle as an in-process one.
import { spawn } from "node:child_process";
import path from "node:path";
import { connectSimulatorControl } from "../../test/simulators/common/control-client.ts";
import type { SimulatorHandle } from "../../test/simulators/common/types.ts";
import type { SimulatorVendor } from "../../test/simulators/index.ts";

export async function startSimulatorProcess(
  vendor: SimulatorVendor,
  options: Record<string, unknown>,
): Promise<SimulatorHandle & { pid: number }> {
  const child = spawn(
    process.execPath,
    [path.join(import.meta.dirname, "sim-host.ts"), JSON.stringify({ vendor, options })],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const info = await new Promise<{ url: string; caPem: string; credentials: Record<string, string> }>(
    (resolve, reject) => {
      let buffered = "";
      child.stdout?.setEncoding("utf8");
      child.stdout?.on("data", (chunk: string) => {
        buffered += chunk;
        const newline = buffered.indexOf("\n");
        if (newline >= 0) resolve(JSON.parse(buffered.slice(0, newline)));
      });
      void exited.then(() => reject(new Error(`the ${vendor} simulator process exited before listening`)));
    },
  );
  return {
    pid: child.pid ?? -1,
    vendor,
    url: info.url,
    caPem: info.caPem,
    credentials: info.credentials,
    control: connectSimulatorControl(info.url, { caPem: info.caPem }),
    stop: async () => {
      child.kill("SIGTERM");
      await exited;
    },
  };
}
