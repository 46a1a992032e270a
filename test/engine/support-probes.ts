// What each shipped dictionary can really do, found out by doing it: every column of the support
// matrix (docs/support-matrix.md) is a probe that drives an ApplianceSession against the vendor's
// simulator (the rows of vendors.ts, as the vendor suite does) and, for two columns, reads what the
// dictionary declares. A cell is ✔ when every variant round-trips (create, read back equal, delete),
// partial when some variants are refused or read back differently, ✘ when the basic case is refused;
// the dictionary's own refusal messages are the notes. Anything else (an appliance error, a crash) is
// not a cell: the probe throws, and the test or the generator fails.
import type { VnfRule } from "../../src/api/types.ts";
import { ApplianceSession, type ApplianceSessionOptions } from "../../src/appliance/session.ts";
import { performOrder, planDeviceOrder } from "../../src/controllers/order-step.ts";
import { requestFor } from "../../src/controllers/rule-request.ts";
import type { CompiledDictionary } from "../../src/dictionary/compiled.ts";
import { VnfError } from "../../src/dictionary/errors.ts";
import type { ResourceKind } from "../../src/dictionary/rule-input.ts";
import { canonicalRule } from "../../src/dictionary/rule-input.ts";
import { type SimulatorHandle, startSimulator } from "../simulators/index.ts";
import { caseOf, isRefusal, kindCases, type NatType, type VendorRow } from "./vendors.ts";

export type Status = "yes" | "partial" | "no";

export interface Cell {
  status: Status;
  /** Why it is partial or ✘, or what it needs: the dictionary's own words where it refuses. */
  notes: string[];
}

export interface ProbeContext {
  row: VendorRow;
  dictionary: CompiledDictionary;
  sim: SimulatorHandle;
  session(overrides?: Partial<ApplianceSessionOptions>): ApplianceSession;
  /** The write input, with a rule number for dictionaries that declare `ruleNumbers`. */
  input(
    rule: Record<string, unknown>,
    marker: string,
  ): { rule: unknown; marker: string; ruleNumber?: number };
}

export interface Feature {
  id: string;
  /** Column header. */
  title: string;
  /** How the cell is computed (the legend of the generated page). */
  how: string;
  probe(ctx: ProbeContext): Promise<Cell>;
}

/** The dictionary's message without the engine's operation label (`natRule.create step 3: `). */
export function reasonOf(error: VnfError): string {
  return error.message.replace(/^[A-Za-z]+\.[A-Za-z]+(?: step [\w-]+)?(?: when)?: /, "");
}

type Trial = { ok: true } | { refused: string } | { differs: string[] };

let markers = 0;

/** Create, read back, compare, delete: the basic promise of a dictionary for one rule. */
async function roundTrip(
  ctx: ProbeContext,
  kind: ResourceKind,
  rule: Record<string, unknown>,
): Promise<Trial> {
  const s = ctx.session();
  markers += 1;
  const marker = `probe/${markers}`;
  try {
    let vendorRef: string;
    try {
      vendorRef = (await s.create(kind, ctx.input(rule, marker))).vendorRef;
    } catch (error) {
      if (error instanceof VnfError && error.code === "BROKER_INVALID_REQUEST")
        return { refused: reasonOf(error) };
      throw error;
    }
    const got = await s.get(kind, vendorRef);
    if (got === undefined) throw new Error(`${kind} ${JSON.stringify(rule)}: created but not found again`);
    const differences = s.differences(kind, rule, got.normalized);
    await s.delete(kind, vendorRef);
    if ((await s.get(kind, vendorRef)) !== undefined) throw new Error(`${kind}: deleted but still there`);
    return differences.length === 0 ? { ok: true } : { differs: differences };
  } finally {
    await s.close();
  }
}

/** Variants of one feature → a cell: the first variant is the basic case. */
async function variants(
  ctx: ProbeContext,
  kind: ResourceKind,
  cases: Array<[string, Record<string, unknown>]>,
) {
  const notes: string[] = [];
  let passed = 0;
  let basicRefused = false;
  for (const [index, [label, rule]] of cases.entries()) {
    const trial = await roundTrip(ctx, kind, rule);
    if ("ok" in trial) {
      passed += 1;
      continue;
    }
    if (index === 0 && "refused" in trial) basicRefused = true;
    notes.push(
      "refused" in trial
        ? `${label}: ${trial.refused}`
        : `${label}: read back differently (${trial.differs.join(", ")})`,
    );
  }
  const status: Status = basicRefused ? "no" : passed === cases.length ? "yes" : "partial";
  return { status, notes } satisfies Cell;
}

const fw = (ctx: ProbeContext, fields: Record<string, unknown>) => ({
  ...ctx.row.firewallRule.create,
  ...fields,
});
const plain = (ctx: ProbeContext) => {
  const base = ctx.row.firewallRule.create as { source?: object; destination?: { cidr?: string } };
  return {
    ...ctx.row.firewallRule.create,
    source: { cidr: "10.0.0.0/24" },
    destination: { cidr: base.destination?.cidr ?? "any" },
  };
};

const action = (value: string): Feature => ({
  id: value,
  title: value,
  how: `a firewall rule with action ${value} round-trips`,
  probe: (ctx) => variants(ctx, "firewallRule", [[value, fw(ctx, { action: value })]]),
});

const protocol = (value: string): Feature => ({
  id: value,
  title: value,
  how: `a firewall rule for protocol ${value} (no ports) round-trips`,
  probe: (ctx) => variants(ctx, "firewallRule", [[value, { ...plain(ctx), protocol: value }]]),
});

/** The NAT variants each type must handle, the basic case first. */
const NAT_VARIANTS: Record<
  NatType,
  Array<[string, (base: Record<string, unknown>) => Record<string, unknown>]>
> = {
  dnat: [
    ["basic", (base) => base],
    [
      "port range",
      (base) => ({
        ...base,
        protocol: "tcp",
        destination: { ...(base.destination as object), port: "8000-8010" },
        translated: { address: "10.0.0.20" },
      }),
    ],
    [
      "tcp/udp",
      (base) => ({
        ...base,
        protocol: "tcp/udp",
        destination: { ...(base.destination as object), port: "53" },
        translated: { address: "10.0.0.53" },
      }),
    ],
    ["limited to some sources", (base) => ({ ...base, source: { cidr: "198.51.100.0/24" } })],
    ["disabled", (base) => ({ ...base, enabled: false })],
  ],
  snat: [
    ["to an address", (base) => base],
    ["to the interface address (masquerade)", (base) => ({ ...base, translated: {} })],
    ["to a pool", (base) => ({ ...base, translated: { address: "203.0.113.40/29" } })],
    [
      "limited to a destination and port",
      (base) => ({ ...base, protocol: "tcp", destination: { address: "198.51.100.0/24", port: "443" } }),
    ],
    ["tcp/udp", (base) => ({ ...base, protocol: "tcp/udp" })],
    ["disabled", (base) => ({ ...base, enabled: false })],
  ],
  "1to1": [
    ["an address", (base) => base],
    [
      "a block",
      (base) => ({
        ...base,
        destination: { address: "203.0.113.48/29" },
        translated: { address: "10.0.3.0/29" },
      }),
    ],
    ["limited to some peers", (base) => ({ ...base, source: { cidr: "198.51.100.0/24" } })],
    ["disabled", (base) => ({ ...base, enabled: false })],
  ],
};

/** The vendor's factory state, where a NAT type may need a setting first: the refusal says which. */
async function factoryRefusal(ctx: ProbeContext, rule: Record<string, unknown>): Promise<string | undefined> {
  const factory = ctx.row.factory;
  if (factory === undefined) return undefined;
  const sim = await startSimulator(ctx.row.vendor, (factory.simulator ?? ctx.row.simulator) as never);
  const s = new ApplianceSession({
    dictionary: ctx.dictionary,
    endpoint: sim.url,
    credentials: sim.credentials,
    tls: { caPem: sim.caPem },
    parameters: factory.parameters ?? ctx.row.parameters ?? {},
    transportRetry: { attempts: 1 },
  });
  try {
    await s.create("natRule", ctx.input(rule, "probe/factory"));
    return undefined;
  } catch (error) {
    if (error instanceof VnfError && error.code === "BROKER_INVALID_REQUEST") return reasonOf(error);
    throw error;
  } finally {
    await s.close();
    await sim.stop();
  }
}

const nat = (type: NatType): Feature => ({
  id: type,
  title: type,
  how: `${type} rules (${NAT_VARIANTS[type].map(([label]) => label).join(", ")}) round-trip; a factory-fresh appliance's refusal is noted as what the type needs`,
  async probe(ctx) {
    const cell = ctx.row.nat[type];
    if (isRefusal(cell)) {
      return variants(ctx, "natRule", [["basic", cell.refused.rule]]);
    }
    const result = await variants(
      ctx,
      "natRule",
      NAT_VARIANTS[type].map(([label, make]) => [label, make(cell.create)]),
    );
    if (result.status !== "no") {
      const needs = await factoryRefusal(ctx, cell.create);
      if (needs !== undefined) result.notes.unshift(`needs: ${needs}`);
    }
    return result;
  },
});

/** Fields a rule's read-back lacks: what drift can never see (priority is ordering, not a field). */
async function unobserved(ctx: ProbeContext, kind: ResourceKind, rule: Record<string, unknown>) {
  const s = ctx.session();
  try {
    const { vendorRef } = await s.create(kind, ctx.input(rule, `probe/fields/${kind}`));
    const got = await s.get(kind, vendorRef);
    await s.delete(kind, vendorRef);
    const seen = new Set(Object.keys(got?.normalized ?? {}));
    const wanted =
      kind === "firewallRule"
        ? [
            "interface",
            "direction",
            "action",
            "protocol",
            "source",
            "destination",
            "description",
            "enabled",
            "log",
          ]
        : [
            "type",
            "interface",
            "protocol",
            "source",
            "destination",
            "translated",
            "description",
            "enabled",
            "log",
          ];
    return wanted.filter((field) => !seen.has(field)).map((field) => `${kind}.${field}`);
  } finally {
    await s.close();
  }
}

export const FEATURES: Feature[] = [
  action("allow"),
  action("deny"),
  action("reject"),
  protocol("tcp"),
  protocol("udp"),
  protocol("tcp/udp"),
  protocol("icmp"),
  protocol("any"),
  {
    id: "ports",
    title: "ports",
    how: "firewall rules with a port no predefined service covers, a range, and a source port round-trip",
    probe: (ctx) =>
      variants(ctx, "firewallRule", [
        [
          "a port",
          { ...plain(ctx), protocol: "tcp", destination: { ...plain(ctx).destination, port: "8443" } },
        ],
        [
          "a range",
          { ...plain(ctx), protocol: "udp", destination: { ...plain(ctx).destination, port: "27015-27030" } },
        ],
        [
          "a source port",
          {
            ...plain(ctx),
            protocol: "tcp",
            source: { cidr: "10.0.0.0/24", port: "1024-65535" },
            destination: { ...plain(ctx).destination, port: "22" },
          },
        ],
      ]),
  },
  {
    id: "aliases",
    title: "aliases",
    how: "a firewall rule naming an address object that exists on the appliance round-trips",
    async probe(ctx) {
      const name = await ctx.row.alias(ctx.sim);
      return variants(ctx, "firewallRule", [["an alias", { ...plain(ctx), destination: { alias: name } }]]);
    },
  },
  {
    id: "log",
    title: "log",
    how: "a firewall rule with log: true round-trips and reads back log: true",
    async probe(ctx) {
      const cell = await variants(ctx, "firewallRule", [["log", fw(ctx, { log: true })]]);
      if (
        cell.status === "yes" &&
        (await unobserved(ctx, "firewallRule", fw(ctx, { log: true }))).includes("firewallRule.log")
      ) {
        return {
          status: "partial",
          notes: ["written, but the appliance's answer does not show it (drift cannot see it)"],
        };
      }
      return cell;
    },
  },
  {
    id: "disabled",
    title: "disabled",
    how: "a firewall rule and a NAT rule (the first type the vendor supports) with enabled: false round-trip",
    probe: (ctx) =>
      variants(ctx, "firewallRule", [["a firewall rule", fw(ctx, { enabled: false })]]).then(async (cell) => {
        const nat = caseOf(ctx.row, "natRule");
        const natCell = await variants(ctx, "natRule", [
          [`a ${nat.label.replace("natRule ", "")} rule`, { ...nat.create, enabled: false }],
        ]);
        const notes = [...cell.notes, ...natCell.notes];
        const status: Status =
          cell.status === "yes" && natCell.status === "yes"
            ? "yes"
            : cell.status === "no" && natCell.status === "no"
              ? "no"
              : "partial";
        return { status, notes };
      }),
  },
  {
    id: "order",
    title: "order",
    how: "firewall rules created in the reverse of their priority order, then one order step of the operator (one list, the fewest moves): the appliance lists them in priority order; a priority change then costs one move",
    async probe(ctx) {
      const s = ctx.session();
      const ordering = s.ordering("firewallRule");
      if (!ordering) {
        await s.close();
        return { status: "no", notes: ["the dictionary declares no ordering: rules land in creation order"] };
      }
      const rules = [30, 20, 10].map((priority) => ({
        apiVersion: "vnf-operator.io/v1alpha1",
        kind: "VnfFirewallRule",
        metadata: { namespace: "probe", name: `p${priority}`, uid: `probe-order-${priority}`, generation: 1 },
        spec: { ...fw(ctx, { description: `order ${priority}` }), deviceRef: { name: "probe" }, priority },
      })) as unknown as VnfRule[];
      const refs = new Map<VnfRule, string>();
      /** One order step as the order controller runs it; renumbers (VyOS) are the rule controller's updates. */
      const orderStep = async () => {
        const { plan, rulesByKey } = planDeviceOrder({
          kind: "firewallRule",
          owner: { installationId: "probe", deviceUid: "probe" },
          ordering,
          objects: await s.list("firewallRule"),
          rules,
          placement: { at: "Top" },
        });
        const renumbers: Array<[VnfRule, number]> = [];
        const moves = await performOrder(s, "firewallRule", ordering, plan, rulesByKey, undefined, {
          renumber: (rule, number) => renumbers.push([rule, number]),
        });
        for (const [rule, ruleNumber] of renumbers) {
          // The marker the operator would write (planDeviceOrder matches objects to rules by it).
          const marker = requestFor(rule, { installationId: "probe", deviceUid: "probe" }).marker;
          const updated = await s.update("firewallRule", refs.get(rule) as string, {
            ...ctx.input(rule.spec as unknown as Record<string, unknown>, marker),
            ruleNumber,
          });
          refs.set(rule, updated.vendorRef);
        }
        if (moves > 0) await s.activate();
        return moves;
      };
      const inOrder = async () => {
        // The appliance's order: the list's, or (numbered ordering) the numbers'.
        const listed = (await s.list("firewallRule"))
          .map((o, i) => ({ ref: o.vendorRef, key: o.number ?? i }))
          .sort((a, b) => a.key - b.key)
          .map((o) => o.ref);
        const at = (rule: VnfRule) => listed.indexOf(refs.get(rule) as string);
        const byPriority = [...rules].sort((a, b) => (a.spec.priority ?? 0) - (b.spec.priority ?? 0));
        return byPriority.every((rule, i) => i === 0 || at(rule) > at(byPriority[i - 1] as VnfRule));
      };
      try {
        for (const rule of rules) {
          const { vendorRef } = await s.create(
            "firewallRule",
            ctx.input(
              rule.spec as unknown as Record<string, unknown>,
              requestFor(rule, { installationId: "probe", deviceUid: "probe" }).marker,
            ),
          );
          refs.set(rule, vendorRef);
        }
        await s.activate();
        const first = await orderStep();
        const ordered = await inOrder();
        // The last rule (priority 30) goes first: one move.
        (rules[0] as VnfRule).spec.priority = 5;
        const second = await orderStep();
        const reordered = await inOrder();
        for (const vendorRef of refs.values()) await s.delete("firewallRule", vendorRef);
        if (!ordered || !reordered || second !== 1)
          throw new Error(
            `order probe: ordered ${ordered} after ${first} move(s), ${reordered} after ${second} move(s)`,
          );
        const how = ordering.movable
          ? "moved with the dictionary's `move`"
          : "renumbered (the rule number is its place)";
        return { status: "yes", notes: [`${how}; a priority change moves that rule only`] };
      } finally {
        await s.close();
      }
    },
  },
  nat("dnat"),
  nat("snat"),
  nat("1to1"),
  {
    id: "drift",
    title: "drift",
    how: "a firewall rule disabled by hand on the appliance shows as a difference, an update repairs it; fields the read-back lacks are listed",
    async probe(ctx) {
      const s = ctx.session();
      const tamper = ctx.row.tamper;
      try {
        const rule = ctx.row.firewallRule.create;
        const { vendorRef } = await s.create("firewallRule", ctx.input(rule, "probe/drift"));
        const object = ctx.row.firewallRule.stored.find(
          (await ctx.sim.control.objects(tamper.kind)).candidate,
          vendorRef,
        );
        if (object === undefined) throw new Error("drift probe: the created rule is not on the appliance");
        await ctx.sim.control.updateObject(tamper.kind, tamper.id(object), tamper.patch, { apply: true });
        const changed = await s.get("firewallRule", vendorRef);
        const detected = s.differences("firewallRule", rule, changed?.normalized ?? {}).includes("enabled");
        await s.update("firewallRule", vendorRef, ctx.input(rule, "probe/drift"));
        const repaired = await s.get("firewallRule", vendorRef);
        const clean = s.differences("firewallRule", rule, repaired?.normalized ?? {}).length === 0;
        await s.delete("firewallRule", vendorRef);
        if (!detected || !clean)
          return { status: "no", notes: ["a change made on the appliance is not seen"] };
      } finally {
        await s.close();
      }
      const missing = [
        ...(await unobserved(ctx, "firewallRule", fw(ctx, { log: true }))),
        ...(await unobserved(ctx, "natRule", { ...caseOf(ctx.row, "natRule").create, log: true })),
      ];
      return missing.length === 0
        ? { status: "yes", notes: [] }
        : { status: "partial", notes: [`not read back, so never compared: ${missing.join(", ")}`] };
    },
  },
  {
    id: "adopt",
    title: "adopt",
    how: "after a crash, a new session finds the rule by its ownership marker, equal to the spec, without creating it again",
    async probe(ctx) {
      const first = ctx.session();
      const second = ctx.session();
      try {
        const rule = ctx.row.firewallRule.create;
        const { vendorRef } = await first.create("firewallRule", ctx.input(rule, "probe/adopt"));
        const found = await second.findByMarker("firewallRule", "probe/adopt");
        await second.delete("firewallRule", vendorRef);
        return found?.vendorRef === vendorRef &&
          second.differences("firewallRule", rule, found.normalized).length === 0
          ? { status: "yes", notes: [] }
          : { status: "no", notes: ["the marker does not find the rule again"] };
      } finally {
        await first.close();
        await second.close();
      }
    },
  },
  {
    id: "import",
    title: "import",
    how: "for the firewall rule and every NAT type: the object a rule created, read back by the bulk list, is turned back into the same rule by the reverse mapping (vnf-operator import), and an update writing another ownership marker adopts it in place",
    async probe(ctx) {
      const s = ctx.session();
      const notes: string[] = [];
      const cases = kindCases(ctx.row);
      let imported = 0;
      for (const c of cases) {
        const created = ctx.input(c.create, `probe/import-${c.label.replace(" ", "-")}`);
        const { vendorRef } = await s.create(c.kind, created);
        const before = await s.list(c.kind);
        const listed = before.find((o) => o.vendorRef === vendorRef);
        const reversed = listed ? s.reverse(c.kind, listed) : undefined;
        if (!listed || !reversed?.ok) {
          notes.push(`${c.label}: ${reversed && !reversed.ok ? reversed.reason : "not in the bulk list"}`);
          await s.delete(c.kind, vendorRef);
          continue;
        }
        const back = canonicalRule(c.kind, reversed.spec) as unknown as Record<string, unknown>;
        const differs = s.differences(c.kind, c.create, back);
        // Adoption in place: the same object now carries another marker, and nothing was added.
        await s.update(c.kind, vendorRef, { ...created, marker: "probe/adopted" });
        const adopted = await s.findByMarker(c.kind, "probe/adopted");
        const after = await s.list(c.kind);
        await s.delete(c.kind, adopted?.vendorRef ?? vendorRef);
        if (differs.length > 0) notes.push(`${c.label}: imported back differently: ${differs.join(", ")}`);
        else if (!adopted || after.length !== before.length) notes.push(`${c.label}: not adopted in place`);
        else imported++;
      }
      return {
        status: imported === cases.length ? "yes" : imported > 0 ? "partial" : "no",
        notes,
      };
    },
  },
  {
    id: "safeApply",
    title: "safe apply",
    how: "a savepoint is taken before a rule is written; the health check after applying fails (a fault on the simulator's health path): the activation rolls back to the savepoint, and the rule is gone",
    async probe(ctx) {
      const d = ctx.dictionary;
      if (d.activation === undefined) {
        return { status: "no", notes: ["writes are live: there is no activation to check and roll back"] };
      }
      if (!d.activationPrepare || !d.activationRollback) {
        return {
          status: "no",
          notes: ["activation applies the writes and checks nothing afterwards: a bad batch stays"],
        };
      }
      const s = ctx.session();
      try {
        await s.prepare();
        const rule = ctx.row.firewallRule.create;
        const { vendorRef } = await s.create("firewallRule", ctx.input(rule, "probe/safe-apply"));
        await ctx.sim.control.injectFault({ pathPrefix: ctx.row.healthPath, kind: "status", status: 500 });
        let rolledBack = false;
        try {
          await s.activate();
        } catch (error) {
          rolledBack = error instanceof VnfError && /^rolled back/.test(error.message);
        } finally {
          await ctx.sim.control.clearFaults();
        }
        const left = await s.get("firewallRule", vendorRef);
        if (left) await s.delete("firewallRule", vendorRef);
        if (!rolledBack || left)
          throw new Error(`safe apply probe: rolled back ${rolledBack}, rule left ${!!left}`);
        return {
          status: "yes",
          notes: ["savepoint before the writes, apply, health check, then confirm (or roll back)"],
        };
      } finally {
        await s.close();
      }
    },
  },
];
