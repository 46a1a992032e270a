// VyOS simulator driven by pyvyos 0.4.1 (PyPI), the Python SDK of the VyOS HTTP API.
import { afterEach, describe, expect, it } from "vitest";
import { type SimulatorHandle, startSimulator } from "../simulators/index.ts";
import { describeRun, resultOf, runSdk } from "./run-sdk.ts";
import { recordLayerTiming } from "./timing.ts";

recordLayerTiming(import.meta.filename, ["pyvyos 0.4.1"]);

let sim: SimulatorHandle | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

describe("pyvyos 0.4.1", () => {
  it("sets several paths in one commit, shows them, has a bad commit refused whole, deletes and saves", async () => {
    sim = await startSimulator("vyos");
    const handle = sim;
    const seen: Record<string, { live: string[]; saved: string[] }> = {};
    const run = await runSdk("vyos_pyvyos", handle, {
      onCheckpoint: async (name) => {
        const view = await handle.control.objects("firewallRule");
        const paths = (objects: Array<Record<string, unknown>>) => objects.map((o) => String(o.path));
        seen[name] = { live: paths(view.candidate), saved: paths(view.running) };
      },
    });
    expect(run.exitCode, describeRun(run)).toBe(0);
    expect(resultOf(run, "show version")).toMatch(/^Version: +VyOS 1\.4\.0$/m);
    expect(resultOf(run, "retrieve_show_config")).toEqual({
      action: "accept",
      protocol: "tcp",
      destination: { port: "443" },
      source: { address: "192.0.2.0/24" },
      description: "created by pyvyos",
    });
    expect(resultOf(run, "retrieve_return_values")).toEqual(["443"]);
    // pyvyos reads no message out of a 4xx (see test/simulators/README.md): the status is what it keeps.
    expect(resultOf(run, "refused commit (port without protocol)")).toMatchObject({ status: 400 });
    const rule = "firewall ipv4 name SDK_IN rule 10";
    expect(seen).toEqual({
      set: { live: [rule], saved: [] },
      refused: { live: [rule], saved: [] },
      saved: { live: [rule], saved: [rule] },
      deleted: { live: [], saved: [] },
    });
    // Form fields data=<json>&key=..., config-file save with the (ignored) empty path pyvyos adds.
    const save = (await handle.control.requests({ pathPrefix: "/config-file" }))[0];
    const form = new URLSearchParams(save?.body ?? "");
    expect(JSON.parse(form.get("data") ?? "")).toEqual({ op: "save", path: [] });
  });
});
