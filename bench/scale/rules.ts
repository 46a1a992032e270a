// The objects a scale scenario creates: per device a credentials Secret, a CA Secret and a VnfDevice
// (drift detection on, limits as the scenario says), and N firewall rules spread round-robin over the
// devices. Rules reference address objects the simulators are seeded with (`bench-net-K`) and a
// protocol without ports (a predefined service), so each rule is exactly one FortiOS policy: one
// appliance call to create, one to delete.
export const GROUP = "vnf-operator.io";
export const VERSION = "v1alpha1";
export const ALIASES = 20;
const PROTOCOLS = ["tcp", "udp", "icmp"];

export type Limits = "set" | "lifted";

/** FortiOS's own documented pace (the dictionary's defaults) vs. as much as the CRD allows. */
export function deviceLimits(limits: Limits): { maxConcurrentRequests: number; requestsPerSecond: number } {
  return limits === "set"
    ? { maxConcurrentRequests: 4, requestsPerSecond: 10 }
    : { maxConcurrentRequests: 64, requestsPerSecond: 1000 };
}

export function deviceName(d: number): string {
  return `fgt-${d}`;
}

export function ruleName(i: number): string {
  return `rule-${String(i).padStart(5, "0")}`;
}

export function ruleSpec(i: number, devices: number): Record<string, unknown> {
  return {
    deviceRef: { name: deviceName(i % devices) },
    interface: "port1",
    action: "allow",
    protocol: PROTOCOLS[i % PROTOCOLS.length],
    source: { cidr: "any" },
    destination: { alias: `bench-net-${i % ALIASES}` },
    description: `bench rule ${i}`,
  };
}

export function aliasObject(k: number): Record<string, unknown> {
  return { name: `bench-net-${k}`, subnet: `10.${k}.0.0/16` };
}

export function deviceManifest(
  d: number,
  endpoint: string,
  limits: Limits,
  driftIntervalSeconds: number,
): Record<string, unknown> {
  const name = deviceName(d);
  return {
    apiVersion: `${GROUP}/${VERSION}`,
    kind: "VnfDevice",
    metadata: { name },
    spec: {
      vendor: "fortios",
      endpoint,
      credentialsSecretRef: { name: `${name}-credentials` },
      tls: { caSecretRef: { name: `${name}-ca` } },
      limits: deviceLimits(limits),
      driftDetection: { interval: `${driftIntervalSeconds}s`, mode: "Repair" },
    },
  };
}
