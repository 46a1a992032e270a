// The CRD types the operator uses. The interfaces are generated from crds/*.yaml into
// types.generated.ts (run hack/gen-crd-types after changing the YAML); this module re-exports them
// under one stable path and adds the unions the controllers need.
import type {
  VnfFirewallRule,
  VnfFirewallRuleSpec,
  VnfFirewallRuleStatus,
  VnfNatRule,
  VnfNatRuleSpec,
} from "./types.generated.ts";

export type * from "./types.generated.ts";

/** Either rule kind: both share deviceRef, ruleId, deletionPolicy and the status (operation journal). */
export type VnfRule = VnfFirewallRule | VnfNatRule;
export type VnfRuleSpec = VnfFirewallRuleSpec | VnfNatRuleSpec;
/** The status both rule kinds share (the generator proves they are identical). */
export type VnfRuleStatus = VnfFirewallRuleStatus;
