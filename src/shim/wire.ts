// The request bodies the CloudStack side sends, as zod schemas, and their validation errors in the
// enhanced broker's shape (details[{loc, msg, type}]):
//  - the CloudStack wire format (the network element's client): {ruleId, action, protocol,
//    sourceAddressing, destinationAddressing, sourcePorts, destinationPorts, description}, and for NAT
//    {ruleId, type, sourceAddress, destinationAddress, translatedAddress, protocol, port,
//    translatedPort, description}; addressing and ports may be comma lists ("10.0.0.0/24,10.0.1.0/24",
//    "80,443");
//  - the service's NAT payload {vnfInstanceId, networkId, publicIp, publicPort, privateIp,
//    privatePort, protocol};
//  - the documented contract CreateFirewallRuleCmd (additionalProperties: false);
//  - the enhanced broker family's bodies: firewall {vnfInstanceId, ruleId, action, protocol, sourceIp,
//    destinationIp, destinationPort, enabled, description}, NAT {vnfInstanceId, natType, originalIp,
//    translatedIp, originalPort, translatedPort, protocol};
//  - delete bodies {ruleId}.
// vnfInstanceId, interface, direction, enabled are accepted as shim extensions where noted.
import { isIP } from "node:net";
import { z } from "zod";
import { RULE_ID_PATTERN } from "./names.ts";

export interface ValidationDetail {
  loc: Array<string | number>;
  msg: string;
  type: string;
}

export class RequestValidationError extends Error {
  readonly details: ValidationDetail[];
  constructor(details: ValidationDetail[]) {
    super(details.map((d) => `${d.loc.join(".")}: ${d.msg}`).join("; "));
    this.name = "RequestValidationError";
    this.details = details;
  }
}

/** "any", an IPv4/IPv6 address, or a network in CIDR notation. */
export function isAddressOrCidr(text: string): boolean {
  if (text === "any") return true;
  const [address = "", prefix, ...rest] = text.split("/");
  if (rest.length > 0) return false;
  const family = isIP(address);
  if (family === 0) return false;
  if (prefix === undefined) return true;
  if (!/^\d{1,3}$/.test(prefix)) return false;
  return Number(prefix) <= (family === 4 ? 32 : 128);
}

/** "N" or "N-M" with 1 <= N <= M <= 65535. */
export function isPortRange(text: string): boolean {
  const match = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(text);
  if (!match) return false;
  const low = Number(match[1]);
  const high = match[2] === undefined ? low : Number(match[2]);
  return low >= 1 && high <= 65535 && low <= high;
}

/** Each member of a comma list, trimmed ("a, b" → ["a", "b"]). */
export function commaMembers(text: string): string[] {
  return text.split(",").map((member) => member.trim());
}

/** A port as CloudStack sends it: a number, "N", "N-M", a comma list of those, "any" or empty (= any). */
export function normalisePort(value: string | number | null | undefined): string | undefined {
  if (value === null || value === undefined) return undefined;
  const text = String(value).trim();
  if (text === "" || text.toLowerCase() === "any") return undefined;
  return text;
}

const lower = (value: unknown) => (typeof value === "string" ? value.trim().toLowerCase() : value);

const ruleId = z.string().regex(RULE_ID_PATTERN, "1 to 128 letters, digits, '_' or '-'");
const instanceId = z.union([z.string().min(1).max(63), z.number().int().nonnegative()]);
const iface = z.string().min(1).max(32);
// The CRD's limits (the appliance's field also holds the ownership marker after it).
const description = z
  .string()
  .max(200)
  .refine((text) => !text.includes("[vnf:"), 'cannot contain "[vnf:" (reserved for the ownership marker)');
const portValue = z.union([z.string().max(256), z.number().int()]).refine((v) => {
  const text = normalisePort(v);
  return text === undefined || commaMembers(text).every(isPortRange);
}, "a port N or a range N-M with 1 <= N <= M <= 65535 (several joined with ','), or any");
const addressing = z
  .string()
  .min(1)
  .max(1024)
  .refine(
    (v) => commaMembers(v).every(isAddressOrCidr),
    "any, an IP address or a CIDR such as 10.0.0.0/24 (several joined with ',')",
  );
/** One address: NAT translates to exactly one. */
const singleAddress = z
  .string()
  .min(1)
  .max(64)
  .refine((v) => isAddressOrCidr(v.trim()), "any, an IP address or a CIDR such as 10.0.0.0/24");

/** One port or range (NAT forwards one). */
const singlePort = z.union([z.string().max(11), z.number().int()]).refine((v) => {
  const text = normalisePort(v);
  return text === undefined || isPortRange(text);
}, "a port N or a range N-M with 1 <= N <= M <= 65535, or any");
/** A port number, as a JSON number or its decimal text. */
export const portNumber = z.preprocess(
  (v) => (typeof v === "string" && /^\d{1,5}$/.test(v.trim()) ? Number(v) : v),
  z.number().int().min(1).max(65535),
);

const action = z.preprocess(lower, z.enum(["allow", "deny", "reject"]));
const fwProtocol = z.preprocess(lower, z.enum(["tcp", "udp", "tcp/udp", "icmp", "any", "all"]));
const natProtocol = z.preprocess(lower, z.enum(["tcp", "udp", "tcp/udp", "any", "all"]));

/** The CloudStack wire format for firewall rules (all members of a full create). */
export const firewallWireSchema = z.strictObject({
  ruleId,
  action,
  protocol: fwProtocol,
  sourceAddressing: addressing,
  destinationAddressing: addressing,
  sourcePorts: portValue.nullish(),
  destinationPorts: portValue.nullish(),
  description: description.nullish(),
  // Shim extensions (CloudStack does not send them; the defaults apply).
  vnfInstanceId: instanceId.optional(),
  interface: iface.optional(),
  direction: z.preprocess(lower, z.enum(["in", "out"])).optional(),
  enabled: z.boolean().optional(),
});
export type FirewallWire = z.infer<typeof firewallWireSchema>;

/** An update in the wire format: every member optional (absent = unchanged). */
export const firewallWireUpdateSchema = firewallWireSchema.partial();
export type FirewallWireUpdate = z.infer<typeof firewallWireUpdateSchema>;

const contractAddress = z
  .strictObject({
    cidr: z
      .string()
      .refine(
        (v) => v === "any" || (isAddressOrCidr(v) && isIP(v.split("/")[0] ?? "") === 4),
        "any or IPv4[/prefix]",
      )
      .optional(),
    alias: z.string().min(1).max(64).optional(),
  })
  .refine((v) => (v.cidr === undefined) !== (v.alias === undefined), "exactly one of cidr or alias");
const contractPort = z.string().refine((v) => v === "any" || isPortRange(v), "any, N or N-M");

/** CreateFirewallRuleCmd (contracts/CreateFirewallRuleCmd.json), plus vnfInstanceId. */
export const createFirewallRuleCmdSchema = z.strictObject({
  interface: iface,
  direction: z.enum(["in", "out"]),
  action: z.enum(["allow", "deny"]),
  protocol: z.enum(["tcp", "udp", "icmp", "any"]),
  ruleId: ruleId.optional(),
  src: contractAddress.optional(),
  dst: contractAddress.optional(),
  ports: z.strictObject({ src: contractPort.optional(), dst: contractPort.optional() }).optional(),
  description: description.optional(),
  enabled: z.boolean().optional(),
  log: z.boolean().optional(),
  priority: z.number().int().min(0).max(99999).optional(),
  vnfInstanceId: instanceId.optional(),
});
export type CreateFirewallRuleCmd = z.infer<typeof createFirewallRuleCmdSchema>;

/** The CloudStack wire format for NAT rules. */
export const natWireSchema = z.strictObject({
  ruleId,
  type: z.preprocess(
    (v) => (typeof v === "string" ? v.trim().toUpperCase() : v),
    z.enum(["SNAT", "DNAT", "1TO1", "STATIC"]),
  ),
  sourceAddress: singleAddress.nullish(),
  destinationAddress: singleAddress.nullish(),
  translatedAddress: singleAddress.nullish(),
  protocol: natProtocol.optional(),
  port: singlePort.nullish(),
  translatedPort: singlePort.nullish(),
  description: description.nullish(),
  vnfInstanceId: instanceId.optional(),
  interface: iface.optional(),
  enabled: z.boolean().optional(),
});
export type NatWire = z.infer<typeof natWireSchema>;

/**
 * The service's NAT payload (createVnfNATRule → POST /rules/nat): a port forward from
 * publicIp:publicPort to privateIp:privatePort. It carries no ruleId: the shim derives one.
 */
export const serviceNatSchema = z.strictObject({
  vnfInstanceId: instanceId,
  networkId: z.union([z.string().max(64), z.number().int()]).nullish(),
  publicIp: singleAddress,
  publicPort: portNumber,
  privateIp: singleAddress,
  privatePort: portNumber,
  protocol: natProtocol.optional(),
  ruleId: ruleId.optional(),
  description: description.nullish(),
  interface: iface.optional(),
});
export type ServiceNat = z.infer<typeof serviceNatSchema>;

/** Which NAT body this is: the service's payload names public and private addresses. */
export function isServiceNatPayload(body: Record<string, unknown>): boolean {
  return Object.hasOwn(body, "publicIp") || Object.hasOwn(body, "privateIp");
}

/** The enhanced family's firewall body (POST /api/vnf/firewall/create, PUT …/update/{ruleId}). */
export const enhancedFirewallSchema = z.object({
  vnfInstanceId: instanceId,
  ruleId,
  action,
  protocol: fwProtocol,
  sourceIp: addressing,
  destinationIp: addressing,
  destinationPort: portNumber.nullish(),
  enabled: z.boolean().optional(),
  description: description.nullish(),
});
export type EnhancedFirewall = z.infer<typeof enhancedFirewallSchema>;
/** An update may name only what changes (the rule id comes from the path). */
export const enhancedFirewallUpdateSchema = enhancedFirewallSchema.partial();
export type EnhancedFirewallUpdate = z.infer<typeof enhancedFirewallUpdateSchema>;

/** The enhanced family's NAT body (POST /api/vnf/nat/create); ruleId is derived when absent. */
export const enhancedNatSchema = z.object({
  vnfInstanceId: instanceId,
  ruleId: ruleId.optional(),
  natType: z.preprocess(lower, z.enum(["snat", "dnat", "1to1"])),
  originalIp: singleAddress,
  translatedIp: singleAddress,
  originalPort: portNumber.nullish(),
  translatedPort: portNumber.nullish(),
  protocol: natProtocol.optional(),
  description: description.nullish(),
});
export type EnhancedNat = z.infer<typeof enhancedNatSchema>;

/** Delete bodies: the ruleId (other members of the rule, if a client repeats them, are ignored). */
export const deleteWireSchema = z.looseObject({ ruleId, vnfInstanceId: instanceId.optional() });

/** Which firewall body this is: the wire format names its addressing members, the contract does not. */
export function isFirewallWireFormat(body: Record<string, unknown>): boolean {
  return ["sourceAddressing", "destinationAddressing", "sourcePorts", "destinationPorts"].some((k) =>
    Object.hasOwn(body, k),
  );
}

function valueAt(body: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let value = body;
  for (const key of path) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

/** zod issues → details[{loc, msg, type}], loc starting with "body"; absent members are "missing". */
export function toDetails(error: z.ZodError, body: unknown): ValidationDetail[] {
  const details: ValidationDetail[] = [];
  for (const issue of error.issues) {
    const path = issue.path.map((p) => (typeof p === "number" ? p : String(p)));
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys)
        details.push({ loc: ["body", ...path, key], msg: "unknown field", type: "extra_forbidden" });
      continue;
    }
    const missing =
      (issue.code === "invalid_type" || issue.code === "invalid_value") &&
      valueAt(body, issue.path) === undefined;
    details.push({
      loc: ["body", ...path],
      msg: missing ? "field required" : issue.message,
      type: missing ? "missing" : issue.code,
    });
  }
  return details;
}

/** Parses or throws RequestValidationError. */
export function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  if (body === null || typeof body !== "object" || Array.isArray(body))
    throw new RequestValidationError([
      { loc: ["body"], msg: "a JSON object is required", type: "object_type" },
    ]);
  const result = schema.safeParse(body);
  if (!result.success) throw new RequestValidationError(toDetails(result.error, body));
  return result.data;
}
