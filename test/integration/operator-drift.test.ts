// Drift detection against the pfSense simulator, with changes made behind the operator's back through
// the simulator's control API. Repair: a rule deleted on the appliance is recreated, an edited one is
// updated back, an object carrying our marker without a resource is left in place and reported (an
// Event; a copy of one of our rules looks the same, so it is never deleted). Report: the rule is
// flagged (status.drift, Drifted condition) and the appliance left alone. Unmanaged objects are
// counted (unmanaged: Report) or not (Ignore). In steady state a drift cycle (the real 10 s
// requeue, not a moved clock) writes nothing to the appliance and nothing to the API server.
import { randomUUID } from "node:crypto";
import { EventsV1Api } from "@kubernetes/client-node";
import type { Counter } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitUntil } from "../support/kube.ts";
import type { TestDevice } from "../support/operator-env.ts";
import {
  applianceWrites,
  conditionOf,
  FIREWALL,
  type KubeObj,
  lastSeq,
  markerTokenOf,
  NAT,
  type OperatorEnv,
  objectsContaining,
  ruleManifest,
  ruleMarkerText,
  sleep,
  startOperatorEnv,
  statusOf,
} from "../support/operator-env.ts";

let env: OperatorEnv;
let report: TestDevice;
const repairDevice = "pfsense-dev";

const fw = (description: string, port: string) => ({
  interface: "wan",
  action: "allow",
  protocol: "tcp",
  destination: { cidr: "10.0.10.10", port },
  description,
});

beforeAll(async () => {
  env = await startOperatorEnv({
    vendor: "pfsense",
    prefix: "op-drift",
    device: { driftDetection: { interval: "10s", mode: "Repair", unmanaged: "Report" } },
    startOperator: false,
  });
  report = await env.addDevice({
    vendor: "pfsense",
    name: "pfsense-report",
    device: { driftDetection: { interval: "10s", mode: "Report", unmanaged: "Ignore" } },
  });
  await env.startOperator();
  await env.apply(
    ruleManifest(FIREWALL, "deleted-behind", repairDevice, fw("deleted behind our back", "443")),
  );
  await env.apply(
    ruleManifest(FIREWALL, "edited-behind", repairDevice, fw("edited behind our back", "8443")),
  );
  await env.apply(
    ruleManifest(NAT, "nat-edited", repairDevice, {
      type: "dnat",
      interface: "wan",
      protocol: "tcp",
      destination: { address: "203.0.113.10", port: "443" },
      translated: { address: "10.0.10.10" },
      description: "forward edited behind our back",
    }),
  );
  await env.apply(ruleManifest(FIREWALL, "reported", report.name, fw("reported only", "22")));
  for (const [plural, name] of [
    [FIREWALL.plural, "deleted-behind"],
    [FIREWALL.plural, "edited-behind"],
    [NAT.plural, "nat-edited"],
    [FIREWALL.plural, "reported"],
  ] as const) {
    await env.waitReady(plural, name);
  }
});

afterAll(async () => {
  await env?.stop();
});

async function checksByMode(): Promise<{ Repair: number; Report: number }> {
  const counter = env.operator.manager.metrics.registry.getSingleMetric("vnf_drift_checks_total") as
    | Counter
    | undefined;
  const values = (await counter?.get())?.values ?? [];
  const of = (mode: string) => values.filter((v) => v.labels.mode === mode).reduce((n, v) => n + v.value, 0);
  return { Repair: of("Repair"), Report: of("Report") };
}

async function repairs(): Promise<number> {
  const counter = env.operator.manager.metrics.registry.getSingleMetric("vnf_drift_repairs_total") as
    | Counter
    | undefined;
  return ((await counter?.get())?.values ?? []).reduce((sum, v) => sum + v.value, 0);
}

/**
 * Waits until the rule is applied again: the drift is on record (status.drift, the drift controller's),
 * and the rule controller recorded the repair (Ready with the repair's message, nothing pending).
 */
function waitRepaired(plural: string, name: string): Promise<KubeObj> {
  return env.waitCondition(
    plural,
    name,
    (obj) => {
      const s = statusOf(obj);
      const ready = conditionOf(obj, "Ready");
      return (
        s.opHash !== undefined &&
        s.pendingOperation === undefined &&
        (s.drift as { action?: string } | undefined)?.action === "Repaired" &&
        ready?.status === "True" &&
        String(ready.message).startsWith("repaired drift on the appliance")
      );
    },
    "repaired",
  );
}

describe("drift on pfSense", () => {
  it("Repair: a rule deleted on the appliance is recreated (new vendorRef)", async () => {
    const before = await env.get(FIREWALL.plural, "deleted-behind");
    const tracker = String(statusOf(before).vendorRef);
    const repairsBefore = await repairs();
    await env.sim.control.deleteObject("firewallRule", tracker);
    expect(
      await objectsContaining(env.sim, "firewallRule", ruleMarkerText(before.metadata.uid)),
    ).toHaveLength(0);

    await env.checkDrift(repairDevice);
    await waitUntil("the rule is recreated and applied", async () =>
      (await objectsContaining(env.sim, "firewallRule", ruleMarkerText(before.metadata.uid), "running"))
        .length === 1
        ? true
        : undefined,
    );
    const after = await waitRepaired(FIREWALL.plural, "deleted-behind");
    expect(statusOf(after).vendorRef).not.toBe(tracker);
    const [object] = await objectsContaining(env.sim, "firewallRule", ruleMarkerText(before.metadata.uid));
    expect(String(object?.tracker)).toBe(statusOf(after).vendorRef);
    // Counted after the status write that the wait above saw (in this process's event loop the watch
    // can be served first): waited for, not read once.
    await waitUntil("the repair counted in vnf_drift_repairs_total", async () =>
      (await repairs()) > repairsBefore ? true : undefined,
    );
  });

  it("Repair: rules edited on the appliance are updated back in place", async () => {
    const rule = await env.get(FIREWALL.plural, "edited-behind");
    const tracker = String(statusOf(rule).vendorRef);
    await env.sim.control.updateObject("firewallRule", tracker, { type: "block", destination_port: "9999" });
    const nat = await env.get(NAT.plural, "nat-edited");
    const natView = await env.sim.control.objects("natRule");
    const natIndex = natView.candidate.findIndex((o) =>
      String(o.descr).includes(ruleMarkerText(nat.metadata.uid)),
    );
    expect(natIndex).toBeGreaterThanOrEqual(0);
    await env.sim.control.updateObject("natRule", String(natIndex), { target: "10.9.9.9" });

    await env.checkDrift(repairDevice);
    await waitUntil("the firewall rule is restored", async () => {
      const [o] = await objectsContaining(
        env.sim,
        "firewallRule",
        ruleMarkerText(rule.metadata.uid),
        "running",
      );
      return o?.type === "pass" && o.destination_port === "8443" ? o : undefined;
    });
    await waitUntil("the port forward is restored", async () => {
      const [o] = await objectsContaining(env.sim, "natRule", ruleMarkerText(nat.metadata.uid), "running");
      return o?.target === "10.0.10.10" ? o : undefined;
    });
    expect(statusOf(await waitRepaired(FIREWALL.plural, "edited-behind")).vendorRef).toBe(tracker);
    expect(statusOf(await waitRepaired(NAT.plural, "nat-edited")).vendorRef).toBe(statusOf(nat).vendorRef);
    expect(await objectsContaining(env.sim, "firewallRule", ruleMarkerText(rule.metadata.uid))).toHaveLength(
      1,
    );
  });

  it("Repair: an object with our marker but no resource is left in place and reported; unmanaged objects are counted", async () => {
    const stray = randomUUID();
    const deviceUid = (await env.get("vnfdevices", repairDevice)).metadata.uid;
    const strayRef = await env.sim.control.putObject("firewallRule", {
      type: "pass",
      interface: ["wan"],
      ipprotocol: "inet",
      protocol: "tcp",
      source: "any",
      destination: "10.0.99.1",
      destination_port: "80",
      // This installation's marker for this device, for a rule that no longer exists: a leftover of
      // ours, or a copy of one of our rules made on the appliance — nothing tells which.
      descr: `left by a crashed run ${markerTokenOf(deviceUid, stray)}`,
    });
    await env.sim.control.putObject("firewallRule", {
      type: "pass",
      interface: ["lan"],
      ipprotocol: "inet",
      protocol: "tcp",
      source: "any",
      destination: "10.0.99.2",
      destination_port: "80",
      descr: "made by an administrator",
    });
    const since = await lastSeq(env.sim);
    await env.checkDrift(repairDevice);
    await env.checkDrift(repairDevice);
    expect(await objectsContaining(env.sim, "firewallRule", ruleMarkerText(stray))).toHaveLength(1);
    expect(await objectsContaining(env.sim, "firewallRule", "made by an administrator")).toHaveLength(1);
    const deletes = (await env.sim.control.requests({ method: "DELETE" })).filter((r) => r.seq > since);
    expect(deletes).toEqual([]);
    // Reported on the device, naming it: a person decides.
    const reports = await waitUntil("an OrphansFound Event naming the stray", async () => {
      const events = await env.kc
        .makeApiClient(EventsV1Api)
        .listNamespacedEvent({ namespace: env.namespace });
      const found = events.items.filter(
        (e) => e.reason === "OrphansFound" && String(e.note).includes(strayRef),
      );
      return found.length > 0 ? found : undefined;
    });
    expect(reports[0]?.type).toBe("Warning");
    // pfSense's two factory LAN rules, the administrator's rule and the stray; port forwards: none.
    const device = await env.get("vnfdevices", repairDevice);
    expect(statusOf(device).unmanagedObjects).toBe(4);
  });

  it("Report: a drifted rule is flagged (status.drift, Drifted) and the appliance left alone", async () => {
    const rule = await env.get(FIREWALL.plural, "reported");
    const tracker = String(statusOf(rule).vendorRef);
    await report.sim.control.updateObject("firewallRule", tracker, { type: "block" });
    const seq = await lastSeq(report.sim);

    await env.checkDrift(report.name);
    const flagged = await env.waitCondition(
      FIREWALL.plural,
      "reported",
      (obj) => conditionOf(obj, "Drifted")?.status === "True",
      "Drifted",
    );
    const drift = statusOf(flagged).drift as { action?: string; fields?: string[] };
    expect(drift.action).toBe("Reported");
    expect(drift.fields).toEqual(["action"]);
    // Found again, unchanged: nothing is written, not even lastDriftCheckTime.
    const versions = async () => [
      (await env.get(FIREWALL.plural, "reported")).metadata.resourceVersion,
      (await env.get("vnfdevices", report.name)).metadata.resourceVersion,
    ];
    const flaggedVersions = await versions();
    await env.checkDrift(report.name);
    expect(await versions()).toEqual(flaggedVersions);
    expect(await applianceWrites(report.sim, seq)).toEqual([]);
    const [object] = await objectsContaining(report.sim, "firewallRule", ruleMarkerText(rule.metadata.uid));
    expect(object?.type).toBe("block");
    // unmanaged: Ignore → not counted.
    expect(statusOf(await env.get("vnfdevices", report.name)).unmanagedObjects).toBeUndefined();

    // Put back by hand: the flag goes away at the next check.
    await report.sim.control.updateObject("firewallRule", tracker, { type: "pass" });
    await env.checkDrift(report.name);
    const cleared = await env.waitCondition(
      FIREWALL.plural,
      "reported",
      (obj) => conditionOf(obj, "Drifted") === undefined && statusOf(obj).drift === undefined,
      "drift flag cleared",
    );
    expect(conditionOf(cleared, "Ready")?.status).toBe("True");
  });

  it("a rule created while a drift check runs is not taken for an orphan of ours", async () => {
    // The check lists firewall rules slowly; meanwhile a NAT rule is created and applied, then the
    // check lists NAT rules and finds its object.
    await env.sim.control.injectFault({
      kind: "latency",
      ms: 1_500,
      method: "GET",
      pathPrefix: "/api/v2/firewall/rules",
      times: 1,
    });
    const seq = await lastSeq(env.sim);
    const check = env.checkDrift(repairDevice);
    await sleep(200);
    await env.apply(
      ruleManifest(NAT, "created-mid-check", repairDevice, {
        type: "dnat",
        interface: "wan",
        protocol: "tcp",
        destination: { address: "203.0.113.11", port: "8080" },
        translated: { address: "10.0.10.11" },
        description: "created during a drift check",
      }),
    );
    await check;
    const rule = await env.waitReady(NAT.plural, "created-mid-check");
    await env.checkDrift(repairDevice);
    expect(
      await objectsContaining(env.sim, "natRule", ruleMarkerText(rule.metadata.uid), "running"),
    ).toHaveLength(1);
    const log = await env.sim.control.requests();
    expect(log.filter((r) => r.seq > seq && r.method === "DELETE")).toEqual([]);
    // The slow list did overlap the rule's creation.
    const list = log.find((r) => r.seq > seq && r.fault === "latency");
    const create = log.find(
      (r) => r.seq > seq && r.method === "POST" && r.path === "/api/v2/firewall/nat/port_forward",
    );
    expect(list && create && Date.parse(create.time) >= Date.parse(list.time)).toBe(true);
  });

  it("steady state: one real drift cycle writes nothing to the appliance nor to the API server", async () => {
    // Let the repairs above settle, then take a snapshot.
    const names = [
      [FIREWALL.plural, "deleted-behind"],
      [FIREWALL.plural, "edited-behind"],
      [NAT.plural, "nat-edited"],
      [NAT.plural, "created-mid-check"],
      [FIREWALL.plural, "reported"],
      ["vnfdevices", repairDevice],
      ["vnfdevices", report.name],
    ] as const;
    const versions = async () =>
      Promise.all(
        names.map(async ([plural, name]) => (await env.get(plural, name)).metadata.resourceVersion),
      );
    const { firewallRule, natRule, order } = env.operator.controllers;
    // Settled means: the repairs' rule writes done, the order step that follows each write (a second
    // later) done, and every status written — then the checks record that state.
    const settle = async () => {
      await waitUntil("rule and order queues idle", async () =>
        [firewallRule, natRule, order].every(
          (c) => c.queue.len() + c.queue.delayedLen() + c.queue.processingLen() === 0,
        )
          ? true
          : undefined,
      );
      let previous = "";
      await waitUntil(
        "statuses unchanged for 1.5 s",
        async () => {
          const now = JSON.stringify(await versions());
          const settled = now === previous;
          previous = now;
          return settled ? true : undefined;
        },
        20_000,
        1_500,
      );
    };
    await settle();
    await env.checkDrift(repairDevice);
    await env.checkDrift(report.name);
    await settle();
    const before = await versions();
    const seqRepair = await lastSeq(env.sim);
    const seqReport = await lastSeq(report.sim);
    let apiWrites = 0;
    const unobserve = env.operator.manager.http.observe((r) => {
      if (r.method !== "GET") apiWrites++;
    });
    // The repair device checks in mode Repair, the report device in mode Report.
    const checksBefore = await checksByMode();
    let repairChecks = 0;
    try {
      // Both devices' own 10 s requeue (the drift clock is not moved here). The repair device may
      // check more than once meanwhile (checkDrift moved the clock, so any event of it runs one now).
      await waitUntil(
        "one real drift cycle of both devices",
        async () => {
          const now = await checksByMode();
          repairChecks = now.Repair - checksBefore.Repair;
          return repairChecks >= 1 && now.Report - checksBefore.Report >= 1 ? true : undefined;
        },
        25_000,
        200,
      );
    } finally {
      unobserve();
    }
    expect(await applianceWrites(env.sim, seqRepair)).toEqual([]);
    expect(await applianceWrites(report.sim, seqReport)).toEqual([]);
    expect(apiWrites).toBe(0);
    expect(await versions()).toEqual(before);
    const cycle = (await env.sim.control.requests()).filter((r) => r.seq > seqRepair);
    const byCall = new Map<string, number>();
    for (const r of cycle)
      byCall.set(`${r.method} ${r.path}`, (byCall.get(`${r.method} ${r.path}`) ?? 0) + 1);
    console.log(
      `steady-state calls on one device over one drift cycle: ${JSON.stringify(Object.fromEntries(byCall))}`,
    );
    // One bulk list per rule kind and check (for NAT rules, one per pfSense NAT table), nothing else.
    const lists = byCall.get("GET /api/v2/firewall/rules") ?? 0;
    expect(lists).toBeGreaterThanOrEqual(repairChecks);
    expect(lists).toBeLessThanOrEqual(repairChecks + 1); // a check that started as the window closed
    for (const table of ["port_forwards", "outbound/mappings", "one_to_one/mappings"])
      expect(byCall.get(`GET /api/v2/firewall/nat/${table}`)).toBe(lists);
    expect(byCall.size).toBe(4);
  });
});
