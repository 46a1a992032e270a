// The device reconciler against fakes: dictionary, Secret, session, health check → status, for each
// outcome and each appliance error code; what it writes, which Events it records, whether the session
// is usable by the rules afterwards, and when it checks again.
import { describe, expect, it } from "vitest";
import { resourceTypes as resources } from "../../src/api/group.ts";
import type { VnfDevice } from "../../src/api/types.ts";
import type { ActivationState } from "../../src/controllers/session-registry.ts";
import { ERROR_CODE_TABLE, ERROR_CODES, VnfError } from "../../src/dictionary/errors.ts";
import type { ReconcileResult } from "../../src/runtime/controller.ts";
import { CoreResources, type KubeObject, type ResourceType } from "../../src/runtime/resource.ts";
import { vnfError } from "./fakes/fake-session.ts";
import {
  conditionsOf,
  device,
  NS,
  readyCondition,
  rule,
  STALLED_RETRY,
  secret,
  type World,
  type WorldOptions,
  world,
} from "./fakes/world.ts";

const APPLY = "apply-status vnfdevices/edge";
/** A Stalled device is looked at again after the stalled backoff (1 min the first time). */
const STALLED_REQUEUE = { requeueAfterMs: STALLED_RETRY.initialMs };
const NEW = device({}, {});

interface DeviceCase {
  name: string;
  device?: VnfDevice;
  objects?: Array<[ResourceType, KubeObject]>;
  /** Default: a Secret "creds". */
  noSecret?: boolean;
  options?: WorldOptions;
  setup?: (w: World) => void;
  expect: {
    calls: string[];
    writes: string[];
    conditions?: string[];
    status?: Record<string, unknown>;
    events?: string[];
    result?: ReconcileResult | "throws";
    /** Whether rules may use the session afterwards. */
    sessionReady?: boolean;
  };
}

const retryable = ERROR_CODES.filter((code) => ERROR_CODE_TABLE[code].retryable);
const terminal = ERROR_CODES.filter((code) => !ERROR_CODE_TABLE[code].retryable);

const cases: DeviceCase[] = [
  {
    name: "first health check passes: Ready, version, serial, dictionary, rule count; Connected; next check in 60 s",
    device: NEW,
    objects: [[resources.firewallRule, rule()]],
    options: { session: "none" },
    expect: {
      calls: ["health"],
      writes: [APPLY],
      conditions: ["Ready=True/HealthCheckPassed"],
      status: {
        vendorVersion: "1.2.3",
        serial: "SN-1",
        dictionary: "pfsense",
        managedRules: 1,
        observedGeneration: 1,
      },
      events: ["Normal Connected"],
      result: { requeueAfterMs: 60_000 },
      sessionReady: true,
    },
  },
  {
    name: "steady state (already recorded, recently): health checked, nothing written",
    device: device(
      {},
      {
        observedGeneration: 1,
        dictionary: "pfsense",
        vendorVersion: "1.2.3",
        serial: "SN-1",
        transport: "https",
        managedRules: 0,
        lastHealthCheckTime: "2026-02-03T04:04:00Z",
        conditions: [
          {
            ...readyCondition(),
            message: "appliance reachable through dictionary pfsense (version 1.2.3, serial SN-1)",
          },
        ],
      },
    ),
    expect: {
      calls: ["health"],
      writes: [],
      events: [],
      result: { requeueAfterMs: 60_000 },
      sessionReady: true,
    },
  },
  {
    name: "just restarted, the rule caches not listed yet: the rule count stays as recorded (no write now and another later)",
    device: device(
      {},
      {
        observedGeneration: 1,
        dictionary: "pfsense",
        vendorVersion: "1.2.3",
        serial: "SN-1",
        transport: "https",
        managedRules: 2,
        lastHealthCheckTime: "2026-02-03T04:04:00Z",
        conditions: [
          {
            ...readyCondition(),
            message: "appliance reachable through dictionary pfsense (version 1.2.3, serial SN-1)",
          },
        ],
      },
    ),
    objects: [[resources.firewallRule, rule()]],
    options: { session: "none" },
    setup: (w) => w.kube.setSynced(false),
    expect: {
      calls: ["health"],
      writes: [],
      events: ["Normal Connected"],
      result: { requeueAfterMs: 60_000 },
      sessionReady: true,
    },
  },
  {
    name: "plain http:// with the spec's opt-in: Ready, transport http, the message and an Event warn",
    device: device({ endpoint: "http://192.0.2.1", allowInsecureHttp: true }, {}),
    options: { session: "none" },
    expect: {
      calls: ["health"],
      writes: [APPLY],
      conditions: ["Ready=True/HealthCheckPassed"],
      status: { transport: "http" },
      events: ["Normal Connected", "Warning InsecureTransport"],
      result: { requeueAfterMs: 60_000 },
      sessionReady: true,
    },
  },
  {
    name: "an unverified certificate: transport https-unverified, with a warning Event",
    device: device({ tls: { insecureSkipVerify: true } }, {}),
    options: { session: "none" },
    expect: {
      calls: ["health"],
      writes: [APPLY],
      status: { transport: "https-unverified" },
      events: ["Normal Connected", "Warning InsecureTransport"],
      result: { requeueAfterMs: 60_000 },
      sessionReady: true,
    },
  },
  {
    name: "plain http:// without the opt-in (stored before the CRD refused it): Stalled InsecureEndpoint, no appliance call",
    device: device({ endpoint: "http://192.0.2.1" }, {}),
    options: { session: "none" },
    expect: {
      calls: [],
      writes: [APPLY],
      conditions: ["Ready=False/InsecureEndpoint", "Stalled=True/InsecureEndpoint"],
      result: STALLED_REQUEUE,
      sessionReady: false,
    },
  },
  {
    name: "an endpoint the policy refuses: Stalled EndpointNotAllowed (the reason), errorCode the code",
    device: NEW,
    setup: (w) => {
      w.session.script(
        "health",
        new VnfError("BROKER_INVALID_REQUEST", "the endpoint 127.0.0.2 is a loopback address", {
          reason: "EndpointNotAllowed",
        }),
      );
    },
    expect: {
      calls: ["health"],
      writes: [APPLY],
      conditions: ["Ready=False/EndpointNotAllowed", "Stalled=True/EndpointNotAllowed"],
      status: { errorCode: "BROKER_INVALID_REQUEST" },
      events: ["Warning EndpointNotAllowed"],
      result: STALLED_REQUEUE,
      sessionReady: false,
    },
  },
  {
    name: "no dictionary for the vendor: Stalled NoDictionary, no session",
    device: NEW,
    options: { noDictionary: "no dictionary for vendor acme", session: "none" },
    expect: {
      calls: [],
      writes: [APPLY],
      conditions: ["Ready=False/NoDictionary", "Stalled=True/NoDictionary"],
      events: ["Warning NoDictionary"],
      result: STALLED_REQUEUE,
      sessionReady: false,
    },
  },
  {
    name: "credentials Secret missing (device just created): Ready=False CredentialsNotFound until the grace period ends",
    device: NEW,
    noSecret: true,
    options: { session: "none" },
    expect: {
      calls: [],
      writes: [APPLY],
      conditions: ["Ready=False/CredentialsNotFound"],
      result: { requeueAfterMs: 120_000 },
      sessionReady: false,
    },
  },
  {
    name: "the Secret lacks a key the dictionary reads: Stalled CredentialsInvalid at once, no appliance call",
    device: NEW,
    options: { session: "none", credentialKeys: ["username", "password", "otp"] },
    expect: {
      calls: [],
      writes: [APPLY],
      conditions: ["Ready=False/CredentialsInvalid", "Stalled=True/CredentialsInvalid"],
      result: STALLED_REQUEUE,
      sessionReady: false,
    },
  },
  {
    name: "the CA Secret is missing (device just created): Ready=False CaNotFound until the grace period ends",
    device: device({ endpoint: "https://192.0.2.1", tls: { caSecretRef: { name: "ca" } } }, {}),
    options: { session: "none" },
    expect: {
      calls: [],
      writes: [APPLY],
      conditions: ["Ready=False/CaNotFound"],
      result: { requeueAfterMs: 120_000 },
      sessionReady: false,
    },
  },
  ...retryable.map(
    (code): DeviceCase => ({
      name: `health check fails with ${code} (retryable): Ready=False, Reconciling, rules paused, backoff`,
      device: NEW,
      setup: (w) => {
        w.session.script("health", vnfError(code));
      },
      expect: {
        calls: ["health"],
        writes: [APPLY],
        conditions: [`Ready=False/${code}`, "Reconciling=True/RetryingAfterError"],
        status: { errorCode: code },
        events: [`Warning ${code}`],
        result: { requeue: true },
        sessionReady: false,
      },
    }),
  ),
  ...terminal.map(
    (code): DeviceCase => ({
      name: `health check fails with ${code} (not retryable): Stalled, checked again after the stalled backoff or when the spec or Secret changes`,
      device: NEW,
      setup: (w) => {
        w.session.script("health", vnfError(code));
      },
      expect: {
        calls: ["health"],
        writes: [APPLY],
        conditions: [`Ready=False/${code}`, `Stalled=True/${code}`],
        status: { errorCode: code },
        events: [`Warning ${code}`],
        result: STALLED_REQUEUE,
        sessionReady: false,
      },
    }),
  ),
  {
    name: "a Retry-After on the health check is honoured",
    device: NEW,
    setup: (w) => {
      w.session.script("health", vnfError("VNF_CAPACITY", { retryAfterMs: 30_000 }));
    },
    expect: {
      calls: ["health"],
      writes: [APPLY],
      result: { requeueAfterMs: 30_000 },
      sessionReady: false,
    },
  },
  {
    name: "a Retry-After beyond --max-retry-delay is cut to it",
    device: NEW,
    setup: (w) => {
      w.session.script("health", vnfError("VNF_RATE_LIMIT", { retryAfterMs: 3_600_000 }));
    },
    expect: { calls: ["health"], writes: [APPLY], result: { requeueAfterMs: 60_000 }, sessionReady: false },
  },
  {
    name: "a failed status write after a passing health check: an API error, not an unhealthy appliance",
    device: NEW,
    setup: (w) => w.kube.fail({ verb: "apply-status", status: 409 }),
    expect: {
      calls: ["health"],
      writes: [`${APPLY} -> 409`],
      events: [],
      result: "throws",
      sessionReady: true,
    },
  },
  {
    name: "the API server is unavailable (500) when recording a failed check: retried, still not Ready",
    device: NEW,
    setup: (w) => {
      w.session.script("health", vnfError("VNF_UNREACHABLE"));
      w.kube.fail({ verb: "apply-status", status: 500 });
    },
    expect: { calls: ["health"], writes: [`${APPLY} -> 500`], result: "throws", sessionReady: false },
  },
  ...firmwareCases(),
];

/**
 * Firmware-aware dictionaries: a catalog like the shipped OPNsense pair (acme-1 for 1.x, acme-2 for 2.x,
 * nothing for 3.x), the reconciler choosing again for the version each health check reports.
 */
function firmwareCases(): DeviceCase[] {
  const RANGES = "acme-2: >=2.0.0 <3.0.0; acme-1: >=1.0.0 <2.0.0";
  const choose: WorldOptions["choose"] = (request) => {
    const version = request.firmwareVersion;
    const major = version?.split(".")[0];
    if (version === undefined || major === "2") return { name: "acme-2" };
    if (major === "1") return { name: "acme-1" };
    const error = `acme firmware ${version} is outside every acme dictionary's range (${RANGES})`;
    return request.allowUnsupportedFirmware
      ? { name: "acme-2", unsupported: `${error}; using acme-2 anyway (spec.allowUnsupportedFirmware)` }
      : { reason: "FirmwareUnsupported", error };
  };
  const acme = (version: string, spec: Partial<VnfDevice["spec"]> = {}) =>
    device(
      { vendor: "acme", ...spec },
      {
        observedGeneration: 1,
        dictionary: "acme-2",
        vendorVersion: version,
        conditions: [readyCondition()],
      },
    );
  return [
    {
      name: "firmware: the version picks the dictionary (1.x → acme-1, the session rebuilt with it)",
      device: device({ vendor: "acme" }, {}),
      options: { session: "none", choose },
      setup: (w) =>
        w.session.script("health", { value: { version: "1.4.0" } }, { value: { version: "1.4.0" } }),
      expect: {
        calls: ["health", "health"],
        writes: [APPLY],
        conditions: ["Ready=True/HealthCheckPassed"],
        status: { dictionary: "acme-1", vendorVersion: "1.4.0" },
        events: ["Normal DictionaryChanged", "Normal Connected"],
        result: { requeueAfterMs: 60_000 },
        sessionReady: true,
      },
    },
    {
      name: "firmware: an upgrade (recorded 1.4.0, now 2.1.0) switches the dictionary: a new session, the rules re-queued",
      device: device(
        { vendor: "acme" },
        {
          observedGeneration: 1,
          dictionary: "acme-1",
          vendorVersion: "1.4.0",
          conditions: [readyCondition()],
        },
      ),
      options: { choose },
      setup: (w) =>
        w.session.script("health", { value: { version: "2.1.0" } }, { value: { version: "2.1.0" } }),
      expect: {
        calls: ["health", "health"],
        writes: [APPLY],
        conditions: ["Ready=True/HealthCheckPassed"],
        status: { dictionary: "acme-2", vendorVersion: "2.1.0" },
        events: ["Normal DictionaryChanged", "Normal Connected"],
        result: { requeueAfterMs: 60_000 },
        sessionReady: true,
      },
    },
    {
      name: "firmware outside every range: Stalled FirmwareUnsupported naming version, ranges and what to do, rules paused, checked again",
      device: acme("2.1.0"),
      options: { choose },
      setup: (w) => w.session.script("health", { value: { version: "3.0.1", serial: "SN-9" } }),
      expect: {
        calls: ["health"],
        writes: [APPLY],
        conditions: ["Ready=False/FirmwareUnsupported", "Stalled=True/FirmwareUnsupported"],
        status: {
          vendorVersion: "3.0.1",
          serial: "SN-9",
          conditions: [
            expect.objectContaining({
              type: "Ready",
              message: `acme firmware 3.0.1 is outside every acme dictionary's range (${RANGES}): upgrade or downgrade the appliance, add a dictionary for it, or set spec.allowUnsupportedFirmware`,
            }),
            expect.objectContaining({ type: "Stalled" }),
          ],
        },
        events: ["Warning FirmwareUnsupported"],
        result: { requeueAfterMs: 60_000 },
        sessionReady: false,
      },
    },
    {
      name: "firmware outside every range, allowed by spec.allowUnsupportedFirmware: Ready=True, said so",
      device: acme("3.0.1", { allowUnsupportedFirmware: true }),
      options: { session: "none", choose },
      setup: (w) => w.session.script("health", { value: { version: "3.0.1" } }),
      expect: {
        calls: ["health"],
        writes: [APPLY],
        conditions: ["Ready=True/HealthCheckPassed"],
        status: {
          dictionary: "acme-2",
          conditions: [
            expect.objectContaining({
              type: "Ready",
              message: `appliance reachable through dictionary acme-2 (version 3.0.1); acme firmware 3.0.1 is outside every acme dictionary's range (${RANGES}); using acme-2 anyway (spec.allowUnsupportedFirmware)`,
            }),
          ],
        },
        events: ["Normal Connected", "Warning FirmwareUnsupported"],
        result: { requeueAfterMs: 60_000 },
        sessionReady: true,
      },
    },
  ];
}

describe("device reconciler", () => {
  it.each(cases)("$name", async (c) => {
    const objects: Array<[ResourceType, KubeObject]> = [
      [resources.device, c.device ?? device()],
      ...(c.objects ?? []),
    ];
    if (!c.noSecret) objects.push([CoreResources.secrets, secret()]);
    const w = world(objects, c.options);
    c.setup?.(w);
    const outcome = await w.reconcileDevice().then(
      (result) => ({ result }),
      (error: unknown) => ({ error }),
    );
    if (c.expect.result === "throws") expect("error" in outcome, "the reconcile should fail").toBe(true);
    else {
      if ("error" in outcome) throw outcome.error;
      expect(outcome.result).toEqual(c.expect.result);
    }
    expect(w.session.calls).toEqual(c.expect.calls);
    expect(w.kube.summary()).toEqual(c.expect.writes);
    const stored = w.device();
    if (c.expect.conditions) expect(conditionsOf(stored)).toEqual(c.expect.conditions);
    if (c.expect.status) expect(stored?.status).toMatchObject(c.expect.status);
    if (c.expect.events) expect(w.events.summary()).toEqual(c.expect.events);
    if (c.expect.sessionReady !== undefined) {
      expect(w.sessions.get({ namespace: NS, name: "edge" }) !== undefined).toBe(c.expect.sessionReady);
    }
  });

  it("a device being deleted keeps its session (its Delete-policy rules clean up through it); once gone, it is closed and forgotten", async () => {
    const w = world([
      [
        resources.device,
        {
          ...device(),
          metadata: {
            ...device().metadata,
            deletionTimestamp: "x",
            finalizers: ["vnf-operator.io/rules-first"],
          },
        },
      ],
    ]);
    await w.reconcileDevice();
    expect(w.session.closed).toBe(false);
    expect(w.sessions.any({ namespace: NS, name: "edge" })).toBeDefined();
    w.kube.remove(resources.device, NS, "edge");
    await w.reconcileDevice();
    expect(w.session.closed).toBe(true);
    expect(w.sessions.any({ namespace: NS, name: "edge" })).toBeUndefined();
  });

  it("the drift controller's fields on the device survive the device controller's writes", async () => {
    const w = world([
      [resources.device, NEW],
      [CoreResources.secrets, secret()],
    ]);
    await w.kube.request({
      method: "PATCH",
      path: `/apis/vnf-operator.io/v1alpha1/namespaces/${NS}/vnfdevices/edge/status`,
      query: { fieldManager: "vnf-drift-controller", force: true },
      contentType: "application/apply-patch+yaml",
      body: { status: { unmanagedObjects: 4, lastDriftCheckTime: "2026-02-03T04:00:00Z" } },
    });
    await w.reconcileDevice();
    expect(w.device()?.status).toMatchObject({
      unmanagedObjects: 4,
      lastDriftCheckTime: "2026-02-03T04:00:00Z",
    });
    for (const body of w.kube.applied("vnf-device-controller"))
      expect(body).not.toHaveProperty("unmanagedObjects");
  });
});

describe("device reconciler: activations in status", () => {
  const LAST = { time: "2026-02-03T04:05:00Z", result: "Succeeded", changes: 50, jobId: "17" } as const;
  const reconciled = async (spec: Partial<VnfDevice["spec"]>, state?: () => ActivationState) => {
    const w = world(
      [
        [resources.device, device(spec, {})],
        [CoreResources.secrets, secret()],
      ],
      { session: "none" },
    );
    if (state) w.session.activation = state;
    await w.reconcileDevice();
    return w;
  };
  const batched = { activation: { mode: "Batched", batchWindow: "2s" } } as const;

  it.each([
    [
      "a Batched device: the writes waiting for the window, and the last activation",
      batched,
      { pending: 7, last: LAST },
      { pendingActivations: 7, lastActivation: LAST },
    ],
    [
      "a Batched device before its first activation: 0 waiting, no lastActivation",
      batched,
      { pending: 0 },
      { pendingActivations: 0 },
    ],
    [
      "an Immediate device: the last activation only (nothing waits for a window)",
      {},
      { pending: 0, last: LAST },
      { lastActivation: LAST },
    ],
    [
      "a failed activation, with its message",
      batched,
      {
        pending: 2,
        last: { time: LAST.time, result: "Failed", changes: 3, message: "VNF_INVALID: commit refused" },
      },
      {
        pendingActivations: 2,
        lastActivation: { result: "Failed", changes: 3, message: "VNF_INVALID: commit refused" },
      },
    ],
  ] as const)("%s", async (_name, spec, state, expected) => {
    const w = await reconciled(spec, () => state as ActivationState);
    expect(w.device()?.status).toMatchObject(expected);
    if (!("pendingActivations" in expected))
      expect(w.device()?.status).not.toHaveProperty("pendingActivations");
    if (!("lastActivation" in expected)) expect(w.device()?.status).not.toHaveProperty("lastActivation");
  });

  it("a dictionary without activation: neither field", async () => {
    const w = await reconciled(batched);
    expect(w.device()?.status).not.toHaveProperty("pendingActivations");
    expect(w.device()?.status).not.toHaveProperty("lastActivation");
  });

  it("a reconcile after an activation (within the health interval) records it without a health call", async () => {
    let state: ActivationState = { pending: 4 };
    const w = await reconciled(batched, () => state);
    expect(w.device()?.status).toMatchObject({ pendingActivations: 4 });
    state = { pending: 0, last: LAST };
    w.advance(2_000);
    await w.reconcileDevice();
    expect(w.session.calls).toEqual(["health"]);
    expect(w.device()?.status).toMatchObject({ pendingActivations: 0, lastActivation: LAST });
  });

  it("a new session that has not activated yet keeps the lastActivation already in status", async () => {
    const w = world(
      [
        [resources.device, device(batched, { lastActivation: LAST })],
        [CoreResources.secrets, secret()],
      ],
      { session: "none" },
    );
    w.session.activation = () => ({ pending: 0 });
    await w.reconcileDevice();
    expect(w.device()?.status).toMatchObject({ pendingActivations: 0, lastActivation: LAST });
  });
});

describe("device reconciler: health checks on the interval or a real change only", () => {
  const setup = () => {
    const w = world(
      [
        [resources.device, NEW],
        [CoreResources.secrets, secret()],
      ],
      { session: "none" },
    );
    return w;
  };

  it("a reconcile within the interval (an activation, a label) records status without a health call", async () => {
    const w = setup();
    expect(await w.reconcileDevice()).toEqual({ requeueAfterMs: 60_000 });
    w.kube.add(resources.firewallRule, rule());
    w.advance(15_000);
    expect(await w.reconcileDevice()).toEqual({ requeueAfterMs: 45_000 });
    expect(w.session.calls).toEqual(["health"]);
    // What changed meanwhile (a rule) is recorded; the check time stays the real one.
    expect(w.device()?.status).toMatchObject({
      managedRules: 1,
      lastHealthCheckTime: "2026-02-03T04:05:06Z",
    });
  });

  it("once the interval is up, the appliance is checked again", async () => {
    const w = setup();
    await w.reconcileDevice();
    w.advance(60_000);
    expect(await w.reconcileDevice()).toEqual({ requeueAfterMs: 60_000 });
    expect(w.session.calls).toEqual(["health", "health"]);
  });

  it("a changed Secret (a new session) is checked at once", async () => {
    const w = setup();
    await w.reconcileDevice();
    w.kube.edit(CoreResources.secrets, NS, "creds", (s: KubeObject) => {
      (s as { data: Record<string, string> }).data.password = Buffer.from("rotated").toString("base64");
    });
    w.advance(1_000);
    await w.reconcileDevice();
    expect(w.session.calls).toEqual(["health", "health"]);
    expect(w.built).toHaveLength(2);
  });

  it("after a failed check, the next reconcile checks again (no interval wait)", async () => {
    const w = setup();
    w.session.script("health", vnfError("VNF_TIMEOUT"));
    expect(await w.reconcileDevice()).toEqual({ requeue: true });
    w.advance(1_000);
    expect(await w.reconcileDevice()).toEqual({ requeueAfterMs: 60_000 });
    expect(w.session.calls).toEqual(["health", "health"]);
    expect(conditionsOf(w.device())).toEqual(["Ready=True/HealthCheckPassed"]);
  });
});
