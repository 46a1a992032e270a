// The canonical rule fields the templates see as `rule`: the CRD specs (VnfFirewallRule, VnfNatRule)
// with their defaults applied. Defined here with zod so the engine, the CLI's `render` and the tests
// agree on one shape; the CRD schema is the authority and these mirror its fields and defaults.
import { z } from "zod";

export const RESOURCE_KINDS = ["firewallRule", "natRule"] as const;
export type ResourceKind = (typeof RESOURCE_KINDS)[number];

const PortSpec = z.string().regex(/^\d{1,5}(-\d{1,5})?$/, 'a port "N" or a range "N-M"');
const CidrOrAny = z.string().min(1);

export const FirewallEndpointSchema = z
  .strictObject({
    cidr: CidrOrAny.optional(),
    alias: z.string().min(1).optional(),
    port: PortSpec.optional(),
  })
  .refine((e) => !(e.cidr !== undefined && e.alias !== undefined), "cidr and alias are mutually exclusive")
  .transform((e) => (e.cidr === undefined && e.alias === undefined ? { ...e, cidr: "any" } : e));

// The CRD fields that are not appliance matters are accepted and dropped: the templates see the rule.
const crdOnly = {
  deviceRef: z.unknown().optional(),
  deletionPolicy: z.unknown().optional(),
};
function withoutCrdOnly<T extends { deviceRef?: unknown; deletionPolicy?: unknown }>(
  spec: T,
): Omit<T, "deviceRef" | "deletionPolicy"> {
  const { deviceRef: _d, deletionPolicy: _p, ...rule } = spec;
  return rule;
}

export const FirewallRuleSpecSchema = z
  .strictObject({
    ...crdOnly,
    ruleId: z.string().min(1).optional(),
    interface: z.string().min(1),
    direction: z.enum(["in", "out"]).default("in"),
    action: z.enum(["allow", "deny", "reject"]),
    protocol: z.enum(["tcp", "udp", "tcp/udp", "icmp", "any"]).default("any"),
    source: FirewallEndpointSchema.default({ cidr: "any" }),
    destination: FirewallEndpointSchema.default({ cidr: "any" }),
    description: z.string().default(""),
    enabled: z.boolean().default(true),
    log: z.boolean().default(false),
    priority: z.number().int().optional(),
  })
  .transform(withoutCrdOnly);
export type FirewallRuleSpec = z.output<typeof FirewallRuleSpecSchema>;

const Address = z.string().min(1);

export const NatRuleSpecSchema = z
  .strictObject({
    ...crdOnly,
    ruleId: z.string().min(1).optional(),
    type: z.enum(["dnat", "snat", "1to1"]),
    interface: z.string().min(1),
    protocol: z.enum(["tcp", "udp", "tcp/udp", "any"]).default("any"),
    source: z.strictObject({ cidr: CidrOrAny }).default({ cidr: "any" }),
    destination: z.strictObject({ address: Address.optional(), port: PortSpec.optional() }).default({}),
    translated: z.strictObject({ address: Address.optional(), port: PortSpec.optional() }).default({}),
    description: z.string().default(""),
    enabled: z.boolean().default(true),
    log: z.boolean().default(false),
    priority: z.number().int().optional(),
  })
  .transform(withoutCrdOnly);
export type NatRuleSpec = z.output<typeof NatRuleSpecSchema>;

export type RuleSpec = FirewallRuleSpec | NatRuleSpec;

export const RULE_SCHEMAS = {
  firewallRule: FirewallRuleSpecSchema,
  natRule: NatRuleSpecSchema,
} as const;

/** Applies the CRD defaults; throws a zod error for a spec that is not a valid rule of that kind. */
export function canonicalRule(kind: ResourceKind, spec: unknown): RuleSpec {
  return RULE_SCHEMAS[kind].parse(spec);
}

/** The manifest kinds the CLI accepts, and the engine kind each maps to. */
export const MANIFEST_KINDS: Readonly<Record<string, ResourceKind>> = {
  VnfFirewallRule: "firewallRule",
  VnfNatRule: "natRule",
};

// ---- ownership marker ---------------------------------------------------------------------------
// The caller (the operator) chooses an owner id per rule, e.g. its uid. The appliance object carries
// it as the token `[vnf:<id>]`, written by the dictionary wherever it wants (usually the description)
// and found again by scanning the field the dictionary names.

export const MARKER_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$/;
const TOKEN_SCAN = /\[vnf:([A-Za-z0-9][A-Za-z0-9._:/-]{0,127})\]/g;

export function markerToken(markerId: string): string {
  if (!MARKER_ID_PATTERN.test(markerId)) {
    throw new Error(
      `invalid ownership marker id ${JSON.stringify(markerId)}: must match ${MARKER_ID_PATTERN}`,
    );
  }
  return `[vnf:${markerId}]`;
}

/** Every marker id found in a text (normally zero or one). */
export function readMarkers(text: unknown): string[] {
  if (typeof text !== "string") return [];
  return [...text.matchAll(TOKEN_SCAN)].map((m) => m[1] ?? "").filter((id) => id !== "");
}

/**
 * The text without its marker tokens, for normalisation. Each token takes one separating space with it
 * (the one before it, else the one after), so `"desc [vnf:x]"` and `"[vnf:x] desc"` both give `"desc"`
 * while any other whitespace the user wrote is kept (no perpetual diff on `" padded "`).
 */
export function stripMarkers(text: unknown): unknown {
  if (typeof text !== "string") return text;
  const token = "\\[vnf:[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}\\]";
  return text.replace(new RegExp(` ${token}|${token} ?`, "g"), "");
}
