// Which appliance objects the model's operator owns, and whose they are: the same marker functions
// the controllers use, so the invariants speak the operator's own language of ownership.
import { randomUUID } from "node:crypto";
import type { VnfDevice, VnfRule } from "../../../src/api/types.ts";
import { type MarkerOwner, ownershipOf, ruleMarker } from "../../../src/controllers/markers.ts";
import type { RuleRequest } from "../../../src/controllers/ports.ts";
import { requestFor } from "../../../src/controllers/rule-request.ts";

export interface Ownership {
  /** What the rule controller is given besides the caches: this installation's id. */
  deps: { installationId: string };
  owner: MarkerOwner;
  /** The marker a rule's object carries. */
  markerOf(rule: VnfRule): string;
  /** What the rule asks of the appliance (spec and marker), to compare an object with. */
  requestOf(rule: VnfRule): RuleRequest;
  /** Whether an object carrying this marker belongs to this installation and this device. */
  isOurs(marker: string | undefined): boolean;
}

export function ownershipFor(device: VnfDevice, installationId = `model-${randomUUID()}`): Ownership {
  const owner: MarkerOwner = { installationId, deviceUid: device.metadata.uid ?? "" };
  return {
    deps: { installationId },
    owner,
    markerOf: (rule) => ruleMarker(owner, rule.metadata.uid ?? ""),
    requestOf: (rule) => requestFor(rule, owner),
    isOurs: (marker) => ownershipOf(owner, marker).owner === "ours",
  };
}
