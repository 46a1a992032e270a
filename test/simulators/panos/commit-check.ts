// What a PAN-OS commit validates that `set`/`edit` do not: references (zones, addresses, services,
// applications, interfaces) and required rule fields. A failing commit job reports these lines.
import { isIP } from "node:net";
import { child, entryNamed, membersOf, textOf, type XNode } from "./xml.ts";

export interface CommitEnvironment {
  zones: readonly string[];
  interfaces: readonly string[];
  applications: readonly string[];
}

/** Services every firewall knows without configuration. */
export const PREDEFINED_SERVICES = ["any", "application-default", "service-http", "service-https"];

export function isAddressLiteral(value: string): boolean {
  const [address = "", prefix, extra] = value.split("/");
  if (extra !== undefined) return false;
  if (prefix !== undefined) {
    const family = isIP(address);
    return family !== 0 && /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
  }
  const range = value.split("-");
  if (range.length === 2) return isIP(range[0] ?? "") !== 0 && isIP(range[0] ?? "") === isIP(range[1] ?? "");
  return isIP(value) !== 0;
}

function vsysEntries(config: XNode): XNode[] {
  const devices = child(config, "devices");
  const device = devices ? entryNamed(devices, "localhost.localdomain") : undefined;
  return child(device ?? { tag: "", attrs: {}, children: [] }, "vsys")?.children ?? [];
}

function names(list: XNode | undefined): Set<string> {
  return new Set((list?.children ?? []).map((entry) => entry.attrs.name ?? ""));
}

function rules(vsys: XNode, base: "security" | "nat"): XNode[] {
  return child(child(child(vsys, "rulebase") ?? vsys, base) ?? vsys, "rules")?.children ?? [];
}

/** Every validation error of the configuration, as commit job detail lines (empty = commits). */
export function commitErrors(config: XNode, env: CommitEnvironment): string[] {
  const errors: string[] = [];
  for (const vsys of vsysEntries(config)) {
    const addresses = names(child(vsys, "address"));
    const services = names(child(vsys, "service"));
    const zone = (value: string) => value === "any" || env.zones.includes(value);
    const address = (value: string) => value === "any" || isAddressLiteral(value) || addresses.has(value);
    const service = (value: string) => PREDEFINED_SERVICES.includes(value) || services.has(value);
    const application = (value: string) => value === "any" || env.applications.includes(value);
    const iface = (value: string) => value === "any" || env.interfaces.includes(value);

    const checkMembers = (rule: XNode, field: string, valid: (v: string) => boolean, required: boolean) => {
      const name = rule.attrs.name ?? "";
      const values = membersOf(rule, field);
      if (values === undefined || values.length === 0) {
        if (required) errors.push(`${name} -> ${field} is missing`);
        return;
      }
      for (const value of values) {
        if (!valid(value)) errors.push(`${name} -> ${field} '${value}' is not a valid reference`);
      }
    };

    for (const rule of rules(vsys, "security")) {
      checkMembers(rule, "from", zone, true);
      checkMembers(rule, "to", zone, true);
      checkMembers(rule, "source", address, true);
      checkMembers(rule, "destination", address, true);
      checkMembers(rule, "application", application, true);
      checkMembers(rule, "service", service, true);
    }
    for (const rule of rules(vsys, "nat")) {
      const name = rule.attrs.name ?? "";
      checkMembers(rule, "from", zone, true);
      checkMembers(rule, "to", zone, true);
      checkMembers(rule, "source", address, true);
      checkMembers(rule, "destination", address, true);
      const svc = textOf(rule, "service");
      if (svc !== undefined && svc !== "any" && !service(svc)) {
        errors.push(`${name} -> service '${svc}' is not a valid reference`);
      }
      const toInterface = textOf(rule, "to-interface");
      if (toInterface !== undefined && !iface(toInterface)) {
        errors.push(`${name} -> to-interface '${toInterface}' is not a valid reference`);
      }
      const dnat = child(rule, "destination-translation");
      if (dnat !== undefined) {
        const translated = textOf(dnat, "translated-address");
        if (translated === undefined || translated === "") {
          errors.push(`${name} -> destination-translation -> translated-address is missing`);
        } else if (!address(translated)) {
          errors.push(
            `${name} -> destination-translation -> translated-address '${translated}' is not a valid reference`,
          );
        }
      }
      const snat = child(rule, "source-translation");
      const dip = snat ? child(snat, "dynamic-ip-and-port") : undefined;
      const viaInterface = dip ? child(dip, "interface-address") : undefined;
      const snatInterface = viaInterface ? textOf(viaInterface, "interface") : undefined;
      if (snatInterface !== undefined && !env.interfaces.includes(snatInterface)) {
        errors.push(`${name} -> source-translation -> interface '${snatInterface}' is not a valid reference`);
      }
      for (const value of dip ? (membersOf(dip, "translated-address") ?? []) : []) {
        if (!address(value)) {
          errors.push(
            `${name} -> source-translation -> translated-address '${value}' is not a valid reference`,
          );
        }
      }
    }
  }
  return errors;
}
