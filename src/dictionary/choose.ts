// Which dictionary speaks to a device: by vendor and, once a health check has reported it, by firmware
// version. A pure decision (table-tested); the device controller acts on it. The rules:
//   - a named dictionary (VnfDevice spec.dictionary) must be of the device's vendor, and its range must
//     admit the firmware;
//   - otherwise the vendor's dictionaries whose range admits the firmware, the most specific first; with
//     no firmware known yet (before the first health check), the vendor's newest;
//   - firmware outside every range is refused, naming the version and the ranges there are, unless the
//     device opts in (spec.allowUnsupportedFirmware): then the named or newest dictionary is used anyway
//     and the choice says so.
import type { CompiledDictionary } from "./compiled.ts";
import { compareNames, compareVersions, rangeFloor, satisfies } from "./semver.ts";

export interface DictionaryChoiceRequest {
  vendor: string;
  /** spec.dictionary: an explicit dictionary name. */
  named?: string;
  /** The firmware version the appliance reported (absent before the first health check). */
  firmwareVersion?: string;
  /** spec.allowUnsupportedFirmware: use a dictionary although its range does not admit the firmware. */
  allowUnsupportedFirmware?: boolean;
}

export type DictionaryChoice =
  | {
      name: string;
      /** Set when the firmware is outside the chosen dictionary's range and the device allowed it. */
      unsupported?: string;
    }
  | { reason: "NoDictionary" | "FirmwareUnsupported"; error: string };

/** Newest first: highest lower bound, then name. */
function newestFirst(a: CompiledDictionary, b: CompiledDictionary): number {
  return (
    compareVersions(rangeFloor(b.firmwareRange), rangeFloor(a.firmwareRange)) || compareNames(a.name, b.name)
  );
}

function ranges(dictionaries: readonly CompiledDictionary[]): string {
  return dictionaries.map((d) => `${d.name}: ${d.firmware}`).join("; ");
}

export function chooseDictionary(
  dictionaries: readonly CompiledDictionary[],
  request: DictionaryChoiceRequest,
): DictionaryChoice {
  const { vendor, named, firmwareVersion: version } = request;
  const allow = request.allowUnsupportedFirmware === true;
  if (named !== undefined) {
    const dictionary = dictionaries.find((d) => d.name === named);
    if (!dictionary)
      return { reason: "NoDictionary", error: `no dictionary named ${named} (spec.dictionary)` };
    if (dictionary.vendor !== vendor) {
      return {
        reason: "NoDictionary",
        error: `dictionary ${named} (spec.dictionary) is for vendor ${dictionary.vendor}, the device says ${vendor}`,
      };
    }
    if (version === undefined || satisfies(version, dictionary.firmwareRange)) return { name: named };
    const outside = `${vendor} firmware ${version} is outside the range of dictionary ${named} (${dictionary.firmware})`;
    if (allow) return { name: named, unsupported: `${outside}; used anyway (spec.allowUnsupportedFirmware)` };
    return {
      reason: "FirmwareUnsupported",
      error: `${outside}, named by spec.dictionary; remove spec.dictionary to choose by firmware, or set spec.allowUnsupportedFirmware: true to use it anyway`,
    };
  }
  const candidates = dictionaries.filter((d) => d.vendor === vendor).sort(newestFirst);
  const newest = candidates[0];
  if (!newest) {
    const vendors = [...new Set(dictionaries.map((d) => d.vendor))].sort();
    return {
      reason: "NoDictionary",
      error: `no dictionary for vendor ${vendor} (loaded vendors: ${vendors.join(", ") || "none"})`,
    };
  }
  if (version === undefined) return { name: newest.name };
  const admitting = candidates.find((d) => satisfies(version, d.firmwareRange));
  if (admitting) return { name: admitting.name };
  const outside = `${vendor} firmware ${version} is outside every ${vendor} dictionary's range (${ranges(candidates)})`;
  if (allow)
    return {
      name: newest.name,
      unsupported: `${outside}; using ${newest.name} anyway (spec.allowUnsupportedFirmware)`,
    };
  return {
    reason: "FirmwareUnsupported",
    error: `${outside}; add a dictionary for it, or set spec.allowUnsupportedFirmware: true to use ${newest.name} anyway`,
  };
}
