// The order controller: one reconcile per device puts the managed rules in the order of their
// spec.priority (order-step.ts), and records the place of each rule with a priority (status.position,
// its only field). It
// runs shortly after rule writes (the rule controller asks), when a device's session becomes ready,
// and when a drift check finds the order changed on the appliance in Repair mode — never per rule, so
// two reconciles never race moves on one device (a device's reconciles are serialised by its key).
import type { VnfDevice, VnfRule } from "../api/types.ts";
import type { ReconcileContext, ReconcileResult } from "../runtime/controller.ts";
import type { EventSink } from "../runtime/events.ts";
import type { ObjectCache } from "../runtime/informer.ts";
import type { KubeRequester } from "../runtime/kube-http.ts";
import type { ObjectKey, ResourceType } from "../runtime/resource.ts";
import { StatusWriter } from "../runtime/status-writer.ts";
import {
  keyOf,
  orderingNeeded,
  performOrder,
  placementOf,
  planDeviceOrder,
  type RenumberRequests,
} from "./order-step.ts";
import type { RuleKind, SessionLookup } from "./ports.ts";
import { markerOwner } from "./rule-request.ts";
import { FieldManager, ORDER_CONTROLLER_RULE_STATUS } from "./status-ownership.ts";

export interface OrderControllerDeps {
  devices: ObjectCache<VnfDevice>;
  rules: Array<{ kind: RuleKind; resource: ResourceType; informer: ObjectCache<VnfRule> }>;
  sessions: SessionLookup;
  http: KubeRequester;
  events: EventSink;
  /** Renumbers handed to the rule controller (appliances where the number is the rule's identity). */
  renumbers: RenumberRequests;
  /** Numbers the rule controller has reserved for rules it is creating (never moved onto). */
  reservedNumbers?: (device: ObjectKey, kind: RuleKind) => Iterable<number>;
  /** Re-queues a rule in its controller (after a renumber request). */
  enqueueRule?: (kind: RuleKind, rule: ObjectKey) => void;
  /** Called after each step with the moves made (metrics; tests and the bench count them). */
  onOrdered?: (device: ObjectKey, kind: RuleKind, moves: number) => void;
  /** This installation's id: only objects whose marker is ours for the device are moved. */
  installationId: string;
}

export function orderReconciler(deps: OrderControllerDeps) {
  const status = new Map(
    deps.rules.map(({ kind, resource }) => [
      kind,
      new StatusWriter<VnfRule>({
        client: deps.http,
        resource,
        fieldManager: FieldManager.order,
        owns: ORDER_CONTROLLER_RULE_STATUS,
      }),
    ]),
  );
  /** Devices whose moves are written but not yet activated (the activation failed): activate next time. */
  const owed = new Set<string>();
  return async (key: ObjectKey, ctx: ReconcileContext): Promise<ReconcileResult | undefined> => {
    const device = deps.devices.get(key.namespace, key.name);
    const session = deps.sessions.get(key);
    if (!device || device.metadata.deletionTimestamp || device.spec.suspend || !session) return undefined;
    // Without every rule in the caches our own rules would look like someone else's.
    if (deps.rules.some(({ informer }) => !informer.hasSynced())) return { requeueAfterMs: 1000 };
    const placement = placementOf(device);

    for (const { kind, informer } of deps.rules) {
      const ordering = session.kinds.includes(kind) ? session.ordering?.(kind) : undefined;
      if (!ordering) continue;
      const rules = informer.list(key.namespace).filter((r) => r.spec.deviceRef.name === key.name);
      // No rule of ours, or none that can need a move or a place: nothing to order, nothing to read.
      if (rules.length === 0 || !orderingNeeded(placement, rules)) continue;
      const objects = await session.list(kind, ctx.signal);
      const reserved = new Set<number>([
        ...(deps.reservedNumbers?.(key, kind) ?? []),
        ...deps.renumbers.numbers(),
        ...rules.flatMap((r) => (r.status?.ruleNumber === undefined ? [] : [r.status.ruleNumber])),
      ]);
      const { plan, rulesByKey } = planDeviceOrder({
        kind,
        owner: markerOwner(deps, device),
        ordering,
        objects,
        rules,
        placement,
        reservedNumbers: reserved,
      });
      for (const problem of plan.problems) {
        deps.events.warning(device, "OrderBlocked", "Order", `${kind}: ${problem}`);
      }
      const debt = `${key.namespace}/${key.name}/${kind}`;
      let moves = 0;
      // Safe apply: the moves are writes of a batch whose savepoint comes first.
      const slot =
        ordering.movable && plan.moves.length > 0 ? await session.beginWrite?.(ctx.signal) : undefined;
      try {
        moves = await performOrder(session, kind, ordering, plan, rulesByKey, ctx.signal, {
          renumber: (rule, number) => {
            deps.renumbers.request(rule.metadata.uid ?? "", number);
            deps.enqueueRule?.(kind, { namespace: key.namespace, name: rule.metadata.name ?? "" });
          },
          onMove: () => {
            if (ordering.movable) owed.add(debt);
          },
        });
      } finally {
        // Moves written (even if a later one failed) are activated: the appliance must not keep an
        // order half staged (PAN-OS candidate, pfSense pending changes).
        if (owed.has(debt)) {
          await session.activate(ctx.signal, slot ? { slot } : {});
          owed.delete(debt);
        } else {
          slot?.release();
        }
      }
      if (moves > 0) {
        const what = ordering.movable ? "moved" : "renumbering";
        ctx.log.info({ kind, moves }, "rules put in priority order");
        deps.events.normal(
          device,
          "Reordered",
          "Order",
          `${kind}: ${what} ${moves} rule(s) into the order of their priority (${plan.moves
            .slice(0, 5)
            .map((m) => m.rule)
            .join(", ")}${plan.moves.length > 5 ? ", ..." : ""})`,
        );
      }
      deps.onOrdered?.(key, kind, moves);
      const writer = status.get(kind) as StatusWriter<VnfRule>;
      for (const rule of rules) {
        // Only a rule with a priority has a place to report. Recording it for every rule cost one
        // API write per created rule and, since an insert or a delete shifts every place after it,
        // more on each change elsewhere; a rule without a priority asked for no place.
        if (rule.spec.priority === undefined) {
          if (rule.status?.position === undefined) continue;
          const { position: _dropped, ...next } = rule.status;
          await writer.write(rule, next, { signal: ctx.signal });
          continue;
        }
        const position = plan.positions.get(keyOf(rule));
        if (position === undefined || rule.status?.position === position) continue;
        const next = { ...(rule.status ?? {}), position };
        if (writer.differs(rule, next)) await writer.write(rule, next, { signal: ctx.signal });
      }
    }
    return undefined;
  };
}
