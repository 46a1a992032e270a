// Assembles the operator: one Manager (informers, probes, metrics, leader election, shutdown), the
// appliance sessions, and four controllers — devices, firewall rules, NAT rules, drift. `vnf-operator
// run` and the integration tests both start it through here, so what is tested is what runs.

import { Counter } from "prom-client";
import { CREDENTIALS_SELECTOR, resourceTypes, VNF_FIREWALL_RULE, VNF_NAT_RULE } from "./api/group.ts";
import type { VnfDevice, VnfRule } from "./api/types.ts";
import { EndpointPolicy } from "./appliance/endpoint-policy.ts";
import type { EndpointGuard } from "./appliance/guarded-connect.ts";
import { PromApplianceMetrics } from "./appliance/metrics.ts";
import {
  type DeviceControllerDeps,
  deviceReconciler,
  type SecretObject,
} from "./controllers/device-controller.ts";
import { deviceProtectionReconciler } from "./controllers/device-protection.ts";
import { DeviceShards } from "./controllers/device-shards.ts";
import { driftReconciler } from "./controllers/drift-controller.ts";
import { engineSessionFactory } from "./controllers/engine-session.ts";
import {
  deviceEventAffectsOrder,
  deviceEventAffectsRules,
  deviceEventNeedsReconcile,
  ruleEventNeedsReconcile,
  secretEventNeedsReconcile,
} from "./controllers/event-filters.ts";
import { type Installation, resolveInstallation } from "./controllers/installation.ts";
import { orderReconciler } from "./controllers/order-controller.ts";
import { RenumberRequests } from "./controllers/order-step.ts";
import type { RuleKind } from "./controllers/ports.ts";
import { RepairRequests } from "./controllers/repair-requests.ts";
import { DEFAULT_MAX_RETRY_DELAY_MS } from "./controllers/requeue.ts";
import { ruleReconciler } from "./controllers/rule-controller.ts";
import { FINALIZER, type RuleKindInfo } from "./controllers/rule-deps.ts";
import { RuleNumberReservations } from "./controllers/rule-numbers.ts";
import { SessionRegistry } from "./controllers/session-registry.ts";
import { chooseDictionary } from "./dictionary/choose.ts";
import { type DictionaryRegistry, loadDictionaryDirectories } from "./dictionary/registry.ts";
import type { OperatorOptions } from "./operator-options.ts";
import { dropAnnotations } from "./runtime/cache-transforms.ts";
import { discoverClusterNetwork } from "./runtime/cluster-network.ts";
import type { Controller } from "./runtime/controller.ts";
import { EventRecorder } from "./runtime/events.ts";
import { type Logger, silentLogger } from "./runtime/logging.ts";
import { Manager } from "./runtime/manager.ts";
import { PartitionedInformer } from "./runtime/partitioned-informer.ts";
import { CoreResources, type ObjectKey, type ResourceType } from "./runtime/resource.ts";

/** Rules per kind reconciled at once (see OperatorOptions.concurrency). */
export const DEFAULT_CONCURRENCY = 64;

/** How long after a rule write the device's order step runs (a burst of writes shares one step). */
export const ORDER_DELAY_MS = 1000;

export interface Operator {
  manager: Manager;
  /** The device shards this replica takes part in, when sharding is on. */
  shards?: DeviceShards;
  sessions: SessionRegistry;
  dictionaries: DictionaryRegistry;
  controllers: Record<
    "device" | "deviceProtection" | "firewallRule" | "natRule" | "drift" | "order",
    Controller
  >;
  events: EventRecorder;
  /** Which installation this is (its id keys the ownership markers). */
  installation: Installation;
  /** Graceful stop: drain reconciles, release the lease, close sessions. */
  stop(): Promise<void>;
}

export const resources = resourceTypes;

/** Builds the operator (nothing runs until manager.start()). */
export async function createOperator(options: OperatorOptions): Promise<Operator> {
  const log = options.logger ?? silentLogger;
  const maxRetryDelayMs = options.maxRetryDelayMs ?? DEFAULT_MAX_RETRY_DELAY_MS;
  const loaded = await loadDictionaryDirectories(options.dictionaryDirectories);
  for (const error of loaded.errors) log.error({ err: error.message }, "dictionary refused");
  const dictionaries = loaded.registry;
  if (dictionaries.all().length === 0) {
    throw new Error(`no dictionary loaded from ${options.dictionaryDirectories.join(", ")}`);
  }
  log.info({ dictionaries: dictionaries.all().map((d) => d.name) }, "dictionaries loaded");

  if (options.sharding && options.leaderElection) {
    throw new Error("sharding and leader election exclude each other: with shards, every replica works");
  }
  const manager = new Manager({
    kubeConfig: options.kubeConfig,
    logger: log,
    ...(options.namespaces && options.namespaces.length > 0 ? { namespaces: options.namespaces } : {}),
    ...(options.probeAddress !== undefined ? { probeAddress: options.probeAddress } : {}),
    ...(options.metricsAddress !== undefined ? { metricsAddress: options.metricsAddress } : {}),
    ...(options.leaderElection ? { leaderElection: options.leaderElection } : {}),
    ...(options.gracefulShutdownTimeoutMs !== undefined
      ? { gracefulShutdownTimeoutMs: options.gracefulShutdownTimeoutMs }
      : {}),
    ...(options.informerDefaults ? { informerDefaults: options.informerDefaults } : {}),
  });
  const installation = await resolveInstallation(
    manager.http,
    {
      ...(options.installationId !== undefined ? { installationId: options.installationId } : {}),
      ...(options.releaseName !== undefined ? { releaseName: options.releaseName } : {}),
      ...(options.releaseNamespace !== undefined ? { releaseNamespace: options.releaseNamespace } : {}),
    },
    log,
  );
  const registry = manager.metrics.registry;
  const driftRepairs = new Counter({
    name: "vnf_drift_repairs_total",
    help: "Appliance drift repaired by the operator (a rule rewritten to its spec), by rule kind.",
    labelNames: ["kind", "what"],
    registers: [registry],
  });
  const driftChecks = new Counter({
    name: "vnf_drift_checks_total",
    help: "Drift checks completed (one bulk list per rule kind of a device).",
    labelNames: ["mode"],
    registers: [registry],
  });

  // The caches keep what the controllers read: not kubectl's last-applied copy of every object.
  const cached = { transform: dropAnnotations() };
  const devices = manager.informer<VnfDevice>(resources.device, cached);
  // Sharded, a replica caches only its devices' rules: one watch per device it owns.
  const ruleCache = (resource: ResourceType) =>
    options.sharding
      ? new PartitionedInformer<VnfRule>(manager.http, resource, {
          ...options.informerDefaults,
          ...cached,
          logger: log,
        })
      : manager.informer<VnfRule>(resource, cached);
  const firewallRules = ruleCache(resources.firewallRule);
  const natRules = ruleCache(resources.natRule);
  // Only labelled Secrets (docs: README "Security"), and only in the credential namespaces when set.
  const credentialNamespaces = options.credentialNamespaces?.length
    ? options.credentialNamespaces
    : undefined;
  const secrets = manager.informer<SecretObject>(CoreResources.secrets, {
    labelSelector: CREDENTIALS_SELECTOR,
    ...(credentialNamespaces ? { namespaces: credentialNamespaces } : {}),
  });
  const events = new EventRecorder(manager.http, {
    reportingController: "vnf-operator.io/vnf-operator",
    reportingInstance: options.instance ?? manager.identity,
    logger: log,
  });

  const endpointGuard = await buildEndpointGuard(manager, options, log);
  const controllers = {} as Operator["controllers"];
  const instance = options.instance ?? options.sharding?.identity ?? manager.identity;
  const sessions = new SessionRegistry(
    engineSessionFactory({
      dictionary: (name) => dictionaries.get(name),
      endpointGuard,
      logger: log,
      metrics: new PromApplianceMetrics(registry),
      // Appliance logs (and the sharding test) tell which replica sent a request.
      userAgent: `vnf-operator (${instance})`,
      // The device controller publishes activations in status (lastActivation, pendingActivations);
      // queued writes at most once a second.
      onActivation: (device) => controllers.device?.enqueue(device),
      onActivationQueued: (device) => controllers.device?.enqueue(device, { afterMs: 1000 }),
    }),
  );

  const shards = options.sharding
    ? new DeviceShards(
        { ...options.sharding, identity: instance },
        {
          http: manager.http,
          devices,
          ruleCaches: [firewallRules, natRules].filter((c) => c instanceof PartitionedInformer),
          sessions,
          log,
          onDeviceOwned: (device) => {
            controllers.device?.enqueue(device);
            controllers.drift?.enqueue(device);
          },
        },
      )
    : undefined;
  if (shards) {
    const caches = [firewallRules, natRules].filter((c) => c instanceof PartitionedInformer);
    manager.addRunnable(
      "rule-caches",
      async (signal) => {
        for (const cache of caches) cache.start();
        await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
        await Promise.all(caches.map((cache) => cache.stop()));
      },
      { needLeaderElection: false },
    );
    manager.addRunnable("device-shards", (signal) => shards.run(signal), { needLeaderElection: false });
  }
  const gateDevice = shards ? shards.gateDevice.bind(shards) : (reconcile: DeviceReconcile) => reconcile;

  const rulesOfDevice = (device: ObjectKey, kind: "firewallRule" | "natRule"): ObjectKey[] =>
    (kind === "firewallRule" ? firewallRules : natRules)
      .list(device.namespace)
      .filter((rule) => rule.spec.deviceRef.name === device.name)
      .map(keyOfObject);

  const deviceDeps: DeviceControllerDeps = {
    resource: resources.device,
    devices,
    secrets,
    credentialScope: {
      label: CREDENTIALS_SELECTOR,
      ...(credentialNamespaces ? { namespaces: credentialNamespaces } : {}),
    },
    rules: [firewallRules, natRules],
    catalog: {
      choose: (request) => chooseDictionary(dictionaries.all(), request),
      credentialKeys: (name) => [...(dictionaries.get(name)?.credentialKeys ?? [])],
    },
    sessions,
    http: manager.http,
    events,
    healthIntervalMs: options.healthIntervalMs ?? 60_000,
    maxRetryDelayMs,
    ...(options.gracePeriodMs !== undefined ? { gracePeriodMs: options.gracePeriodMs } : {}),
    ...(options.stalledRetry ? { stalledRetry: options.stalledRetry } : {}),
    onSessionReady: (device) => {
      for (const key of rulesOfDevice(device, "firewallRule")) controllers.firewallRule?.enqueue(key);
      for (const key of rulesOfDevice(device, "natRule")) controllers.natRule?.enqueue(key);
      controllers.drift?.enqueue(device);
      controllers.order?.enqueue(device, { afterMs: ORDER_DELAY_MS });
    },
  };
  controllers.device = manager.addController<VnfDevice>({
    name: "vnfdevice",
    reconcile: gateDevice(deviceReconciler(deviceDeps)),
    maxConcurrentReconciles: 2,
    maxRetryDelayMs,
  });
  // The device's own changes (not its status: the health check runs on its interval, event-filters.ts),
  // and a changed Secret re-queues the devices that use it (credentials or CA). The engine sessions
  // re-queue a device after each activation (its outcome goes into status, without a health check).
  controllers.device.watches(devices, undefined, { predicate: deviceEventNeedsReconcile });
  controllers.device.watches(
    secrets,
    (secret) =>
      devices
        .list(secret.metadata?.namespace)
        .filter(
          (d) =>
            d.spec.credentialsSecretRef.name === secret.metadata?.name ||
            d.spec.tls?.caSecretRef?.name === secret.metadata?.name,
        )
        .map(keyOfObject),
    { predicate: secretEventNeedsReconcile },
  );

  // A device goes only after its rules with deletionPolicy Delete (their cleanup needs it).
  controllers.deviceProtection = manager.addController<VnfDevice>({
    name: "vnfdevice-protection",
    for: devices,
    // Sharded, only the device's owner caches its rules: another replica would see none holding it.
    reconcile: gateDevice(
      deviceProtectionReconciler({
        resource: resources.device,
        devices,
        rules: [
          { kind: VNF_FIREWALL_RULE.kind, informer: firewallRules },
          { kind: VNF_NAT_RULE.kind, informer: natRules },
        ],
        ruleFinalizer: FINALIZER,
        http: manager.http,
        events,
      }),
    ),
    maxConcurrentReconciles: 2,
  });
  for (const informer of [firewallRules, natRules]) {
    controllers.deviceProtection.watches(informer, (rule) => [
      { namespace: rule.metadata.namespace ?? "", name: rule.spec.deviceRef.name },
    ]);
  }

  const onRepair = (kind: RuleKind) => driftRepairs.inc({ kind, what: "rule" });
  const repairs = new RepairRequests();
  // Shared by the rule controllers and the order step: renumbers asked for, numbers being allocated.
  const renumbers = new RenumberRequests();
  const reservations = new RuleNumberReservations();
  const ruleMoves = new Counter({
    name: "vnf_rule_moves_total",
    help: "Rules moved (or renumbered) on appliances to keep the order of their priority, by rule kind.",
    labelNames: ["kind"],
    registers: [registry],
  });
  for (const kind of ["firewallRule", "natRule"] as const) {
    const info: RuleKindInfo = { kind, resource: resources[kind] };
    const informer = kind === "firewallRule" ? firewallRules : natRules;
    const reconcile = ruleReconciler({
      kind: info,
      rules: informer,
      devices,
      sessions,
      http: manager.http,
      events,
      installationId: installation.id,
      repairs,
      maxRetryDelayMs,
      onRepair,
      ...(options.gracePeriodMs !== undefined ? { gracePeriodMs: options.gracePeriodMs } : {}),
      ...(options.stalledRetry ? { stalledRetry: options.stalledRetry } : {}),
      // Refused credentials are the device's matter: its rules stop using the session until the
      // device checked it again (passing: they retry; failing: the device is Stalled VNF_AUTH).
      onCredentialsRefused: (device) => {
        sessions.markReady(device, false);
        controllers.device?.enqueue(device);
      },
      renumbers,
      reservations,
      onWritten: (device) => controllers.order?.enqueue(device, { afterMs: ORDER_DELAY_MS }),
    });
    const controller = manager.addController<VnfRule>({
      name: kind === "firewallRule" ? "vnffirewallrule" : "vnfnatrule",
      reconcile:
        shards && informer instanceof PartitionedInformer ? shards.gateRule(reconcile, informer) : reconcile,
      maxConcurrentReconciles: options.concurrency ?? DEFAULT_CONCURRENCY,
      maxRetryDelayMs,
    });
    // The rule's own events, but not its own status writes: they would bypass the backoff and
    // Retry-After (event-filters.ts).
    controller.watches(informer, undefined, { predicate: ruleEventNeedsReconcile });
    // Rules follow their device: Ready, suspend and spec changes re-queue them (not its counters).
    controller.watches(devices, (device) => rulesOfDevice(keyOfObject(device), kind), {
      predicate: deviceEventAffectsRules,
    });
    controllers[kind] = controller;
  }

  controllers.drift = manager.addController<VnfDevice>({
    name: "vnfdrift",
    reconcile: gateDevice(
      driftReconciler({
        deviceResource: resources.device,
        devices,
        rules: [
          { kind: "firewallRule", resource: resources.firewallRule, informer: firewallRules },
          { kind: "natRule", resource: resources.natRule, informer: natRules },
        ],
        sessions,
        http: manager.http,
        events,
        installationId: installation.id,
        repairs,
        enqueueRule: (kind, rule) => controllers[kind]?.enqueue(rule),
        enqueueOrder: (device) => controllers.order?.enqueue(device),
        onCheck: (mode) => driftChecks.inc({ mode }),
        ...(shards ? { owns: (device: ObjectKey) => shards.owns(device) } : {}),
        ...(options.driftClock ? { now: options.driftClock } : {}),
      }),
    ),
    maxConcurrentReconciles: 2,
    maxRetryDelayMs,
  });
  // Spec (driftDetection) and annotation (a requested check) changes; a device that becomes Ready is
  // re-queued by onSessionReady.
  controllers.drift.watches(devices, undefined, { predicate: deviceEventNeedsReconcile });

  const ruleInformers = [
    { kind: "firewallRule" as const, resource: resources.firewallRule, informer: firewallRules },
    { kind: "natRule" as const, resource: resources.natRule, informer: natRules },
  ];
  controllers.order = manager.addController<VnfDevice>({
    name: "vnforder",
    reconcile: gateDevice(
      orderReconciler({
        devices,
        rules: ruleInformers,
        sessions,
        http: manager.http,
        events,
        renumbers,
        reservedNumbers: (device, kind) =>
          reservations.reserved(`${device.namespace}/${device.name}/${kind}`),
        enqueueRule: (kind, rule) => controllers[kind]?.enqueue(rule),
        onOrdered: (_device, kind, moves) => ruleMoves.inc({ kind }, moves),
        installationId: installation.id,
      }),
    ),
    maxConcurrentReconciles: 2,
    maxRetryDelayMs: options.maxRetryDelayMs ?? 60_000,
  });
  // A changed ruleOrder (spec) re-orders; rule writes and drift checks ask for it themselves.
  controllers.order.watches(devices, undefined, { predicate: deviceEventAffectsOrder });

  return {
    manager,
    ...(shards ? { shards } : {}),
    sessions,
    dictionaries,
    controllers,
    events,
    installation,
    stop: async () => {
      await manager.stop("operator stopped");
      await events.close();
      await sessions.closeAll();
    },
  };
}

/** The endpoint policy from the configuration and the cluster's own addresses. */
async function buildEndpointGuard(
  manager: Manager,
  options: OperatorOptions,
  log: Logger,
): Promise<EndpointGuard> {
  const config = options.endpointPolicy ?? {};
  const network = await discoverClusterNetwork(manager.http, options.kubeConfig, {
    ...(config.serviceCidrs ? { serviceCidrs: config.serviceCidrs } : {}),
  });
  for (const note of network.notes) log.warn(note);
  const policy = new EndpointPolicy({
    allowCidrs: config.allowCidrs ?? [],
    denyCidrs: config.denyCidrs ?? [],
    apiServerAddresses: network.apiServerAddresses,
    serviceCidrs: network.serviceCidrs,
  });
  log.info({ endpointPolicy: policy.describe() }, "endpoint policy");
  return config.lookup ? { policy, lookup: config.lookup } : { policy };
}

function keyOfObject(obj: { metadata?: { namespace?: string; name?: string } }): ObjectKey {
  return { namespace: obj.metadata?.namespace ?? "", name: obj.metadata?.name ?? "" };
}

type DeviceReconcile = ReturnType<typeof deviceReconciler>;
