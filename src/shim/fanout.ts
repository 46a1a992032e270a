// One CloudStack rule, several resources (pure). A VnfFirewallRule matches one source and one
// destination (a CIDR or an alias) and one port or range on each side, while CloudStack joins several
// CIDRs with "," (a rule with several source CIDRs) and the scaffold broker family sends ports such as
// "80,443". Such a request becomes one resource per combination, answered as one rule.

import type { FirewallSpec } from "./mapping.ts";
import { canonicalJson } from "./op-hash.ts";
import { RequestValidationError } from "./wire.ts";

/** More combinations than this are refused: one CloudStack rule should not become a rulebase. */
export const MAX_PARTS = 32;

export interface RulePart<S> {
  /** Canonical text of what distinguishes this part (names its resource). */
  key: string;
  spec: S;
}

type Endpoint = NonNullable<FirewallSpec["source"]>;

function members(text: string | undefined): Array<string | undefined> {
  if (text === undefined) return [undefined];
  return [...new Set(text.split(",").map((m) => m.trim()))];
}

/** Every single-valued endpoint of a (possibly listed) endpoint. */
function endpoints(endpoint: Endpoint | undefined): Endpoint[] {
  const base = endpoint ?? { cidr: "any" };
  const addresses: Array<{ cidr: string } | { alias: string }> =
    base.alias !== undefined
      ? [{ alias: base.alias }]
      : members(base.cidr ?? "any").map((cidr) => ({ cidr: cidr ?? "any" }));
  const ports = members(base.port);
  return addresses.flatMap((address) =>
    ports.map((port) => (port === undefined ? { ...address } : { ...address, port })),
  );
}

/** Whether the spec holds a comma list anywhere (so it needs more than one resource). */
export function isListed(spec: FirewallSpec): boolean {
  return [spec.source?.cidr, spec.source?.port, spec.destination?.cidr, spec.destination?.port].some(
    (value) => value?.includes(",") ?? false,
  );
}

/** The resources one firewall request becomes: one per source × destination combination. */
export function firewallParts(spec: FirewallSpec): Array<RulePart<FirewallSpec>> {
  const sources = endpoints(spec.source);
  const destinations = endpoints(spec.destination);
  const count = sources.length * destinations.length;
  if (count > MAX_PARTS)
    throw new RequestValidationError([
      {
        loc: ["body"],
        msg: `the address and port lists make ${count} combinations; at most ${MAX_PARTS} per rule (split it into several rules)`,
        type: "value_error",
      },
    ]);
  return sources.flatMap((source) =>
    destinations.map((destination) => ({
      key: canonicalJson({ source, destination }),
      spec: { ...spec, source, destination },
    })),
  );
}
