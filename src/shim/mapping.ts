// Broker request → CR spec (pure). docs/cloudstack-shim.md has the same mapping as a table. A body is
// first turned into a fragment (only what it says), then laid over defaults (create) or over the
// current spec (update), then checked for the combinations the CRD refuses, so the caller gets a
// field-level 400 instead of an admission error.
import type { VnfFirewallRuleSpec, VnfNatRuleSpec } from "../api/types.ts";
import { RULE_FIELDS } from "../dictionary/rule-schema.generated.ts";
import { ANNOTATION_DEFAULT_INTERFACE } from "./names.ts";
import {
  type CreateFirewallRuleCmd,
  type EnhancedFirewallUpdate,
  type EnhancedNat,
  type FirewallWireUpdate,
  type NatWire,
  normalisePort,
  RequestValidationError,
  type ServiceNat,
  type ValidationDetail,
} from "./wire.ts";

export type FirewallSpec = Omit<VnfFirewallRuleSpec, "deviceRef">;
export type NatSpec = Omit<VnfNatRuleSpec, "deviceRef">;

type Address = { cidr: string } | { alias: string };
interface EndpointPatch {
  address?: Address;
  /** null: remove the port (any). */
  port?: string | null;
}

/** What a request sets of a firewall spec: the CRD's scalar fields (generated types), and patches. */
export type FirewallFragment = Partial<
  Omit<FirewallSpec, "source" | "destination" | "description" | "deletionPolicy">
> & {
  source?: EndpointPatch;
  destination?: EndpointPatch;
  /** null: remove. */
  description?: string | null;
};

const PORT_PROTOCOLS = new Set(["tcp", "udp", "tcp/udp"]);

function protocolOf(text: string): "tcp" | "udp" | "tcp/udp" | "icmp" | "any" {
  return text === "all" ? "any" : (text as "tcp" | "udp" | "tcp/udp" | "icmp" | "any");
}

function wirePort(value: string | number | null | undefined): string | null | undefined {
  if (value === undefined) return undefined;
  const text = normalisePort(value);
  return text === undefined ? null : listText(text);
}

const NO_INTERFACE = `the request names no interface and the device has no default: annotate the VnfDevice with ${ANNOTATION_DEFAULT_INTERFACE}=<interface> (or start the shim with --default-interface)`;

/**
 * The network element's client fills destinationPorts from the same range as sourcePorts (CloudStack
 * firewall rules have only destination ports): equal port members mean "destination ports only".
 */
export function dropMirroredSourcePorts(body: FirewallWireUpdate): FirewallWireUpdate {
  const source = normalisePort(body.sourcePorts);
  if (source === undefined || source !== normalisePort(body.destinationPorts)) return body;
  const { sourcePorts: _mirrored, ...rest } = body;
  return rest;
}

/** The CloudStack wire format (full or partial) → fragment. */
export function firewallWireFragment(body: FirewallWireUpdate): FirewallFragment {
  const fragment: FirewallFragment = {};
  if (body.ruleId !== undefined) fragment.ruleId = body.ruleId;
  if (body.interface !== undefined) fragment.interface = body.interface;
  if (body.direction !== undefined) fragment.direction = body.direction;
  if (body.action !== undefined) fragment.action = body.action;
  if (body.protocol !== undefined) fragment.protocol = protocolOf(body.protocol);
  const source: EndpointPatch = {};
  if (body.sourceAddressing !== undefined) source.address = { cidr: listText(body.sourceAddressing) };
  const sourcePort = wirePort(body.sourcePorts);
  if (sourcePort !== undefined) source.port = sourcePort;
  if (Object.keys(source).length > 0) fragment.source = source;
  const destination: EndpointPatch = {};
  if (body.destinationAddressing !== undefined)
    destination.address = { cidr: listText(body.destinationAddressing) };
  const destinationPort = wirePort(body.destinationPorts);
  if (destinationPort !== undefined) destination.port = destinationPort;
  if (Object.keys(destination).length > 0) fragment.destination = destination;
  if (body.description !== undefined) fragment.description = body.description || null;
  if (body.enabled !== undefined) fragment.enabled = body.enabled;
  return fragment;
}

/** The enhanced family's firewall body (full or partial) → fragment. */
export function firewallEnhancedFragment(body: EnhancedFirewallUpdate): FirewallFragment {
  const fragment: FirewallFragment = {};
  if (body.ruleId !== undefined) fragment.ruleId = body.ruleId;
  if (body.action !== undefined) fragment.action = body.action;
  if (body.protocol !== undefined) fragment.protocol = protocolOf(body.protocol);
  if (body.sourceIp !== undefined) fragment.source = { address: { cidr: listText(body.sourceIp) } };
  const destination: EndpointPatch = {};
  if (body.destinationIp !== undefined) destination.address = { cidr: listText(body.destinationIp) };
  if (body.destinationPort !== undefined)
    destination.port = body.destinationPort === null ? null : String(body.destinationPort);
  if (Object.keys(destination).length > 0) fragment.destination = destination;
  if (body.description !== undefined) fragment.description = body.description || null;
  if (body.enabled !== undefined) fragment.enabled = body.enabled;
  return fragment;
}

/** "a, b" → "a,b" (the form the parts are split from). */
function listText(text: string): string {
  return text
    .split(",")
    .map((member) => member.trim())
    .join(",");
}

/** CreateFirewallRuleCmd → fragment. */
export function firewallContractFragment(body: CreateFirewallRuleCmd): FirewallFragment {
  const endpoint = (address: CreateFirewallRuleCmd["src"], port: string | undefined): EndpointPatch => {
    const patch: EndpointPatch = {};
    if (address?.cidr !== undefined) patch.address = { cidr: address.cidr };
    else if (address?.alias !== undefined) patch.address = { alias: address.alias };
    if (port !== undefined) patch.port = port === "any" ? null : port;
    return patch;
  };
  const fragment: FirewallFragment = {
    interface: body.interface,
    direction: body.direction,
    action: body.action,
    protocol: body.protocol,
    source: endpoint(body.src, body.ports?.src),
    destination: endpoint(body.dst, body.ports?.dst),
  };
  if (body.ruleId !== undefined) fragment.ruleId = body.ruleId;
  if (body.description !== undefined) fragment.description = body.description || null;
  if (body.enabled !== undefined) fragment.enabled = body.enabled;
  if (body.log !== undefined) fragment.log = body.log;
  if (body.priority !== undefined) fragment.priority = body.priority;
  return fragment;
}

/** What a new firewall rule holds before the request's fragment is laid over it. */
export function firewallDefaults(
  defaultInterface: string | undefined,
): Omit<FirewallSpec, "action" | "interface"> & { interface?: string } {
  return {
    ...(defaultInterface ? { interface: defaultInterface } : {}),
    direction: "in",
    protocol: "any",
    source: { cidr: "any" },
    destination: { cidr: "any" },
    enabled: true,
    log: false,
  };
}

type Endpoint = NonNullable<FirewallSpec["source"]>;

function overlayEndpoint(base: Endpoint | undefined, patch: EndpointPatch | undefined): Endpoint {
  const next: Endpoint = { ...(base ?? { cidr: "any" }) };
  if (patch?.address) {
    delete next.cidr;
    delete next.alias;
    Object.assign(next, patch.address);
  }
  if (patch?.port === null) delete next.port;
  else if (patch?.port !== undefined) next.port = patch.port;
  return next;
}

/** Lays a fragment over a base spec (defaults or the current spec); the result is a complete spec. */
export function overlayFirewall(
  base: Partial<FirewallSpec>,
  fragment: FirewallFragment,
): Partial<FirewallSpec> {
  const next: Partial<FirewallSpec> = { ...base };
  // The CRD's scalar fields (generated): a field added to the CRD is carried over without a change here.
  for (const [key, type] of Object.entries(RULE_FIELDS.firewallRule)) {
    if (type === "object" || key === "description") continue;
    const value = (fragment as Record<string, unknown>)[key];
    if (value !== undefined) (next as Record<string, unknown>)[key] = value;
  }
  next.source = overlayEndpoint(base.source, fragment.source);
  next.destination = overlayEndpoint(base.destination, fragment.destination);
  if (fragment.description === null) delete next.description;
  else if (fragment.description !== undefined) next.description = fragment.description;
  return next;
}

/** The combinations the CRD refuses, as details; throws RequestValidationError when there are any. */
export function checkFirewallSpec(spec: Partial<FirewallSpec>): FirewallSpec {
  const details: ValidationDetail[] = [];
  if (spec.action === undefined)
    details.push({ loc: ["body", "action"], msg: "field required", type: "missing" });
  if (!spec.interface) details.push({ loc: ["body", "interface"], msg: NO_INTERFACE, type: "missing" });
  const protocol = spec.protocol ?? "any";
  for (const [side, field] of [
    ["source", "sourcePorts"],
    ["destination", "destinationPorts"],
  ] as const) {
    if (spec[side]?.port !== undefined && !PORT_PROTOCOLS.has(protocol))
      details.push({
        loc: ["body", field],
        msg: `ports need protocol tcp, udp or tcp/udp, not ${protocol}`,
        type: "value_error",
      });
  }
  if (details.length > 0) throw new RequestValidationError(details);
  return spec as FirewallSpec;
}

/** The service's NAT payload → a port forward (dnat) from publicIp:publicPort to privateIp:privatePort. */
export function natSpecFromService(body: ServiceNat, defaultInterface: string | undefined): NatSpec {
  return natSpecFromWire(
    {
      ruleId: body.ruleId ?? "derived",
      type: "DNAT",
      destinationAddress: body.publicIp,
      port: body.publicPort,
      translatedAddress: body.privateIp,
      translatedPort: body.privatePort,
      protocol: body.protocol ?? "tcp",
      ...(body.description ? { description: body.description } : {}),
      ...(body.interface ? { interface: body.interface } : {}),
    },
    defaultInterface,
  );
}

/** The enhanced family's NAT body → a NAT spec (originalIp is the address that gets translated). */
export function natSpecFromEnhanced(body: EnhancedNat, defaultInterface: string | undefined): NatSpec {
  const wire: NatWire = {
    ruleId: body.ruleId ?? "derived",
    type: body.natType === "dnat" ? "DNAT" : body.natType === "snat" ? "SNAT" : "1TO1",
    translatedAddress: body.translatedIp,
    ...(body.protocol ? { protocol: body.protocol } : {}),
    ...(body.description ? { description: body.description } : {}),
  };
  if (body.natType === "snat") wire.sourceAddress = body.originalIp;
  else wire.destinationAddress = body.originalIp;
  if (body.originalPort != null) wire.port = body.originalPort;
  if (body.translatedPort != null) wire.translatedPort = body.translatedPort;
  return natSpecFromWire(wire, defaultInterface);
}

/** The CloudStack NAT wire format → a complete NAT spec (checked). */
export function natSpecFromWire(body: NatWire, defaultInterface: string | undefined): NatSpec {
  const type = body.type === "DNAT" ? "dnat" : body.type === "SNAT" ? "snat" : "1to1";
  const protocol = body.protocol === undefined ? "any" : body.protocol === "all" ? "any" : body.protocol;
  const spec: NatSpec = { type, interface: body.interface ?? defaultInterface ?? "", protocol };
  const sourceAddress = body.sourceAddress?.trim();
  if (sourceAddress && sourceAddress !== "any") spec.source = { cidr: sourceAddress };
  const destination: NonNullable<NatSpec["destination"]> = {};
  const destinationAddress = body.destinationAddress?.trim();
  if (destinationAddress) destination.address = destinationAddress;
  const port = normalisePort(body.port);
  if (port !== undefined) destination.port = port;
  if (Object.keys(destination).length > 0) spec.destination = destination;
  const translated: NonNullable<NatSpec["translated"]> = {};
  const translatedAddress = body.translatedAddress?.trim();
  if (translatedAddress) translated.address = translatedAddress;
  const translatedPort = normalisePort(body.translatedPort);
  if (translatedPort !== undefined) translated.port = translatedPort;
  if (Object.keys(translated).length > 0) spec.translated = translated;
  if (body.description) spec.description = body.description;
  if (body.enabled !== undefined) spec.enabled = body.enabled;

  const details: ValidationDetail[] = [];
  const needs = (field: string, msg: string) =>
    details.push({ loc: ["body", field], msg, type: "value_error" });
  if (!spec.interface) details.push({ loc: ["body", "interface"], msg: NO_INTERFACE, type: "missing" });
  if ((port !== undefined || translatedPort !== undefined) && !PORT_PROTOCOLS.has(protocol))
    needs(
      port !== undefined ? "port" : "translatedPort",
      `ports need protocol tcp, udp or tcp/udp, not ${protocol}`,
    );
  if (type === "dnat" && !translatedAddress)
    needs("translatedAddress", "a DNAT rule needs translatedAddress");
  if (type === "dnat" && translatedPort !== undefined && port === undefined)
    needs("port", "translatedPort needs port (the original destination port)");
  if (type === "1to1") {
    if (!destinationAddress) needs("destinationAddress", "a 1:1 rule needs destinationAddress");
    if (!translatedAddress) needs("translatedAddress", "a 1:1 rule needs translatedAddress");
    if (port !== undefined || translatedPort !== undefined) needs("port", "a 1:1 rule has no ports");
  }
  if (details.length > 0) throw new RequestValidationError(details);
  return spec;
}
