// The three ways users broke "each rule exists on its appliance exactly once", replayed with the real
// API server, the operator (in-process as `vnf-operator run` assembles it, and as a child process that
// is SIGKILLed) and every vendor's simulator:
//   1. each rule's description edited 0.5 s after its create, no crash at all;
//   2. the operator killed once the creates landed, the rules edited, the operator restarted;
//   3. appliance faults (5xx, writes committed whose answer is lost) during creates, edits and deletes.
// After each, once the rules settle: every rule has exactly one appliance object carrying its marker
// (holding its current description), every deleted rule has none, no object carrying this
// installation's marker for the device lacks a rule, and no rule is stuck deleting.
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ownershipOf } from "../../src/controllers/markers.ts";
import { readMarker } from "../../src/dictionary/rule-input.ts";
import { caseOf, VENDORS, type VendorRow } from "../engine/vendors.ts";
import type { Fault, SimulatorVendor, VendorObject } from "../simulators/index.ts";
import { kubeconfigPath, waitUntil } from "../support/kube.ts";
import {
  conditionOf,
  FIREWALL,
  GROUP,
  type KubeObj,
  markerOf,
  NAT,
  type OperatorEnv,
  type RuleKindInfo,
  ruleMarkerText,
  sleep,
  startOperatorEnv,
  statusOf,
  TEST_INSTALLATION_ID,
  VERSION,
} from "../support/operator-env.ts";
import { spawnOperator } from "../support/operator-process.ts";

type SimKind = "firewallRule" | "natRule";

/** Nothing staged for this long after the rules settled: the order step and its apply are done. */
const QUIET_MS = 2_500;

/**
 * The i-th distinct rule of a kind for a vendor: the vendor's sample rule, a firewall rule to its own
 * host (services stay the vendor's predefined ones), a NAT rule on its own port.
 */
function specOf(row: VendorRow, kind: SimKind, i: number, description: string): Record<string, unknown> {
  const base = structuredClone(caseOf(row, kind).create) as Record<string, unknown> & {
    destination?: Record<string, unknown>;
  };
  const destination = { ...(base.destination ?? {}) };
  if (kind === "firewallRule") destination.cidr = `198.18.${Math.floor(i / 250)}.${(i % 250) + 1}`;
  else destination.port = String(20_000 + i);
  return { ...base, destination, description };
}

/** Writes to the API server directly (kubectl would cost a process per call). */
class Rules {
  readonly api: CustomObjectsApi;
  readonly env: OperatorEnv;
  /** Every rule ever created here: kind, name, uid. */
  readonly created: Array<{ kind: RuleKindInfo; simKind: SimKind; name: string; uid: string }> = [];

  constructor(env: OperatorEnv) {
    this.env = env;
    this.api = env.kc.makeApiClient(CustomObjectsApi);
  }

  async create(kind: RuleKindInfo, simKind: SimKind, name: string, spec: Record<string, unknown>) {
    const obj = (await this.api.createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: this.env.namespace,
      plural: kind.plural,
      body: {
        apiVersion: `${GROUP}/${VERSION}`,
        kind: kind.kind,
        metadata: { name },
        spec: { deviceRef: { name: this.env.deviceName }, ...spec },
      },
    })) as KubeObj;
    this.created.push({ kind, simKind, name, uid: obj.metadata.uid });
  }

  async describe(kind: RuleKindInfo, name: string, description: string) {
    await this.api.patchNamespacedCustomObject(
      {
        group: GROUP,
        version: VERSION,
        namespace: this.env.namespace,
        plural: kind.plural,
        name,
        body: { spec: { description } },
      },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
  }

  /** Changes the device's spec (a merge patch). */
  async device(spec: Record<string, unknown>) {
    await this.api.patchNamespacedCustomObject(
      {
        group: GROUP,
        version: VERSION,
        namespace: this.env.namespace,
        plural: "vnfdevices",
        name: this.env.deviceName,
        body: { spec },
      },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
  }

  async delete(kind: RuleKindInfo, name: string) {
    await this.api.deleteNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: this.env.namespace,
      plural: kind.plural,
      name,
    });
  }

  /**
   * Until every existing rule is Ready for its generation with nothing pending and deleted ones are
   * gone, and, on a staged appliance, no change has been waiting for activation for QUIET_MS. Ready
   * says a rule's write is on the appliance and activated; the device's order step (moves with their
   * own savepoint and apply, design.md "When it runs") follows a second after rule writes, outside any
   * rule's Ready: an audit at the first Ready caught its moves written and not yet applied. Changes
   * still staged QUIET_MS after the rules settled, and up to the timeout, fail the wait.
   */
  async settle(row: VendorRow, timeoutMs = 90_000): Promise<void> {
    let waitingFor = "";
    let quietSince: number | undefined;
    try {
      await waitUntil(
        "every rule settled (Ready for its generation, nothing pending) and every deleted rule gone",
        async () => {
          for (const { kind, name } of this.created) {
            const obj = await this.env.find<KubeObj>(kind.plural, name);
            if (!obj) continue;
            const ready = conditionOf(obj, "Ready");
            waitingFor = `${name}: ${JSON.stringify(obj.status ?? {})}`;
            if ((obj.metadata as { deletionTimestamp?: string }).deletionTimestamp) return undefined;
            if (ready?.status !== "True" || Number(ready.observedGeneration) !== obj.metadata.generation)
              return undefined;
            if (statusOf(obj).pendingOperation !== undefined) return undefined;
          }
          if (row.activation !== "staged") return true;
          const views = await Promise.all(
            (["firewallRule", "natRule"] as const).map((k) =>
              this.env.sim.control.objects(caseOf(row, k).stored.controlKind),
            ),
          );
          if (views.some((view) => view.pending)) {
            quietSince = undefined;
            waitingFor = "the appliance's staged changes to be activated";
            return undefined;
          }
          quietSince ??= Date.now();
          waitingFor = `no change staged on the appliance for ${QUIET_MS} ms`;
          return Date.now() - quietSince >= QUIET_MS ? true : undefined;
        },
        timeoutMs,
        250,
      );
    } catch (error) {
      throw new Error(`${(error as Error).message}; still waiting for ${waitingFor}`);
    }
  }

  /**
   * Zero duplicates, zero orphans, per kind: what the simulator holds (its own configuration, not read
   * through the operator's dictionary).
   */
  async audit(row: VendorRow): Promise<string[]> {
    const problems: string[] = [];
    const device = await this.env.get<KubeObj>("vnfdevices", this.env.deviceName);
    const owner = { installationId: TEST_INSTALLATION_ID, deviceUid: device.metadata.uid };
    for (const simKind of ["firewallRule", "natRule"] as const) {
      const access = caseOf(row, simKind).stored;
      const view = await this.env.sim.control.objects(access.controlKind);
      const objects: VendorObject[] = row.activation === "staged" ? view.candidate : view.running;
      const text = (o: VendorObject) => String(access.description(o) ?? "");
      const live = new Set<string>();
      for (const { kind, name, uid } of this.created.filter((c) => c.simKind === simKind)) {
        const mine = objects.filter(
          (o) => text(o).includes(ruleMarkerText(uid)) || text(o).includes(`[vnf:${uid}]`),
        );
        const obj = await this.env.find<KubeObj>(kind.plural, name);
        if (!obj) {
          if (mine.length > 0)
            problems.push(`${simKind} ${name}: deleted, yet ${mine.length} object(s) left (orphans)`);
          continue;
        }
        live.add(markerOf(owner.deviceUid, uid));
        if (mine.length !== 1) {
          problems.push(`${simKind} ${name}: ${mine.length} appliance objects carry its marker`);
          continue;
        }
        const description = String((obj.spec as { description?: string }).description ?? "");
        const expected = `${description} [vnf:${markerOf(owner.deviceUid, uid)}]`;
        if (text(mine[0] as VendorObject).trim() !== expected.trim())
          problems.push(
            `${simKind} ${name}: holds ${JSON.stringify(text(mine[0] as VendorObject))}, not ${JSON.stringify(expected)}`,
          );
      }
      // Rules of the earlier cases on this device are alive too: their objects are no orphans.
      const plural = simKind === "firewallRule" ? FIREWALL.plural : NAT.plural;
      const all = (await this.api.listNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace: this.env.namespace,
        plural,
      })) as { items: KubeObj[] };
      for (const item of all.items) live.add(markerOf(owner.deviceUid, item.metadata.uid));
      for (const o of objects) {
        const marker = readMarker(text(o));
        if (ownershipOf(owner, marker).owner === "ours" && !live.has(marker ?? ""))
          problems.push(`${simKind}: an object carries our marker ${marker} but no rule has it`);
      }
      if (row.activation === "staged" && view.pending) {
        const writes = (await this.env.sim.control.requests()).filter((r) => r.method !== "GET").slice(-8);
        problems.push(
          `${simKind}: changes left unactivated on the appliance; the last requests: ${writes
            .map((r) => `${r.time} ${r.method} ${r.path} ${r.status ?? r.outcome}`)
            .join("; ")}`,
        );
      }
    }
    return problems;
  }
}

// One row per simulator (the OPNsense 25.7 row differs in NAT types only, which the engine suites cover).
const rows = VENDORS.filter((r) => r.variant === undefined);

describe.each(rows)("exactly once on $vendor", (row) => {
  let env: OperatorEnv;
  const vendor: SimulatorVendor = row.vendor;

  beforeAll(async () => {
    env = await startOperatorEnv({
      vendor,
      prefix: `once-${vendor}`,
      startOperator: false,
      ...(row.parameters ? { device: { parameters: row.parameters } } : {}),
      simulator: { ...row.simulator, ...(vendor === "panos" ? { applyDelayMs: 50 } : {}) },
      operator: { healthIntervalMs: 1_000 },
    });
  });

  afterAll(async () => {
    await env?.stop();
  });

  it("1. each description edited 0.5 s after its create: no duplicate, no orphan", {
    timeout: 180_000,
  }, async () => {
    const rules = new Rules(env);
    await env.startOperator();
    await env.waitReady("vnfdevices", env.deviceName);
    const plan: Array<[RuleKindInfo, SimKind]> = [
      [FIREWALL, "firewallRule"],
      [FIREWALL, "firewallRule"],
      [FIREWALL, "firewallRule"],
      [FIREWALL, "firewallRule"],
      [NAT, "natRule"],
      [NAT, "natRule"],
    ];
    await Promise.all(
      plan.map(async ([kind, simKind], i) => {
        const name = `edit-${simKind.toLowerCase()}-${i}`;
        await rules.create(kind, simKind, name, specOf(row, simKind, i, `first ${i}`));
        await sleep(500);
        await rules.describe(kind, name, `edited ${i}`);
      }),
    );
    await rules.settle(row);
    expect(await rules.audit(row)).toEqual([]);
    await env.operator.stop();
  });

  it("2. operator killed after the creates landed, rules edited, operator restarted: no duplicate", {
    timeout: 180_000,
  }, async () => {
    const rules = new Rules(env);
    // A long activation window: the creates sit on the appliance, their outcome not yet recorded.
    await rules.device({ activation: { mode: "Batched", batchWindow: "3s" } });
    const first = await spawnOperator({ kubeconfig: kubeconfigPath(), namespaces: [env.namespace] });
    const plan: Array<[RuleKindInfo, SimKind]> = [
      [FIREWALL, "firewallRule"],
      [FIREWALL, "firewallRule"],
      [FIREWALL, "firewallRule"],
      [NAT, "natRule"],
    ];
    for (const [i, [kind, simKind]] of plan.entries()) {
      await rules.create(
        kind,
        simKind,
        `crash-${simKind.toLowerCase()}-${i}`,
        specOf(row, simKind, 40 + i, `before ${i}`),
      );
    }
    const view = async (simKind: SimKind) => {
      const v = await env.sim.control.objects(caseOf(row, simKind).stored.controlKind);
      return [...v.candidate, ...v.running].map((o) =>
        String(caseOf(row, simKind).stored.description(o) ?? ""),
      );
    };
    await waitUntil(
      "every create landed on the appliance",
      async () => {
        for (const { simKind, uid } of rules.created) {
          if (!(await view(simKind)).some((t) => t.includes(ruleMarkerText(uid)))) return undefined;
        }
        return true;
      },
      60_000,
      50,
    );
    await first.kill();
    for (const [i, { kind, name }] of rules.created.entries()) await rules.describe(kind, name, `after ${i}`);
    const second = await spawnOperator({ kubeconfig: kubeconfigPath(), namespaces: [env.namespace] });
    try {
      await rules.settle(row);
      expect(await rules.audit(row)).toEqual([]);
    } finally {
      await second.stop();
    }
  });

  it("3. appliance faults during creates, edits and deletes: no duplicate, no orphan, nothing stuck", {
    timeout: 240_000,
  }, async () => {
    const rules = new Rules(env);
    // A lost answer is waited for as long as the device's request timeout: short here, so the case
    // is about what follows a timeout, not about waiting for one (the default is a minute or more).
    await rules.device({
      activation: { mode: "Immediate", batchWindow: null },
      limits: { requestTimeout: "5s" },
    });
    await env.startOperator();
    await env.waitReady("vnfdevices", env.deviceName);
    const faults: Fault[] = [
      { kind: "lostAnswer", method: "POST", times: 2 },
      { kind: "status", status: 500, times: 2 },
      { kind: "lostAnswer", reset: true, times: 1 },
      { kind: "status", status: 503, times: 1 },
    ];
    for (const fault of faults) await env.sim.control.injectFault(fault);
    const plan: Array<[RuleKindInfo, SimKind]> = [
      [FIREWALL, "firewallRule"],
      [FIREWALL, "firewallRule"],
      [FIREWALL, "firewallRule"],
      [FIREWALL, "firewallRule"],
      [FIREWALL, "firewallRule"],
      [NAT, "natRule"],
      [NAT, "natRule"],
      [NAT, "natRule"],
    ];
    await Promise.all(
      plan.map(async ([kind, simKind], i) => {
        const name = `fault-${simKind.toLowerCase()}-${i}`;
        await rules.create(kind, simKind, name, specOf(row, simKind, 80 + i, `faulty ${i}`));
        await sleep(200 + 150 * i);
        if (i % 2 === 0) await rules.describe(kind, name, `faulty edit ${i}`);
        if (i % 3 === 1) {
          await env.sim.control.injectFault({ kind: "lostAnswer", times: 1 });
          await rules.delete(kind, name);
        }
      }),
    );
    await sleep(1_000);
    await env.sim.control.clearFaults();
    await rules.settle(row, 120_000);
    expect(await rules.audit(row)).toEqual([]);
  });
});
