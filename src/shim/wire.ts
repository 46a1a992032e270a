// The request bodies the CloudStack side sends, as zod schemas, and their validation errors in the
// enhanced broker's shape (details[{loc, msg, type}]). Three bodies:
//  - the CloudStack wire format (J/client/VnfBrokerClient and the service's buildFirewallRuleRequest):
//    {ruleId, action, protocol, sourceAddressing, destinationAddressing, sourcePorts, destinationPorts,
//    description}, and for NAT {ruleId, type, sourceAddress, destinationAddress, translatedAddress,
//    protocol, port, translatedPort, description};
//  - the documented contract CreateFirewallRuleCmd (additionalProperties: false);
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

/** A port as CloudStack sends it: a number, "N", "N-M", "any" or empty (= any). */
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
const description = z.string().max(256);
const portValue = z.union([z.string().max(11), z.number().int()]).refine((v) => {
  const text = normalisePort(v);
  return text === undefined || isPortRange(text);
}, "a port N or a range N-M with 1 <= N <= M <= 65535, or any");
const addressing = z
  .string()
  .min(1)
  .max(256)
  .refine((v) => !v.includes(","), "one address or CIDR per rule (send one rule per CIDR)")
  .refine((v) => isAddressOrCidr(v.trim()), "any, an IP address or a CIDR such as 10.0.0.0/24");

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
  sourceAddress: addressing.nullish(),
  destinationAddress: addressing.nullish(),
  translatedAddress: addressing.nullish(),
  protocol: natProtocol.optional(),
  port: portValue.nullish(),
  translatedPort: portValue.nullish(),
  description: description.nullish(),
  vnfInstanceId: instanceId.optional(),
  interface: iface.optional(),
  enabled: z.boolean().optional(),
});
export type NatWire = z.infer<typeof natWireSchema>;

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
