// PAN-OS simulator driven by Palo Alto's own Python SDKs from PyPI: pan-os-python 1.13.1 (with the
// pan-python 0.17.0 it pins) and pan-python's PanXapi at 0.17.0 and at the newest 0.26.0.
import { afterEach, describe, expect, it } from "vitest";
import { type SimulatorHandle, startSimulator } from "../simulators/index.ts";
import { describeRun, resultOf, runSdk } from "./run-sdk.ts";
import { recordLayerTiming } from "./timing.ts";

recordLayerTiming(import.meta.filename, ["pan-os-python 1.13.1", "pan-python 0.17.0", "pan-python 0.26.0"]);

let sim: SimulatorHandle | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

type Snapshot = { candidate: string[]; running: string[] };

async function ruleNames(handle: SimulatorHandle): Promise<Snapshot> {
  const view = await handle.control.objects("firewallRule");
  const names = (objects: Array<Record<string, unknown>>) => objects.map((o) => String(o["@name"]));
  return { candidate: names(view.candidate), running: names(view.running) };
}

describe("pan-os-python 1.13.1", () => {
  it("connects (keygen, refresh_system_info), creates a rule under its parent xpath, reads it back with refreshall, commits synchronously and deletes it", async () => {
    sim = await startSimulator("panos", { applyDelayMs: 100 });
    const handle = sim;
    const seen: Record<string, Snapshot> = {};
    const run = await runSdk("panos_pan_os_python", handle, {
      onCheckpoint: async (name) => {
        seen[name] = await ruleNames(handle);
      },
    });
    expect(run.exitCode, describeRun(run)).toBe(0);
    expect(resultOf(run, "refresh_system_info")).toEqual({
      version: "10.2.4",
      platform: "PA-VM",
      serial: "007954000123456",
      content_version: expect.stringMatching(/^\d+-\d+$/),
      multi_vsys: false,
    });
    expect(resultOf(run, "refreshall")).toMatchObject({
      names: ["sdk-conformance-web"],
      fromzone: ["trust"],
      tozone: ["untrust"],
      source: ["10.10.0.0/24"],
      application: ["web-browsing"],
      action: "allow",
      description: "created by pan-os-python",
      uuid: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    expect(resultOf(run, "commit(sync=True)")).toMatchObject({ success: true, result: "OK" });
    expect(seen).toEqual({
      created: { candidate: ["sdk-conformance-web"], running: [] },
      committed: { candidate: ["sdk-conformance-web"], running: ["sdk-conformance-web"] },
      deleted: { candidate: [], running: [] },
    });
    // create() is one `set` on the parent .../rules xpath carrying <entry name=...>.
    const sets = (await handle.control.requests({ pathPrefix: "/api" })).filter(
      (r) => /(^|&)action=set(&|$)/.test(r.body) || r.query.action === "set",
    );
    expect(sets).toHaveLength(1);
    const form = new URLSearchParams(sets[0]?.body ?? "");
    expect(form.get("xpath")).toMatch(/\/rulebase\/security\/rules$/);
    expect(form.get("element")).toMatch(/^<entry name="sdk-conformance-web">/);
  });
});

describe.each([
  { label: "pan-python 0.17.0 (pinned by pan-os-python)", latest: false, version: "0.17.0" },
  { label: "pan-python 0.26.0 (newest)", latest: true, version: "0.26.0" },
])("$label", ({ latest, version }) => {
  it("keygen (every key usable at once although sent unencoded), show system info, set/get, synchronous commit, delete", async () => {
    sim = await startSimulator("panos", { applyDelayMs: 100 });
    const handle = sim;
    const seen: Record<string, Snapshot> = {};
    const run = await runSdk("panos_pan_python", handle, {
      panPythonLatest: latest,
      onCheckpoint: async (name) => {
        seen[name] = await ruleNames(handle);
      },
    });
    expect(run.exitCode, describeRun(run)).toBe(0);
    expect(resultOf(run, "version")).toBe(version);
    const keys = resultOf<string[]>(run, "keygen x20, each key used");
    expect(keys).toHaveLength(20);
    for (const key of keys) expect(key).toMatch(/^LUFRPT[A-Za-z0-9]+=*$/);
    expect(resultOf(run, "show system info")).toMatchObject({
      "sw-version": "10.2.4",
      model: "PA-VM",
      serial: "007954000123456",
      "app-version": expect.stringMatching(/^\d+-\d+$/),
      "multi-vsys": "off",
    });
    expect(resultOf(run, "get")).toMatchObject({ action: "deny" });
    expect(resultOf(run, "commit(sync=True)")).toEqual({ status: "FIN", result: "OK" });
    expect(seen).toEqual({
      created: { candidate: ["sdk-pan-python"], running: [] },
      committed: { candidate: ["sdk-pan-python"], running: ["sdk-pan-python"] },
      deleted: { candidate: [], running: [] },
    });
  });
});
