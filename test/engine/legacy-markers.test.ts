// Upgrading from markers that were the rule's uid alone (`[vnf:<uid>]`): for every vendor and rule kind,
// with the real rule reconciler and engine against the simulator, an object the older operator wrote is
// adopted and its marker rewritten in the owned form on the rule's next write — never created a second
// time, never left behind:
//   - a rule the older operator had applied (status: vendorRef, opHash of the old request, Ready);
//   - a rule whose create the older operator sent but never recorded (status: a pending intent only).
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FINALIZER } from "../../src/controllers/rule-deps.ts";
import { FieldManager } from "../../src/controllers/status-ownership.ts";
import { loadDictionaryDirectories } from "../../src/dictionary/registry.ts";
import { type SimulatorHandle, startSimulator } from "../simulators/index.ts";
import { specVariants } from "./model/commands.ts";
import { mulberry32 } from "./model/run-model.ts";
import { KINDS, repoRoot, SLOT_KINDS, World } from "./model/world.ts";
import { VENDORS } from "./vendors.ts";

const loaded = await loadDictionaryDirectories([path.join(repoRoot, "dictionaries")]);

const cases = [
  ["applied by the older operator", "applied"],
  ["created by the older operator, outcome never recorded", "pending"],
] as const;

describe.each(VENDORS)("$vendor", (row) => {
  let sim: SimulatorHandle;

  beforeAll(async () => {
    sim = await startSimulator(row.vendor, { ...row.simulator, applyDelayMs: 0 } as never);
  });
  afterAll(async () => {
    await sim.stop();
  });

  describe.each(cases)("%s", (_what, state) => {
    it.each([0, 1])("slot %i: adopted and rewritten in the owned form, never duplicated", async (slot) => {
      await sim.control.reset();
      const world = new World({ row, sim, dictionaries: loaded.registry, random: mulberry32(7) });
      try {
        const kind = SLOT_KINDS[slot] as "firewallRule" | "natRule";
        const { plural } = KINDS[kind];
        const spec = { ...(specVariants(row, kind)[0] as Record<string, unknown>), description: "from v1" };
        world.act({ type: "create", slot, spec });
        const name = world.nameOf(slot) as string;
        world.api.addFinalizer(plural, name, FINALIZER);
        const rule = world.api.get(plural, name);
        const uid = rule?.metadata.uid ?? "";
        // What the older operator wrote: the object with `[vnf:<uid>]`, and its journal.
        const range = world.session.ruleNumbers;
        const legacy = {
          spec: rule?.spec,
          marker: uid,
          ...(range ? { ruleNumber: range.min + 7 } : {}),
        };
        const before = (await world.applianceObjects(kind)).length;
        const { vendorRef } = await world.session.create(kind, legacy);
        await world.session.activate();
        const opHash = world.session.desiredOpHash(kind, legacy);
        const ruleNumber = range ? { ruleNumber: range.min + 7 } : {};
        world.api.setStatus(
          plural,
          name,
          FieldManager.rule,
          state === "applied"
            ? {
                observedGeneration: 1,
                vendorRef,
                opHash,
                ...ruleNumber,
                conditions: [
                  {
                    type: "Ready",
                    status: "True",
                    reason: "Applied",
                    message: "v1",
                    observedGeneration: 1,
                    lastTransitionTime: new Date().toISOString(),
                  },
                ],
              }
            : {
                observedGeneration: 1,
                ...ruleNumber,
                pendingOperation: {
                  operation: "create",
                  opHash,
                  attempt: 1,
                  startedAt: new Date().toISOString(),
                },
              },
        );
        expect((await world.applianceObjects(kind)).filter((o) => o.marker === uid)).toHaveLength(1);

        world.enqueueAll();
        await world.run(20);
        expect(world.queued).toBe(0);

        const objects = await world.applianceObjects(kind);
        expect(objects).toHaveLength(before + 1);
        expect(objects.filter((o) => o.marker === uid)).toEqual([]);
        const owned = objects.filter((o) => o.marker === world.ownership.markerOf(rule as never));
        expect(owned).toHaveLength(1);
        const after = world.api.get(plural, name);
        expect(after?.status?.vendorRef).toBe(owned[0]?.vendorRef);
        expect(after?.status?.pendingOperation).toBeUndefined();
        await world.checkInvariants();
      } finally {
        await world.close();
      }
    });
  });
});
