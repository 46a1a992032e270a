// Deterministic Kubernetes names and labels for CloudStack rule ids. A ruleId (1 to 128 of
// [A-Za-z0-9_-]) is not DNS-safe as it stands (case, '_'), so the name is a readable slug plus a hash of
// the exact ruleId: two ids that slug alike ("Abc", "abc", "a_b", "a-b") still get different names.
import { createHash } from "node:crypto";

export const FIELD_MANAGER = "vnf-cloudstack-shim";
/** On VnfDevice: the CloudStack VNF instance id the device serves. On rules: copied from the device. */
export const LABEL_VNF_INSTANCE = "vnf-operator.io/cloudstack-vnf-instance-id";
/** On rules: the ruleId when it is a valid label value, else "h-" + its hash (the annotation keeps it). */
export const LABEL_RULE_ID = "vnf-operator.io/cloudstack-rule-id";
export const LABEL_MANAGED_BY = "app.kubernetes.io/managed-by";
export const ANNOTATION_RULE_ID = "vnf-operator.io/cloudstack-rule-id";
/** SHA-256 over the canonical broker parameters the resource was last written from. */
export const ANNOTATION_OP_HASH = "vnf-operator.io/cloudstack-op-hash";
/**
 * On rules written as several resources (a comma list of CIDRs or ports): how many resources the
 * ruleId has, and the request as CloudStack sent it (JSON), the base of a later partial update.
 */
export const ANNOTATION_RULE_PARTS = "vnf-operator.io/cloudstack-rule-parts";
export const ANNOTATION_RULE_REQUEST = "vnf-operator.io/cloudstack-rule-request";
/** On VnfDevice: the CloudStack network id the device serves (POST /reconcile/{networkId}). */
export const LABEL_NETWORK_ID = "vnf-operator.io/cloudstack-network-id";
/**
 * On VnfDevice: the interface for rules whose request names none (CloudStack never sends one). An
 * annotation, not a label, because interface names such as ethernet1/1 are not label values.
 */
export const ANNOTATION_DEFAULT_INTERFACE = "vnf-operator.io/cloudstack-default-interface";

export type ShimRuleKind = "firewall" | "nat";

export const RULE_ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

export function sha256Hex(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

/** `cs-fw-<slug>-<hash10>` / `cs-nat-<slug>-<hash10>`: a DNS-1123 label (at most 63 characters). */
export function ruleResourceName(kind: ShimRuleKind, ruleId: string): string {
  const prefix = kind === "firewall" ? "cs-fw" : "cs-nat";
  const slug = ruleId
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .slice(0, 40)
    .replace(/^-+|-+$/g, "");
  const hash = sha256Hex(ruleId).slice(0, 10);
  return slug ? `${prefix}-${slug}-${hash}` : `${prefix}-${hash}`;
}

/**
 * The name of one resource of a ruleId written as several: the ruleId's name plus 4 hex digits of the
 * part's own parameters, so a part keeps its resource when the other parts of the list change.
 */
export function rulePartName(kind: ShimRuleKind, ruleId: string, partKey: string): string {
  return `${ruleResourceName(kind, ruleId)}-${sha256Hex(partKey).slice(0, 4)}`;
}

/** The ruleId as a label value when Kubernetes accepts it as one, else a stable hashed stand-in. */
export function ruleIdLabelValue(ruleId: string): string {
  return LABEL_VALUE.test(ruleId) && ruleId.length > 0 ? ruleId : `h-${sha256Hex(ruleId).slice(0, 40)}`;
}

/** Whether a VNF instance id can be matched through a label (CloudStack ids are numbers or UUIDs). */
export function isValidInstanceId(id: string): boolean {
  return id.length > 0 && LABEL_VALUE.test(id);
}
