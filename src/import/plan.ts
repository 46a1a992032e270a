// What `vnf-operator import` makes of one bulk list per rule kind, as a pure function: a manifest for
// every object nobody manages that the dictionary's reverse mapping expresses, and, for every other
// object, why it is left out. No I/O here (the command reads and prints; tests call this directly).
//
//   - Names are readable and stable: derived from the object's name hint (its description, or the
//     vendor's rule name), made a DNS label; a hint several objects share gets a short hash of each
//     one's vendorRef, so a name does not depend on the order of the list.
//   - Priorities keep the appliance's order: the objects of a kind are numbered in the order the bulk
//     list returns them (the order the appliance evaluates them), every object counted (managed and
//     unexpressible ones too), so applying the manifests moves nothing.
//   - Each manifest carries the adopt annotation naming its object: the operator's first reconcile
//     adopts that object (writes its marker) instead of creating a copy.
import { createHash } from "node:crypto";
import { ADOPT_ANNOTATION, API_VERSION, VNF_FIREWALL_RULE, VNF_NAT_RULE } from "../api/group.ts";
import type { Reversed } from "../dictionary/reverse.ts";
import type { ResourceKind } from "../dictionary/rule-input.ts";

export { ADOPT_ANNOTATION };

export const KIND_NAMES: Readonly<Record<ResourceKind, string>> = {
  firewallRule: VNF_FIREWALL_RULE.kind,
  natRule: VNF_NAT_RULE.kind,
};

/** One object of a bulk list, with what the reverse mapping made of it. */
export interface ListedObject {
  vendorRef: string;
  /** The object carries an ownership marker (a vnf-operator manages it): never imported. */
  managedBy?: string;
  reversed: Reversed;
  /** The canonical fields the dictionary read (for the commented manifests of unsupported objects). */
  normalized: Record<string, unknown>;
  /** The ordering scope the dictionary puts it in (an interface, a rule set); "" or absent: one. */
  scope?: string;
  /** Appliances that order by number (OPNsense sequence, VyOS rule number): its number. */
  number?: number;
}

export interface ImportInput {
  device: { namespace: string; name: string };
  /** Per kind, the bulk list in the appliance's order. */
  lists: Partial<Record<ResourceKind, ListedObject[]>>;
  /** `kind/vendorRef` of objects a rule in the cluster records as its own (status.vendorRef). */
  recorded: ReadonlySet<string>;
  namePrefix?: string;
  /** The device's spec.ruleOrder placement (default Keep: no managed rule crosses an unmanaged one). */
  placement?: "Keep" | "Top" | "Bottom" | "After";
}

export interface RuleManifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; annotations: Record<string, string> };
  spec: Record<string, unknown>;
}

export interface LeftOut {
  kind: ResourceKind;
  vendorRef: string;
  /** The name the manifest would have had. */
  name: string;
  reason: string;
  /** For --include-unsupported: the manifest as far as the fields go (commented out). */
  draft?: RuleManifest;
}

export interface ImportPlan {
  manifests: RuleManifest[];
  unsupported: LeftOut[];
  managed: LeftOut[];
  /**
   * Where the appliance's order may not survive: objects that stay unmanaged sit between imported
   * ones (the operator keeps its managed rules of a scope in one block, VnfDevice spec.ruleOrder).
   */
  orderWarnings: string[];
}

const MAX_NAME = 63;
const MAX_PRIORITY = 99_999;

/** A DNS label from free text: lower-case letters, digits and dashes, no dash at either end. */
export function slug(text: string, max: number): string {
  const base = text
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
  return base.slice(0, Math.max(1, max)).replace(/-+$/g, "");
}

function shortHash(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex").slice(0, 5);
}

/** Spacing of priorities: 10 apart while they fit (room to insert rules later), else as wide as fits. */
export function priorityStep(count: number): number {
  if (count * 10 <= MAX_PRIORITY) return 10;
  return Math.max(1, Math.floor(MAX_PRIORITY / Math.max(1, count)));
}

interface Named {
  kind: ResourceKind;
  object: ListedObject;
  priority: number;
  base: string;
}

export function planImport(input: ImportInput): ImportPlan {
  const prefix = input.namePrefix ? slug(input.namePrefix, 30) : "";
  const room = MAX_NAME - (prefix ? prefix.length + 1 : 0) - 6;
  const named: Named[] = [];
  const ordered: Partial<Record<ResourceKind, ListedObject[]>> = {};
  for (const kind of ["firewallRule", "natRule"] as const) {
    const list = inApplianceOrder(input.lists[kind] ?? []);
    ordered[kind] = list;
    const step = priorityStep(list.length);
    list.forEach((object, index) => {
      const fallback = `${kind === "firewallRule" ? "fw" : "nat"}-${object.vendorRef}`;
      const base = slug(object.reversed.nameHint, room) || slug(fallback, room) || kind.toLowerCase();
      named.push({ kind, object, priority: (index + 1) * step, base });
    });
  }
  // A base several objects share: each gets a hash of its own kind and vendorRef (order-independent).
  const uses = new Map<string, number>();
  for (const n of named) uses.set(n.base, (uses.get(n.base) ?? 0) + 1);
  const nameOf = (n: Named) => {
    const unique =
      (uses.get(n.base) ?? 0) > 1 ? `${n.base}-${shortHash(`${n.kind}/${n.object.vendorRef}`)}` : n.base;
    return prefix ? `${prefix}-${unique}` : unique;
  };

  const plan: ImportPlan = { manifests: [], unsupported: [], managed: [], orderWarnings: [] };
  for (const n of named) {
    const name = nameOf(n);
    const { kind, object } = n;
    const manifest = (spec: Record<string, unknown>): RuleManifest => ({
      apiVersion: API_VERSION,
      kind: KIND_NAMES[kind],
      metadata: {
        name,
        namespace: input.device.namespace,
        annotations: { [ADOPT_ANNOTATION]: object.vendorRef },
      },
      spec: { deviceRef: { name: input.device.name }, priority: n.priority, ...spec },
    });
    if (object.managedBy !== undefined) {
      plan.managed.push({ kind, vendorRef: object.vendorRef, name, reason: object.managedBy });
    } else if (input.recorded.has(`${kind}/${object.vendorRef}`)) {
      plan.managed.push({
        kind,
        vendorRef: object.vendorRef,
        name,
        reason: "a rule in the cluster records it as its appliance object",
      });
    } else if (object.reversed.ok) {
      plan.manifests.push(manifest(object.reversed.spec));
    } else {
      const draft = manifest(
        Object.fromEntries(Object.entries(object.normalized).filter(([key]) => !key.startsWith("$"))),
      );
      plan.unsupported.push({
        kind,
        vendorRef: object.vendorRef,
        name,
        reason: object.reversed.reason,
        draft,
      });
    }
  }
  for (const kind of ["firewallRule", "natRule"] as const) {
    plan.orderWarnings.push(
      ...orderWarnings(kind, ordered[kind] ?? [], input.recorded, input.placement ?? "Keep"),
    );
  }
  return plan;
}

/** The list as the appliance evaluates it: by number where it orders by number, else as listed. */
function inApplianceOrder(list: ListedObject[]): ListedObject[] {
  if (!list.some((o) => o.number !== undefined)) return list;
  return list
    .map((object, index) => ({ object, index }))
    .sort(
      (a, b) =>
        (a.object.number ?? Number.POSITIVE_INFINITY) - (b.object.number ?? Number.POSITIVE_INFINITY) ||
        a.index - b.index,
    )
    .map(({ object }) => object);
}

const listed = (refs: string[]) => `${refs.slice(0, 5).join(", ")}${refs.length > 5 ? ", ..." : ""}`;

/**
 * Where applying the manifests would change the appliance's order, per scope. With the device's
 * spec.ruleOrder placement Keep (the default) no managed rule crosses a rule nobody manages: the order
 * survives whatever stays unmanaged. Top, Bottom and After make the managed rules of a scope one block,
 * so a rule that stays unmanaged among the imported ones (or on the block's side) ends up moved past.
 */
function orderWarnings(
  kind: ResourceKind,
  list: ListedObject[],
  recorded: ReadonlySet<string>,
  placement: "Keep" | "Top" | "Bottom" | "After",
): string[] {
  if (placement === "Keep") return [];
  const stays = (o: ListedObject) => o.managedBy === undefined && !recorded.has(`${kind}/${o.vendorRef}`);
  const byScope = new Map<string, ListedObject[]>();
  for (const object of list) {
    const scope = object.scope ?? "";
    byScope.set(scope, [...(byScope.get(scope) ?? []), object]);
  }
  const out: string[] = [];
  for (const [scope, objects] of byScope) {
    const imported = objects.map((o) => stays(o) && o.reversed.ok);
    const first = imported.indexOf(true);
    const last = imported.lastIndexOf(true);
    if (first < 0) continue;
    // Objects a vnf-operator already manages are placed by their own priority: not in the way.
    const from = placement === "Top" ? 0 : first + 1;
    const to = placement === "Bottom" ? objects.length : last;
    const crossed = objects
      .slice(from, to)
      .filter((o, i) => !imported[from + i] && stays(o))
      .map((o) => o.vendorRef);
    if (crossed.length > 0) {
      out.push(
        `${scope ? `${kind} in scope ${scope}` : kind}: with the device's spec.ruleOrder placement ${placement} the managed rules of a scope form one block, so applying moves imported rules past ${crossed.length} object(s) that stay unmanaged (${listed(crossed)}); placement Keep (the default) keeps the appliance's order`,
      );
    }
  }
  return out;
}
