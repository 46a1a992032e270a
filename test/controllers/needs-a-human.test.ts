// States that need a person, and how they end. GitOps tools can only stop waiting early for what the
// object says is Stalled (kstatus: Failed; Argo CD: Degraded), so every state that cannot clear without a
// person is Stalled=True with a reason and a message that says what to do: a missing Secret, a missing
// device after the grace period GitOps ordering needs, refused credentials, an invalid spec, a blocked
// deletion. None of them is forever: each clears by itself when its cause goes away (a Secret or device
// created, the appliance accepting again), is tried again on a long capped backoff, and at once when its
// device's health goes from failing to passing. A suspended device and its rules are Suspended=True
// without Ready (kstatus: Current, Argo CD: Suspended): neither tool waits on them nor calls them healthy.
import { describe, expect, it } from "vitest";
import { resourceTypes as resources } from "../../src/api/group.ts";
import type { VnfDevice, VnfRule } from "../../src/api/types.ts";
import { CoreResources, type KubeObject, type ResourceType } from "../../src/runtime/resource.ts";
import { opHashOf, vnfError } from "./fakes/fake-session.ts";
import {
  conditionsOf,
  device,
  FIREWALL_SPEC,
  NOW,
  NS,
  readyCondition,
  rule,
  STALLED_RETRY,
  secret,
  T0,
  type World,
  world,
} from "./fakes/world.ts";

const HASH = opHashOf({ spec: FIREWALL_SPEC, marker: "uid-web" });
/** 30 s before NOW: 90 s of the grace period left. */
const RECENT = new Date(NOW.getTime() - 30_000).toISOString().replace(/\.\d{3}Z$/, "Z");
const DEVICE_KEY = { namespace: NS, name: "edge" };

const applied = (): VnfRule["status"] => ({
  observedGeneration: 1,
  vendorRef: "7",
  opHash: HASH,
  appliedAt: T0,
  lastSyncTime: T0,
  conditions: [{ ...readyCondition(), reason: "Applied" }],
});

function ruleWorld(
  r: VnfRule,
  d: VnfDevice | null = device(),
  session: "ready" | "notReady" | "none" = "ready",
): World {
  const objects: Array<[ResourceType, KubeObject]> = [
    [CoreResources.secrets, secret()],
    [resources.firewallRule, r],
  ];
  if (d) objects.push([resources.device, d]);
  return world(objects, { session });
}

function messageOf(
  obj: { status?: { conditions?: { type: string; message: string }[] } } | undefined,
  type: string,
) {
  return obj?.status?.conditions?.find((c) => c.type === type)?.message ?? "";
}

const stalledDevice = (reason: string, message: string) =>
  device(
    {},
    {
      observedGeneration: 1,
      errorCode: "VNF_AUTH",
      conditions: [
        { ...readyCondition(), status: "False", reason, message },
        { ...readyCondition(), type: "Stalled", reason, message },
      ],
    },
  );

describe("rules: a missing device", () => {
  it("within the grace period: waits (Ready=False DeviceNotFound, InProgress), looked at again when it ends", async () => {
    const w = ruleWorld(rule({ created: RECENT }), null, "none");
    expect(await w.reconcileRule()).toEqual({ requeueAfterMs: 90_000 });
    expect(conditionsOf(w.rule())).toEqual(["Ready=False/DeviceNotFound"]);
    expect(w.session.calls).toEqual([]);
  });

  it("past the grace period: Stalled DeviceNotFound, saying what to do", async () => {
    const w = ruleWorld(rule({ created: T0 }), null, "none");
    expect(await w.reconcileRule()).toEqual({ requeueAfterMs: STALLED_RETRY.initialMs });
    expect(conditionsOf(w.rule())).toEqual(["Ready=False/DeviceNotFound", "Stalled=True/DeviceNotFound"]);
    expect(messageOf(w.rule(), "Stalled")).toMatch(
      /VnfDevice edge does not exist in namespace prod.*create it.*spec\.deviceRef is immutable/,
    );
  });

  it("the device appears after the rule was Stalled: the rule converges by itself", async () => {
    const w = ruleWorld(rule({ created: T0 }), null, "none");
    await w.reconcileRule();
    w.kube.add(resources.device, device());
    await w.sessions.ensure(
      {
        device: DEVICE_KEY,
        vendor: "pfsense",
        dictionary: "pfsense",
        endpoint: "https://192.0.2.1",
        credentials: {},
        parameters: {},
        activation: { mode: "Immediate", batchWindowMs: 0 },
        epoch: w.session.epoch,
      },
      `pfsense|${w.session.epoch}`,
    );
    w.sessions.markReady(DEVICE_KEY, true);
    await w.reconcileRule(); // the device's add event re-queues its rules
    expect(conditionsOf(w.rule())).toEqual(["Ready=True/Applied"]);
    expect(w.session.calls).toEqual(["create firewallRule", "activate"]);
  });
});

describe("rules: a device that needs a person, or is suspended", () => {
  it("the device is Stalled (refused credentials): the rule is Stalled DeviceStalled, naming the device's problem", async () => {
    const w = ruleWorld(
      rule({ status: applied() }),
      stalledDevice("VNF_AUTH", "the appliance refused the credentials in Secret creds"),
      "notReady",
    );
    await w.reconcileRule();
    expect(conditionsOf(w.rule())).toEqual(["Ready=False/DeviceStalled", "Stalled=True/DeviceStalled"]);
    expect(messageOf(w.rule(), "Stalled")).toMatch(
      /VnfDevice edge.*VNF_AUTH.*Secret creds.*resumes by itself/,
    );
    expect(w.session.calls).toEqual([]);
  });

  it("the device is suspended: Suspended=True DeviceSuspended and no Ready (kstatus Current, Argo CD Suspended)", async () => {
    const w = ruleWorld(rule({ status: applied() }), device({ suspend: true }));
    expect(await w.reconcileRule()).toBeUndefined();
    expect(conditionsOf(w.rule())).toEqual(["Suspended=True/DeviceSuspended"]);
    expect(w.rule()?.status?.observedGeneration).toBe(1);
    expect(w.session.calls).toEqual([]);
  });

  it("the device resumes: the rule is Ready again, Suspended gone", async () => {
    const w = ruleWorld(rule({ status: applied() }), device({ suspend: true }));
    await w.reconcileRule();
    // Resumed (generation 2), and the device controller found it healthy again.
    w.kube.edit<VnfDevice>(resources.device, NS, "edge", (d) => {
      d.spec.suspend = false;
      d.status = { observedGeneration: 2, conditions: [readyCondition(2)] };
    });
    await w.reconcileRule();
    expect(conditionsOf(w.rule())).toEqual(["Ready=True/Applied"]);
  });
});

describe("rules: refused credentials are the device's problem first", () => {
  it("a create refused with VNF_AUTH (after the session's fresh login) asks the device to check its credentials again; the rule is not Stalled", async () => {
    const w = ruleWorld(rule());
    w.session.script("create", vnfError("VNF_AUTH"));
    expect(await w.reconcileRule()).toEqual({ requeue: true });
    expect(conditionsOf(w.rule())).toEqual(["Ready=False/VNF_AUTH", "Reconciling=True/CredentialsRecheck"]);
    expect(w.enqueued).toEqual(["recheck edge"]);
    expect(w.sessions.get(DEVICE_KEY)).toBeUndefined(); // no rule uses it until the device checked it
  });

  it("refused again after the device passed that check: Stalled VNF_AUTH (the account may lack the permission), tried again later", async () => {
    const w = ruleWorld(rule());
    w.session.script("create", vnfError("VNF_AUTH"), vnfError("VNF_AUTH"));
    await w.reconcileRule();
    w.sessions.markReady(DEVICE_KEY, true); // the device's health check passed
    expect(await w.reconcileRule()).toEqual({ requeueAfterMs: STALLED_RETRY.initialMs });
    expect(conditionsOf(w.rule())).toEqual(["Ready=False/VNF_AUTH", "Stalled=True/VNF_AUTH"]);
    expect(messageOf(w.rule(), "Stalled")).toMatch(/permission/);
    expect(w.enqueued).toEqual(["recheck edge"]);
  });

  it("a delete refused with VNF_AUTH: the device checks again, the finalizer stays, the deletion is retried", async () => {
    const w = ruleWorld(rule({ deleting: true, status: applied() }));
    w.session.put("firewallRule", { spec: FIREWALL_SPEC, marker: "uid-web" }, "7");
    w.session.script("delete", vnfError("VNF_AUTH"));
    expect(await w.reconcileRule()).toEqual({ requeue: true });
    expect(w.enqueued).toEqual(["recheck edge"]);
    expect(w.rule()?.metadata.finalizers).toEqual(["vnf-operator.io/cleanup"]);
  });
});

describe("Stalled is not forever", () => {
  it("a stalled rule is tried again after a long backoff (1 min, doubling), not on unrelated events", async () => {
    const w = ruleWorld(rule());
    w.session.script("create", vnfError("VNF_INVALID"), vnfError("VNF_INVALID"));
    expect(await w.reconcileRule()).toEqual({ requeueAfterMs: 60_000 });
    expect(conditionsOf(w.rule())).toContain("Stalled=True/VNF_INVALID");
    w.advance(10_000);
    expect(await w.reconcileRule()).toEqual({ requeueAfterMs: 50_000 }); // e.g. a label changed
    expect(w.session.calls).toEqual(["create firewallRule"]);
    w.advance(50_000);
    expect(await w.reconcileRule()).toEqual({ requeueAfterMs: 120_000 });
    expect(w.session.calls).toEqual([
      "create firewallRule",
      "findByMarker firewallRule",
      "create firewallRule",
    ]);
    w.advance(120_000);
    await w.reconcileRule(); // the appliance accepts it now
    expect(conditionsOf(w.rule())).toEqual(["Ready=True/Applied"]);
  });

  it("a stalled rule is tried again at once when its device's health goes from failing to passing", async () => {
    const w = ruleWorld(rule());
    w.session.script("create", vnfError("VNF_CONFLICT"));
    await w.reconcileRule();
    expect(conditionsOf(w.rule())).toContain("Stalled=True/VNF_CONFLICT");
    w.advance(5_000);
    // The device failed a health check and passed the next one (its Ready flipped back to True now).
    w.kube.edit<VnfDevice>(resources.device, NS, "edge", (d) => {
      d.status = {
        observedGeneration: 1,
        conditions: [
          { ...readyCondition(), lastTransitionTime: new Date(NOW.getTime() + 5_000).toISOString() },
        ],
      };
    });
    await w.reconcileRule();
    expect(conditionsOf(w.rule())).toEqual(["Ready=True/Applied"]);
  });

  it("a stalled deletion (refused twice) resumes when the appliance accepts it again", async () => {
    const w = ruleWorld(rule({ deleting: true, status: applied() }));
    w.session.put("firewallRule", { spec: FIREWALL_SPEC, marker: "uid-web" }, "7");
    w.session.script("delete", vnfError("VNF_AUTH"), vnfError("VNF_AUTH"));
    await w.reconcileRule();
    w.sessions.markReady(DEVICE_KEY, true);
    expect(await w.reconcileRule()).toEqual({ requeueAfterMs: 60_000 });
    expect(conditionsOf(w.rule())).toEqual(["Ready=False/VNF_AUTH", "Stalled=True/VNF_AUTH"]);
    w.advance(60_000); // the appliance was fixed meanwhile
    await w.reconcileRule();
    expect(w.rule()).toBeUndefined(); // finalizer released, the rule gone
    expect(w.session.objects.size).toBe(0);
  });
});

describe("devices: Secrets and credentials", () => {
  const deviceWorld = (d: VnfDevice, withSecret = true) =>
    world(
      [[resources.device, d], ...(withSecret ? ([[CoreResources.secrets, secret()]] as const) : [])] as Array<
        [ResourceType, KubeObject]
      >,
      { session: "none" },
    );

  it("credentials Secret missing within the grace period: Ready=False CredentialsNotFound, looked at again when it ends", async () => {
    const w = deviceWorld(device({}, {}, { created: RECENT }), false);
    expect(await w.reconcileDevice()).toEqual({ requeueAfterMs: 90_000 });
    expect(conditionsOf(w.device())).toEqual(["Ready=False/CredentialsNotFound"]);
  });

  it("credentials Secret missing past the grace period: Stalled CredentialsNotFound, saying what to create", async () => {
    const w = deviceWorld(device({}, {}, { created: T0 }), false);
    expect(await w.reconcileDevice()).toEqual({ requeueAfterMs: 60_000 });
    expect(conditionsOf(w.device())).toEqual([
      "Ready=False/CredentialsNotFound",
      "Stalled=True/CredentialsNotFound",
    ]);
    expect(messageOf(w.device(), "Stalled")).toMatch(/Secret prod\/creds.*does not exist.*create it/);
    // Created: the device recovers by itself (the Secret's event re-queues it).
    w.kube.add(CoreResources.secrets, secret());
    await w.reconcileDevice();
    expect(conditionsOf(w.device())).toEqual(["Ready=True/HealthCheckPassed"]);
  });

  it("CA Secret missing past the grace period: Stalled CaNotFound", async () => {
    const w = deviceWorld(device({ tls: { caSecretRef: { name: "ca" } } }, {}, { created: T0 }));
    await w.reconcileDevice();
    expect(conditionsOf(w.device())).toEqual(["Ready=False/CaNotFound", "Stalled=True/CaNotFound"]);
  });

  it("credentials refused (after a fresh login): Stalled VNF_AUTH naming the Secret, checked again after the backoff, recovering by itself", async () => {
    const w = deviceWorld(device({}, {}));
    w.session.script("health", vnfError("VNF_AUTH"));
    expect(await w.reconcileDevice()).toEqual({ requeueAfterMs: 60_000 });
    expect(conditionsOf(w.device())).toEqual(["Ready=False/VNF_AUTH", "Stalled=True/VNF_AUTH"]);
    expect(messageOf(w.device(), "Stalled")).toMatch(/Secret creds/);
    w.advance(60_000); // the account was fixed on the appliance
    expect(await w.reconcileDevice()).toEqual({ requeueAfterMs: 60_000 });
    expect(conditionsOf(w.device())).toEqual(["Ready=True/HealthCheckPassed"]);
    expect(w.enqueued).toContain("session ready edge");
  });
});

describe("devices: suspended", () => {
  it("no appliance call, session closed, Suspended=True and no Ready (kstatus Current, Argo CD Suspended)", async () => {
    const w = world(
      [
        [
          resources.device,
          device({ suspend: true }, { observedGeneration: 1, conditions: [readyCondition()] }),
        ],
        [CoreResources.secrets, secret()],
      ],
      {},
    );
    expect(await w.reconcileDevice()).toBeUndefined();
    expect(w.session.calls).toEqual([]);
    expect(w.sessions.any(DEVICE_KEY)).toBeUndefined();
    expect(conditionsOf(w.device())).toEqual(["Suspended=True/Suspended"]);
    expect(messageOf(w.device(), "Suspended")).toMatch(/spec\.suspend/);
  });
});
