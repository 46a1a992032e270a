// chooseDictionary: the device's dictionary by vendor and firmware version (the shipped OPNsense pair,
// whose APIs differ: 25.7 has no port-forward API), the explicit name, and the opt-in for firmware
// outside every range.
import { beforeAll, describe, expect, it } from "vitest";
import { chooseDictionary, type DictionaryChoiceRequest } from "../../../src/dictionary/choose.ts";
import type { CompiledDictionary } from "../../../src/dictionary/compiled.ts";
import { loadDictionaryDirectories } from "../../../src/dictionary/registry.ts";

let shipped: CompiledDictionary[] = [];
beforeAll(async () => {
  shipped = (await loadDictionaryDirectories(["dictionaries"])).registry.all();
}, 120_000);

const RANGES = "opnsense-26.1-api: >=26.1.0 <27.0.0; opnsense-25.7-api: >=25.7.0 <26.1.0";

describe("chooseDictionary", () => {
  it.each<[string, DictionaryChoiceRequest, ReturnType<typeof chooseDictionary>]>([
    ["no firmware known yet: the newest", { vendor: "opnsense" }, { name: "opnsense-26.1-api" }],
    ["25.7.2", { vendor: "opnsense", firmwareVersion: "25.7.2" }, { name: "opnsense-25.7-api" }],
    [
      "25.7.11_2 (a package suffix)",
      { vendor: "opnsense", firmwareVersion: "25.7.11_2" },
      { name: "opnsense-25.7-api" },
    ],
    ["26.1.11", { vendor: "opnsense", firmwareVersion: "26.1.11" }, { name: "opnsense-26.1-api" }],
    [
      "24.7.1: outside every range",
      { vendor: "opnsense", firmwareVersion: "24.7.1" },
      {
        reason: "FirmwareUnsupported",
        error: `opnsense firmware 24.7.1 is outside every opnsense dictionary's range (${RANGES}); add a dictionary for it, or set spec.allowUnsupportedFirmware: true to use opnsense-26.1-api anyway`,
      },
    ],
    [
      "24.7.1, allowed",
      { vendor: "opnsense", firmwareVersion: "24.7.1", allowUnsupportedFirmware: true },
      {
        name: "opnsense-26.1-api",
        unsupported: `opnsense firmware 24.7.1 is outside every opnsense dictionary's range (${RANGES}); using opnsense-26.1-api anyway (spec.allowUnsupportedFirmware)`,
      },
    ],
    [
      "named, in range",
      { vendor: "opnsense", named: "opnsense-25.7-api", firmwareVersion: "25.7.2" },
      { name: "opnsense-25.7-api" },
    ],
    [
      "named, out of range",
      { vendor: "opnsense", named: "opnsense-25.7-api", firmwareVersion: "26.1.11" },
      {
        reason: "FirmwareUnsupported",
        error:
          "opnsense firmware 26.1.11 is outside the range of dictionary opnsense-25.7-api (>=25.7.0 <26.1.0), named by spec.dictionary; remove spec.dictionary to choose by firmware, or set spec.allowUnsupportedFirmware: true to use it anyway",
      },
    ],
    [
      "named, out of range, allowed",
      {
        vendor: "opnsense",
        named: "opnsense-25.7-api",
        firmwareVersion: "26.1.11",
        allowUnsupportedFirmware: true,
      },
      {
        name: "opnsense-25.7-api",
        unsupported:
          "opnsense firmware 26.1.11 is outside the range of dictionary opnsense-25.7-api (>=25.7.0 <26.1.0); used anyway (spec.allowUnsupportedFirmware)",
      },
    ],
    [
      "named, of another vendor",
      { vendor: "opnsense", named: "fortios-7" },
      {
        reason: "NoDictionary",
        error: "dictionary fortios-7 (spec.dictionary) is for vendor fortios, the device says opnsense",
      },
    ],
    [
      "named, unknown",
      { vendor: "opnsense", named: "nope" },
      { reason: "NoDictionary", error: "no dictionary named nope (spec.dictionary)" },
    ],
    [
      "unknown vendor",
      { vendor: "juniper", firmwareVersion: "23.4" },
      {
        reason: "NoDictionary",
        error: "no dictionary for vendor juniper (loaded vendors: fortios, opnsense, panos, pfsense, vyos)",
      },
    ],
    ["a version string with a v", { vendor: "fortios", firmwareVersion: "v7.4.5" }, { name: "fortios-7" }],
  ])("%s", (_label, request, expected) => {
    expect(chooseDictionary(shipped, request)).toEqual(expected);
  });

  it("the dictionaries it picks differ where the API does: port forwards only from 26.1", () => {
    // What a NAT rule's create may call: 25.7 has source NAT and 1:1 NAT, only 26.1 port forwards.
    const natCreates = (version: string) => {
      const choice = chooseDictionary(shipped, { vendor: "opnsense", firmwareVersion: version });
      if (!("name" in choice)) throw new Error(choice.error);
      const natRule = shipped.find((d) => d.name === choice.name)?.resources.natRule;
      return natRule?.operations.create.steps.map((step) => step.path.source) ?? [];
    };
    expect(natCreates("25.7.2")).toEqual(["/firewall/source_nat/addRule", "/firewall/one_to_one/addRule"]);
    expect(natCreates("26.1.11")).toEqual([
      "/firewall/d_nat/addRule",
      "/firewall/source_nat/addRule",
      "/firewall/one_to_one/addRule",
    ]);
  });
});
