// Who writes which status field: each controller applies its own fields under its own field manager
// (runtime/status-writer.ts), so two controllers writing one object never race on a resourceVersion.
// Every status field of the CRDs has exactly one owner; the compiler checks that none is forgotten and
// test/unit/controllers/status-ownership.test.ts that none has two.
import { ConditionType } from "../api/conditions.ts";
import type { VnfDeviceStatus, VnfRuleStatus } from "../api/types.ts";
import type { StatusOwnership } from "../runtime/status-writer.ts";

export const FieldManager = {
  rule: "vnf-rule-controller",
  device: "vnf-device-controller",
  drift: "vnf-drift-controller",
  order: "vnf-order-controller",
} as const;

/** The condition a drift check in Report mode sets on a rule that differs on the appliance. */
export const DRIFTED = "Drifted";

const KSTATUS_CONDITIONS = [
  ConditionType.Ready,
  ConditionType.Reconciling,
  ConditionType.Stalled,
  ConditionType.Suspended,
];

/** The rule controller owns the operation journal and the kstatus conditions. */
export const RULE_CONTROLLER_STATUS = {
  fields: [
    "observedGeneration",
    "vendorRef",
    "ruleNumber",
    "opHash",
    "appliedAt",
    "lastSyncTime",
    "errorCode",
    "pendingOperation",
  ],
  conditions: KSTATUS_CONDITIONS,
} as const satisfies OwnershipOf<VnfRuleStatus>;

/** The drift controller only records what it found on the appliance. */
export const DRIFT_CONTROLLER_RULE_STATUS = {
  fields: ["drift"],
  conditions: [DRIFTED],
} as const satisfies OwnershipOf<VnfRuleStatus>;

/** The order controller records where each rule sits on the appliance. */
export const ORDER_CONTROLLER_RULE_STATUS = {
  fields: ["position"],
} as const satisfies OwnershipOf<VnfRuleStatus>;

/** The device controller owns connection, health and activation facts and the kstatus conditions. */
export const DEVICE_CONTROLLER_STATUS = {
  fields: [
    "observedGeneration",
    "vendorVersion",
    "serial",
    "transport",
    "dictionary",
    "lastHealthCheckTime",
    "managedRules",
    "errorCode",
    "pendingActivations",
    "lastActivation",
  ],
  conditions: KSTATUS_CONDITIONS,
} as const satisfies OwnershipOf<VnfDeviceStatus>;

/** The drift controller's counters on the device. */
export const DRIFT_CONTROLLER_DEVICE_STATUS = {
  fields: ["unmanagedObjects", "unmanagedObjectList", "lastDriftCheckTime"],
} as const satisfies OwnershipOf<VnfDeviceStatus>;

interface OwnershipOf<S> extends StatusOwnership {
  fields: readonly Exclude<keyof S & string, "conditions">[];
}

// Compile-time completeness: a status field added to a CRD must be given an owner here.
type Unowned<
  S,
  A extends { fields: readonly string[] },
  B extends { fields: readonly string[] },
  C extends { fields: readonly string[] } = { fields: [] },
> = Exclude<keyof S, A["fields"][number] | B["fields"][number] | C["fields"][number] | "conditions">;
const everyRuleFieldOwned: [
  Unowned<
    VnfRuleStatus,
    typeof RULE_CONTROLLER_STATUS,
    typeof DRIFT_CONTROLLER_RULE_STATUS,
    typeof ORDER_CONTROLLER_RULE_STATUS
  >,
] extends [never]
  ? true
  : never = true;
const everyDeviceFieldOwned: [
  Unowned<VnfDeviceStatus, typeof DEVICE_CONTROLLER_STATUS, typeof DRIFT_CONTROLLER_DEVICE_STATUS>,
] extends [never]
  ? true
  : never = true;
export const statusOwnershipComplete = everyRuleFieldOwned && everyDeviceFieldOwned;
