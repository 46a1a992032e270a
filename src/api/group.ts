// API group, version and resource names of the vnf-operator CRDs, for clients and informers.
// test/unit/api/group.test.ts checks every value against crds/*.yaml.
import type { ResourceType } from "../runtime/resource.ts";

export const GROUP = "vnf-operator.io";
export const VERSION = "v1alpha1";
export const API_VERSION = `${GROUP}/${VERSION}` as const;

export interface ResourceNames {
  kind: string;
  listKind: string;
  plural: string;
  singular: string;
  shortName: string;
}

export const VNF_DEVICE = {
  kind: "VnfDevice",
  listKind: "VnfDeviceList",
  plural: "vnfdevices",
  singular: "vnfdevice",
  shortName: "vnfdev",
} as const satisfies ResourceNames;

export const VNF_FIREWALL_RULE = {
  kind: "VnfFirewallRule",
  listKind: "VnfFirewallRuleList",
  plural: "vnffirewallrules",
  singular: "vnffirewallrule",
  shortName: "vnffw",
} as const satisfies ResourceNames;

export const VNF_NAT_RULE = {
  kind: "VnfNatRule",
  listKind: "VnfNatRuleList",
  plural: "vnfnatrules",
  singular: "vnfnatrule",
  shortName: "vnfnat",
} as const satisfies ResourceNames;

export const RESOURCES = [VNF_DEVICE, VNF_FIREWALL_RULE, VNF_NAT_RULE] as const;

export type VnfKind = (typeof RESOURCES)[number]["kind"];
export type VnfPlural = (typeof RESOURCES)[number]["plural"];

/** The `kubectl get <category>` name that lists all three kinds. */
export const CATEGORY = "vnf";

/**
 * The label a Secret needs before the operator reads it (credentials and CA Secrets of VnfDevices):
 * the operator watches only Secrets that carry it, so it neither caches nor can be pointed at any other
 * Secret of a namespace.
 */
export const CREDENTIALS_LABEL = `${GROUP}/credentials`;
export const CREDENTIALS_SELECTOR = `${CREDENTIALS_LABEL}=true`;

/**
 * The annotation that makes a rule adopt an existing appliance object (its vendorRef) instead of
 * creating one: `vnf-operator import` writes it on every manifest it prints.
 */
export const ADOPT_ANNOTATION = `${GROUP}/adopt`;

/** `<plural>.<group>`, the CRD's metadata.name. */
export function crdName(resource: ResourceNames): string {
  return `${resource.plural}.${GROUP}`;
}

/** The three resources as the runtime addresses them (REST paths, informers, status writes). */
export const resourceTypes = {
  device: {
    group: GROUP,
    version: VERSION,
    plural: VNF_DEVICE.plural,
    kind: VNF_DEVICE.kind,
    namespaced: true,
  },
  firewallRule: {
    group: GROUP,
    version: VERSION,
    plural: VNF_FIREWALL_RULE.plural,
    kind: VNF_FIREWALL_RULE.kind,
    namespaced: true,
  },
  natRule: {
    group: GROUP,
    version: VERSION,
    plural: VNF_NAT_RULE.plural,
    kind: VNF_NAT_RULE.kind,
    namespaced: true,
  },
} as const satisfies Record<string, ResourceType>;
