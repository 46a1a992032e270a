// The canonical rule the templates see as `rule`: a VnfFirewallRule or VnfNatRule spec checked against
// the schema generated from its CRD (rule-schema.generated.ts: types, enums, patterns, bounds, the
// CRD's defaults), without the fields that are the operator's business (deviceRef, deletionPolicy).
// What the CRD states in CEL and the engine relies on is added here, with the few defaults a template
// may count on beyond the CRD's (an empty description is "", an absent NAT address block is {}). A new
// optional CRD field needs nothing here: run hack/gen-crd-types and use it in the dictionaries.
import type { z } from "zod";
import { RULE_FIELDS, RULE_SPEC_SCHEMAS } from "./rule-schema.generated.ts";

export const RESOURCE_KINDS = ["firewallRule", "natRule"] as const;
export type ResourceKind = (typeof RESOURCE_KINDS)[number];

type Endpoint = { cidr?: string; alias?: string; port?: string };

/** Neither cidr nor alias means any address (the CRD's default when the whole block is absent). */
function anyIfUnset<T extends Endpoint>(endpoint: T): T {
  return endpoint.cidr === undefined && endpoint.alias === undefined
    ? { ...endpoint, cidr: "any" }
    : endpoint;
}

/** The fields in the CRD's order (what a template iterating the rule sees), undefined ones left out. */
function inFieldOrder<T extends object>(kind: ResourceKind, rule: T): T {
  const entries = Object.keys(RULE_FIELDS[kind])
    .filter((key) => (rule as Record<string, unknown>)[key] !== undefined)
    .map((key) => [key, (rule as Record<string, unknown>)[key]]);
  return Object.fromEntries(entries) as T;
}

export const FirewallRuleSpecSchema = RULE_SPEC_SCHEMAS.firewallRule
  .superRefine((spec, ctx) => {
    for (const side of ["source", "destination"] as const) {
      if (spec[side].cidr !== undefined && spec[side].alias !== undefined) {
        ctx.addIssue({ code: "custom", path: [side], message: "cidr and alias are mutually exclusive" });
      }
    }
  })
  .transform(({ deviceRef: _device, deletionPolicy: _policy, ...rule }) =>
    inFieldOrder("firewallRule", {
      ...rule,
      source: anyIfUnset(rule.source),
      destination: anyIfUnset(rule.destination),
      description: rule.description ?? "",
    }),
  );
export type FirewallRuleSpec = z.output<typeof FirewallRuleSpecSchema>;

export const NatRuleSpecSchema = RULE_SPEC_SCHEMAS.natRule.transform(
  ({ deviceRef: _device, deletionPolicy: _policy, ...rule }) =>
    inFieldOrder("natRule", {
      ...rule,
      source: rule.source ?? { cidr: "any" },
      destination: rule.destination ?? {},
      translated: rule.translated ?? {},
      description: rule.description ?? "",
    }),
);
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
// The caller (the operator) chooses an owner id per rule (controllers/markers.ts). The appliance object
// carries it as the token `[vnf:<id>]` at the END of its ownership field: dictionaries write the
// field as "{{ rule.description }} {{ marker }}". The token is read back only there — the last thing in
// the field, after a space or alone — so text a user typed into the description can never stand for
// it: whatever the description holds, our token follows it.

export const MARKER_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$/;
const TRAILING_TOKEN = /(?:^|\s)\[vnf:([A-Za-z0-9][A-Za-z0-9._:/-]{0,127})\]$/;

export function markerToken(markerId: string): string {
  if (!MARKER_ID_PATTERN.test(markerId)) {
    throw new Error(
      `invalid ownership marker id ${JSON.stringify(markerId)}: must match ${MARKER_ID_PATTERN}`,
    );
  }
  return `[vnf:${markerId}]`;
}

/** The marker id a field ends with (trailing whitespace ignored), or undefined. */
export function readMarker(text: unknown): string | undefined {
  if (typeof text !== "string") return undefined;
  return TRAILING_TOKEN.exec(text.trimEnd())?.[1];
}

/**
 * The field without its trailing marker token (and the one space before it), for normalisation:
 * `"desc [vnf:x]"` and `" [vnf:x]"` give `"desc"` and `""`; any other text, a `[vnf:` the user typed
 * included, is kept as it is (no perpetual diff).
 */
export function stripMarker(text: unknown): unknown {
  if (typeof text !== "string") return text;
  const trimmed = text.trimEnd();
  const match = TRAILING_TOKEN.exec(trimmed);
  if (!match) return text;
  // The match holds the one separating space the dictionary wrote (when there is text before it).
  return trimmed.slice(0, trimmed.length - match[0].length);
}
