// The commands of the model-based test (fast-check `commands`): what users, the API server, the
// appliance and the operator's own process may do, in any order, at any point. Each command applies
// itself to the World; an action with `afterCalls` > 0 lands in the middle of the reconciles that
// follow (before or after the Nth call of the operator to the API server or the appliance).
import fc from "fast-check";
import type { RuleKind } from "../../../src/controllers/ports.ts";
import type { Fault } from "../../simulators/index.ts";
import { caseOf, type VendorRow } from "../vendors.ts";
import { SLOT_KINDS, type UserAction, type World } from "./world.ts";

/** Nothing to track in the model itself: the World's store is the truth the invariants are read from. */
export type Model = Record<string, never>;
type Cmd = fc.AsyncCommand<Model, World>;

class Act implements Cmd {
  readonly action: UserAction;
  readonly afterCalls: number;
  readonly label: string;
  constructor(action: UserAction, afterCalls: number, label: string) {
    this.action = action;
    this.afterCalls = afterCalls;
    this.label = label;
  }
  check() {
    return true;
  }
  async run(_m: Model, world: World) {
    if (this.afterCalls === 0) world.act(this.action);
    else world.armUser(this.afterCalls, this.action);
  }
  toString() {
    return `${this.label}(r${this.action.slot}${this.afterCalls ? ` @+${this.afterCalls}` : ""})`;
  }
}

class Crash implements Cmd {
  readonly afterCalls: number;
  constructor(afterCalls: number) {
    this.afterCalls = afterCalls;
  }
  check() {
    return true;
  }
  async run(_m: Model, world: World) {
    world.armCrash(this.afterCalls);
  }
  toString() {
    return `crash(@+${this.afterCalls})`;
  }
}

class Conflict implements Cmd {
  check() {
    return true;
  }
  async run(_m: Model, world: World) {
    world.armConflict();
  }
  toString() {
    return "statusWrite409";
  }
}

class ActivationFailure implements Cmd {
  check() {
    return true;
  }
  async run(_m: Model, world: World) {
    world.armActivationFailure();
  }
  toString() {
    return "activationFailure";
  }
}

class ApplianceFault implements Cmd {
  readonly fault: Fault;
  readonly label: string;
  constructor(fault: Fault, label: string) {
    this.fault = fault;
    this.label = label;
  }
  check() {
    return true;
  }
  async run(_m: Model, world: World) {
    await world.injectFault(this.fault);
  }
  toString() {
    return this.label;
  }
}

class Run implements Cmd {
  readonly steps: number;
  constructor(steps: number) {
    this.steps = steps;
  }
  check() {
    return true;
  }
  async run(_m: Model, world: World) {
    await world.run(this.steps);
    await world.checkReadyIsTrue();
  }
  toString() {
    return `run(${this.steps})`;
  }
}

/** Where a vendor's writes go (method + path prefix): where a lost answer hurts. */
export const WRITE_SCOPES: Record<string, Array<{ method: string; pathPrefix: string }>> = {
  pfsense: [
    { method: "POST", pathPrefix: "/api/v2/firewall/rule" },
    { method: "PATCH", pathPrefix: "/api/v2/firewall/rule" },
    { method: "DELETE", pathPrefix: "/api/v2/firewall/rule" },
    { method: "POST", pathPrefix: "/api/v2/firewall/nat/" },
    { method: "PATCH", pathPrefix: "/api/v2/firewall/nat/" },
    { method: "DELETE", pathPrefix: "/api/v2/firewall/nat/" },
  ],
  fortios: [
    { method: "POST", pathPrefix: "/api/v2/cmdb/firewall/" },
    { method: "PUT", pathPrefix: "/api/v2/cmdb/firewall/" },
    { method: "DELETE", pathPrefix: "/api/v2/cmdb/firewall/" },
  ],
  panos: [{ method: "POST", pathPrefix: "/api/" }],
  vyos: [{ method: "POST", pathPrefix: "/configure" }],
  opnsense: [{ method: "POST", pathPrefix: "/api/firewall/" }],
};

/** The specs a rule of each slot may take on this vendor (type-preserving for NAT). */
export function specVariants(row: VendorRow, kind: RuleKind): Record<string, unknown>[] {
  const { create, update } = caseOf(row, kind);
  const strip = ({ description: _d, ...rest }: Record<string, unknown>) => rest;
  if (kind === "firewallRule") return [strip(create), strip(update), { ...strip(create), action: "deny" }];
  const translated = (create.translated as Record<string, unknown>) ?? {};
  return [strip(create), { ...strip(create), translated: { ...translated, address: "10.0.0.42" } }];
}

const WORDS = ["web", "dns", "ssh", "from", "lab", "to", "db", "edge", "tier", "a", "b", "c"];
const descriptionArb = fc
  .array(fc.constantFrom(...WORDS), { minLength: 0, maxLength: 6 })
  .map((words) => words.join(" "));

export function commandArbs(row: VendorRow): fc.Arbitrary<Cmd>[] {
  const slot = fc.integer({ min: 0, max: SLOT_KINDS.length - 1 });
  const delay = fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 12 }));
  const variant = (s: number) => {
    const variants = specVariants(row, SLOT_KINDS[s] as RuleKind);
    return fc
      .integer({ min: 0, max: variants.length - 1 })
      .map((i) => variants[i] as Record<string, unknown>);
  };
  const scopes = WRITE_SCOPES[row.vendor] ?? [];
  const create = slot.chain((s) =>
    fc
      .tuple(variant(s), descriptionArb, delay)
      .map(
        ([spec, description, d]) =>
          new Act({ type: "create", slot: s, spec: { ...spec, description } }, d, "create"),
      ),
  );
  const run = fc.integer({ min: 1, max: 8 }).map((n) => new Run(n));
  const arbs: fc.Arbitrary<Cmd>[] = [
    create,
    create,
    run,
    run,
    run,
    slot.chain((s) =>
      fc.tuple(variant(s), delay).map(([spec, d]) => new Act({ type: "edit", slot: s, spec }, d, "editSpec")),
    ),
    fc
      .tuple(slot, descriptionArb, delay)
      .map(
        ([s, description, d]) =>
          new Act({ type: "edit", slot: s, spec: { description } }, d, "editDescription"),
      ),
    fc.tuple(slot, delay).map(([s, d]) => new Act({ type: "delete", slot: s }, d, "delete")),
    fc.integer({ min: 1, max: 24 }).map((n) => new Crash(n)),
    fc.constant(new Conflict()),
    fc.constant(new ActivationFailure()),
    fc
      .constantFrom(500, 502, 503)
      .map((status) => new ApplianceFault({ kind: "status", status, times: 1 }, `appliance${status}`)),
  ];
  if (scopes.length > 0) {
    arbs.push(
      fc
        .tuple(fc.constantFrom(...scopes), fc.boolean())
        .map(
          ([scope, reset]) =>
            new ApplianceFault(
              { kind: "lostAnswer", ...scope, times: 1, ...(reset ? { reset: true } : {}) },
              `timeoutAfterCommit(${scope.method} ${scope.pathPrefix}${reset ? ", reset" : ""})`,
            ),
        ),
    );
  }
  return arbs;
}
