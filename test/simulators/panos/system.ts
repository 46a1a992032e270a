// What PAN-OS says about itself: API keys and `show system info`.
import { randomBytes } from "node:crypto";
import { escapeText } from "./xml.ts";

/**
 * A new API key as PAN-OS makes them: base64 of ASCII text ("-AQ==" + base64 digests), so it starts
 * with `LUFRPT` and holds only letters, digits and `=`. Base64 of text made of the base64 alphabet
 * never yields `+` or `/`, which matters: pan-python appends the key to its form body unencoded, so a
 * `+` would arrive as a space.
 */
export function newApiKey(): string {
  const inner = `-AQ==${randomBytes(15).toString("base64")}=${randomBytes(36).toString("base64")}`;
  return Buffer.from(inner, "ascii").toString("base64");
}

export interface SystemIdentity {
  hostname: string;
  serial: string;
  version: string;
  multiVsys: boolean;
  uptimeSeconds: number;
  time: string;
}

/**
 * `show system info`: the fields a PA-VM answers. pan-os-python's Firewall.refresh_system_info reads
 * sw-version, model, serial, app-version and multi-vsys (a missing one is a KeyError: no connection).
 */
export function systemInfoXml(identity: SystemIdentity): string {
  const s = identity.uptimeSeconds;
  const uptime = `${Math.floor(s / 86400)} days, ${Math.floor((s % 86400) / 3600)}:${String(
    Math.floor((s % 3600) / 60),
  ).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
  const hostname = escapeText(identity.hostname);
  const fields: Array<[string, string]> = [
    ["hostname", hostname],
    ["ip-address", "127.0.0.1"],
    ["netmask", "255.0.0.0"],
    ["default-gateway", "127.0.0.1"],
    ["ipv6-address", "unknown"],
    ["mac-address", "52:54:00:12:34:56"],
    ["time", identity.time],
    ["uptime", uptime],
    ["devicename", hostname],
    ["family", "vm"],
    ["model", "PA-VM"],
    ["serial", escapeText(identity.serial)],
    ["vm-mode", "KVM"],
    ["sw-version", escapeText(identity.version)],
    ["global-protect-client-package-version", "0.0.0"],
    ["app-version", "8799-8509"],
    ["app-release-date", "2023/12/12 18:06:44 PST"],
    ["av-version", "0"],
    ["threat-version", "8799-8509"],
    ["threat-release-date", "2023/12/12 18:06:44 PST"],
    ["wildfire-version", "0"],
    ["url-filtering-version", "0000.00.00.000"],
    ["logdb-version", "10.2.1"],
    ["platform-family", "vm"],
    ["vpn-disable-mode", "off"],
    ["multi-vsys", identity.multiVsys ? "on" : "off"],
    ["operational-mode", "normal"],
  ];
  return `<system>${fields.map(([tag, value]) => `<${tag}>${value}</${tag}>`).join("")}</system>`;
}
