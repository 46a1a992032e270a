// The CLI commands (validate, render) called in-process, and dictionary resolution in the registry.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { main } from "../../../src/cli/main.ts";
import { loadDictionaryFile } from "../../../src/dictionary/loader.ts";
import { DictionaryRegistry, loadDictionaryDirectories } from "../../../src/dictionary/registry.ts";

let out: string[];
let err: string[];

beforeEach(() => {
  out = [];
  err = [];
  vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    out.push(String(chunk));
    return true;
  });
  vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
    err.push(String(chunk));
    return true;
  });
});

afterEach(() => {
  vi.restoreAllMocks();
});

// Loading a shipped dictionary renders every template against every sample rule: 0.2-0.7 s of CPU
// each, many times that on a loaded 2-core machine, so these tests get far more than the default 5 s.
const LOADS_DICTIONARIES = 60_000;

describe("vnf-operator validate", { timeout: LOADS_DICTIONARIES }, () => {
  it("prints one OK line per valid file and exits 0", async () => {
    expect(await main(["validate", "dictionaries"])).toBe(0);
    expect(out.join("")).toMatch(
      /^OK dictionaries\/fortios-7\.yaml \(fortios-7: fortios >=7\.0\.0 <8\.0\.0; firewallRule, natRule\)\n(OK .*\n)*OK dictionaries\/pfsense-2\.7-restapi-v2\.yaml/,
    );
    expect(err).toEqual([]);
  });

  it("prints file:line errors and exits 1 when any file is refused", async () => {
    const code = await main([
      "validate",
      "test/fixtures/dictionaries/valid/acme-1.yaml",
      "test/fixtures/dictionaries/broken/undefined-variable.yaml",
    ]);
    expect(code).toBe(1);
    expect(out.join("")).toContain("OK test/fixtures/dictionaries/valid/acme-1.yaml");
    expect(err.join("")).toBe(
      "test/fixtures/dictionaries/broken/undefined-variable.yaml:28: resources.firewallRule.operations.create.body.note: template error: unknown variable rule.descripton\n",
    );
  });

  it("reports an unreadable file", async () => {
    expect(await main(["validate", "no/such/file.yaml"])).toBe(1);
    expect(err.join("")).toContain("no/such/file.yaml:0: cannot read (ENOENT)");
  });
});

describe("vnf-operator render", { timeout: LOADS_DICTIONARIES }, () => {
  it("prints the exact requests with secrets masked, and the opHash", async () => {
    const code = await main([
      "render",
      "--dictionary",
      "dictionaries/fortios-7.yaml",
      "--operation",
      "firewallRule.create",
      "--device",
      "test/fixtures/dictionaries/manifests/device-fortios.yaml",
      "test/fixtures/dictionaries/manifests/rule-web.yaml",
    ]);
    expect(err.join("")).toBe("");
    expect(code).toBe(0);
    const text = out.join("");
    expect(text).toContain("POST https://192.0.2.1:8443/api/v2/cmdb/firewall/policy?vdom=dmz\n");
    expect(text).toContain("Authorization: ***\n");
    expect(text).toContain(
      '"comments":"hostile\\",\\"type\\":\\"pass [vnf:3f1c2a9e-0000-4000-8000-000000000001]"',
    );
    expect(text).toMatch(/# opHash [0-9a-f]{64}\n$/);
  });

  it("needs a vendorRef for operations on an existing object", async () => {
    const code = await main([
      "render",
      "--dictionary",
      "dictionaries/pfsense-2.7-restapi-v2.yaml",
      "--operation",
      "firewallRule.delete",
      "test/fixtures/dictionaries/manifests/rule-web.yaml",
    ]);
    expect(code).toBe(1);
    expect(err.join("")).toContain("delete needs --vendor-ref");
  });

  it("shows step outputs as placeholders and the lookup before the write", async () => {
    const code = await main([
      "render",
      "--dictionary",
      "dictionaries/pfsense-2.7-restapi-v2.yaml",
      "--operation",
      "update",
      "--vendor-ref",
      "1700000000",
      "test/fixtures/dictionaries/manifests/rule-web.yaml",
    ]);
    expect(code).toBe(0);
    const text = out.join("");
    expect(text).toContain("GET https://appliance.invalid/api/v2/firewall/rules?tracker=1700000000");
    expect(text).toContain("PATCH https://appliance.invalid/api/v2/firewall/rule\n");
    // The index looked up, and the tracker pfSense checks it against.
    expect(text).toContain('{"id":"{steps.lookup.id}","tracker":1700000000,');
  });

  it("renders a filter rule's delete as one query on its tracker", async () => {
    const code = await main([
      "render",
      "--dictionary",
      "dictionaries/pfsense-2.7-restapi-v2.yaml",
      "--operation",
      "delete",
      "--vendor-ref",
      "1700000000",
      "test/fixtures/dictionaries/manifests/rule-web.yaml",
    ]);
    expect(code).toBe(0);
    const text = out.join("");
    expect(text).toContain("DELETE https://appliance.invalid/api/v2/firewall/rules?tracker=1700000000");
    expect(text).not.toContain("GET ");
  });

  it("refuses a rule the dictionary cannot express", async () => {
    const code = await main([
      "render",
      "--dictionary",
      "dictionaries/pfsense-2.7-restapi-v2.yaml",
      "--operation",
      "natRule.create",
      "test/fixtures/dictionaries/manifests/nat-1to1-tcp.yaml",
    ]);
    expect(code).toBe(1);
    expect(err.join("")).toContain("BROKER_INVALID_REQUEST");
    expect(err.join("")).toContain("pfSense 1:1 NAT maps every protocol: set protocol any");
  });
});

describe("main", () => {
  it("lists the commands and refuses unknown ones", async () => {
    expect(await main(["--help"])).toBe(0);
    expect(out.join("")).toContain("validate");
    expect(await main(["frobnicate"])).toBe(2);
    expect(err.join("")).toContain('unknown command "frobnicate"');
  });
});

describe("DictionaryRegistry", { timeout: LOADS_DICTIONARIES }, () => {
  const dictionaries = async () =>
    (await loadDictionaryDirectories(["dictionaries", "test/fixtures/dictionaries/valid"])).registry;

  it("loads the directories and resolves by vendor and firmware", async () => {
    const registry = await dictionaries();
    expect(registry.resolve({ vendor: "pfsense", firmwareVersion: "2.7.2-RELEASE" }).name).toBe(
      "pfsense-2.7-restapi-v2",
    );
    expect(registry.resolve({ vendor: "fortios", firmwareVersion: "v7.4.5" }).name).toBe("fortios-7");
    expect(registry.resolve({ vendor: "fortios" }).name).toBe("fortios-7");
    expect(() => registry.resolve({ vendor: "fortios", firmwareVersion: "v6.4.0" })).toThrow(
      /no fortios dictionary admits firmware v6\.4\.0/,
    );
    expect(() => registry.resolve({ vendor: "juniper" })).toThrow(/no dictionary for vendor juniper/);
  });

  it("OPNsense: 25.7 and 26.1 get different dictionaries (26.1 added the port-forward API)", async () => {
    const registry = await dictionaries();
    const opnsense = (firmwareVersion?: string) =>
      registry.resolve(
        firmwareVersion === undefined ? { vendor: "opnsense" } : { vendor: "opnsense", firmwareVersion },
      );
    expect(opnsense("25.7.2").name).toBe("opnsense-25.7-api");
    expect(opnsense("25.7.11_2").name).toBe("opnsense-25.7-api");
    expect(opnsense("26.1.11").name).toBe("opnsense-26.1-api");
    // Before the first health check: the newest.
    expect(opnsense().name).toBe("opnsense-26.1-api");
    const natCreates = (version: string) =>
      opnsense(version).resources.natRule?.operations.create.steps.map((step) => step.path.source);
    expect(natCreates("25.7.2")).not.toContain("/firewall/d_nat/addRule");
    expect(natCreates("26.1.11")).toContain("/firewall/d_nat/addRule");
    expect(() => opnsense("24.7.1")).toThrow(
      "no opnsense dictionary admits firmware 24.7.1 (opnsense-25.7-api: >=25.7.0 <26.1.0; opnsense-26.1-api: >=26.1.0 <27.0.0)",
    );
  });

  it("prefers the most specific range, and an explicit name of the right vendor", async () => {
    const base = await loadDictionaryFile("test/fixtures/dictionaries/valid/acme-1.yaml");
    const narrow = {
      ...base,
      name: "acme-1.5",
      firmware: ">=1.5.0 <2",
      firmwareRange: [
        [
          { op: ">=", version: [1, 5, 0] },
          { op: "<", version: [2, 0, 0] },
        ],
      ],
    } as typeof base;
    const registry = new DictionaryRegistry([base, narrow]);
    expect(registry.resolve({ vendor: "acme", firmwareVersion: "1.6.0" }).name).toBe("acme-1.5");
    expect(registry.resolve({ vendor: "acme", firmwareVersion: "1.2.0" }).name).toBe("acme-1");
    expect(registry.resolve({ vendor: "acme", name: "acme-1" }).name).toBe("acme-1");
    expect(() => registry.resolve({ vendor: "pfsense", name: "acme-1" })).toThrow(/is for vendor acme/);
    expect(() => new DictionaryRegistry([base, base])).toThrow(/two dictionaries named acme-1/);
  });

  it("reports refused files without refusing the others", async () => {
    const { registry, errors } = await loadDictionaryDirectories([
      "test/fixtures/dictionaries/broken",
      "dictionaries",
    ]);
    expect(errors.length).toBeGreaterThanOrEqual(15);
    expect(registry.all().map((d) => d.name)).toEqual([
      "fortios-7",
      "opnsense-25.7-api",
      "opnsense-26.1-api",
      "panos-10-xmlapi",
      "pfsense-2.7-restapi-v2",
      "vyos-1.4-httpapi",
    ]);
  });
});

describe("vnf-operator render with multi-document files", { timeout: LOADS_DICTIONARIES }, () => {
  const dictionary = "dictionaries/pfsense-2.7-restapi-v2.yaml";
  const rules = "samples/pfsense/10-firewall-rules.yaml";
  const device = "samples/pfsense/01-device.yaml";

  it("renders the rule chosen by --name, with the device's endpoint", async () => {
    const code = await main([
      "render",
      "--dictionary",
      dictionary,
      "--operation",
      "firewallRule.create",
      "--device",
      device,
      "--name",
      "pfsense-allow-https",
      rules,
    ]);
    expect(code).toBe(0);
    const stdout = out.join("");
    expect(stdout).toContain("POST https://127.0.0.1:8441/api/v2/firewall/rule");
    expect(stdout).toContain('"destination":"10.0.10.10"');
    expect(stdout).toMatch(/# opHash [0-9a-f]{64}/);
  });

  it("asks for --name when the file holds several rules, naming them", async () => {
    const code = await main([
      "render",
      "--dictionary",
      dictionary,
      "--operation",
      "firewallRule.create",
      rules,
    ]);
    expect(code).toBe(1);
    const stderr = err.join("");
    expect(stderr).toContain("choose one with --name");
    expect(stderr).toContain("pfsense-allow-https");
  });
});
