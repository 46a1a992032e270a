// The part of the PAN-OS configuration schema the simulator knows: which elements may appear where,
// which are lists of `<member>`s, which are named `<entry>` lists, and which leaf values are allowed.
// Anything outside it is refused like the appliance does: a bad xpath is code 6, an element that is
// unexpected or a value that is not allowed is code 12.

export type Spec =
  | { kind: "container"; children: Record<string, Spec> }
  /** An element holding named `<entry name="...">` children. */
  | { kind: "entries"; entry: Spec; creatable?: boolean; names?: "object"; uuid?: boolean }
  | { kind: "members" }
  | { kind: "text"; values?: readonly string[]; maxLength?: number; pattern?: RegExp; hint?: string }
  /** Accepted without validation (profiles, options the simulator does not model). */
  | { kind: "any" };

const members: Spec = { kind: "members" };
const yesNo: Spec = { kind: "text", values: ["yes", "no"] };
const text = (maxLength = 1023): Spec => ({ kind: "text", maxLength });
const container = (children: Record<string, Spec>): Spec => ({ kind: "container", children });
const anything: Spec = { kind: "any" };

export const SECURITY_ACTIONS = ["allow", "deny", "drop", "reset-client", "reset-server", "reset-both"];

export const securityRule: Spec = container({
  from: members,
  to: members,
  source: members,
  destination: members,
  "source-user": members,
  category: members,
  application: members,
  service: members,
  "source-hip": members,
  "destination-hip": members,
  "hip-profiles": members,
  tag: members,
  action: { kind: "text", values: SECURITY_ACTIONS },
  description: text(1024),
  disabled: yesNo,
  "log-start": yesNo,
  "log-end": yesNo,
  "log-setting": text(63),
  "negate-source": yesNo,
  "negate-destination": yesNo,
  "rule-type": { kind: "text", values: ["universal", "intrazone", "interzone"] },
  schedule: text(31),
  "group-tag": text(127),
  "profile-setting": anything,
  option: anything,
});

const port: Spec = {
  kind: "text",
  pattern: /^\d{1,5}(-\d{1,5})?(,\d{1,5}(-\d{1,5})?)*$/,
  hint: "a port, range or comma-separated list",
};

export const natRule: Spec = container({
  from: members,
  to: members,
  source: members,
  destination: members,
  service: text(63),
  "to-interface": text(31),
  "nat-type": { kind: "text", values: ["ipv4", "nat64", "nptv6"] },
  "source-translation": container({
    "dynamic-ip-and-port": container({
      "translated-address": members,
      "interface-address": container({ interface: text(31), ip: text(63) }),
    }),
    "dynamic-ip": container({ "translated-address": members }),
    "static-ip": container({ "translated-address": text(63), "bi-directional": yesNo }),
  }),
  "destination-translation": container({
    "translated-address": text(63),
    "translated-port": { kind: "text", pattern: /^\d{1,5}$/, hint: "a port (1-65535)" },
  }),
  "dynamic-destination-translation": anything,
  description: text(1024),
  disabled: yesNo,
  tag: members,
  "active-active-device-binding": anything,
});

export const addressObject: Spec = container({
  "ip-netmask": text(63),
  "ip-range": text(63),
  fqdn: text(255),
  description: text(1023),
  tag: members,
});

const servicePorts = container({ port, "source-port": port, override: anything });
export const serviceObject: Spec = container({
  protocol: container({ tcp: servicePorts, udp: servicePorts }),
  description: text(1023),
  tag: members,
});

const vsys: Spec = container({
  rulebase: container({
    security: container({ rules: { kind: "entries", entry: securityRule, names: "object", uuid: true } }),
    nat: container({ rules: { kind: "entries", entry: natRule, names: "object", uuid: true } }),
  }),
  address: { kind: "entries", entry: addressObject, names: "object" },
  service: { kind: "entries", entry: serviceObject, names: "object" },
  "address-group": anything,
  "service-group": anything,
  tag: anything,
  zone: anything,
});

export const rootSpec: Spec = container({
  config: container({
    devices: {
      kind: "entries",
      creatable: false,
      entry: container({
        vsys: { kind: "entries", creatable: false, entry: vsys },
        deviceconfig: anything,
        network: anything,
      }),
    },
    shared: anything,
    "mgt-config": anything,
  }),
});

/** Object names: letters, digits, space, underscore, hyphen and period, starting alphanumeric, ≤ 63. */
export function validObjectName(name: string): boolean {
  return name.length <= 63 && /^[A-Za-z0-9][A-Za-z0-9 ._-]*$/.test(name);
}
