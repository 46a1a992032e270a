// The NAT models the OPNsense simulator serves after the release's filter rule model (filter-rule.ts).
import { destinationNatRule, type ModelSpec } from "./models.ts";
import { oneToOneRule, sourceNatRule } from "./nat-models.ts";

export const natModels: readonly ModelSpec[] = [destinationNatRule, sourceNatRule, oneToOneRule];
