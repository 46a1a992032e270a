// Sample contexts for validating templates when a dictionary loads. Every template is rendered
// against several samples (a rule with every optional field, one with none, each NAT type...) seen
// through strict views: reading a variable that does not exist in that place (a typo, `credentials`
// outside auth, `vendorRef` in a create) fails the load with the variable's full name.
import type { ResourceKind } from "./rule-input.ts";
// Every key a rule of each kind can have (the shape strict views check reads against), from the CRDs.
import { RULE_SHAPES } from "./rule-schema.generated.ts";
import { strictView } from "./strict-view.ts";

export const RULE_SAMPLES: Record<ResourceKind, Record<string, unknown>[]> = {
  firewallRule: [
    {
      ruleId: "cs-1234",
      interface: "lan",
      direction: "in",
      action: "allow",
      protocol: "tcp",
      source: { cidr: "10.0.0.0/24", port: "1024-65535" },
      destination: { cidr: "192.0.2.10", port: "443" },
      description: "sample rule",
      enabled: true,
      log: true,
      priority: 100,
    },
    {
      interface: "wan",
      direction: "out",
      action: "deny",
      protocol: "any",
      source: { cidr: "any" },
      destination: { alias: "web_servers" },
      description: "",
      enabled: false,
      log: false,
    },
    {
      interface: "opt1",
      direction: "in",
      action: "reject",
      protocol: "udp",
      source: { alias: "clients" },
      destination: { cidr: "any", port: "53" },
      description: "dns",
      enabled: true,
      log: false,
    },
  ],
  natRule: [
    {
      type: "dnat",
      interface: "wan",
      protocol: "tcp",
      source: { cidr: "any" },
      destination: { address: "203.0.113.10", port: "8443" },
      translated: { address: "10.0.0.10", port: "443" },
      description: "sample forward",
      enabled: true,
      log: true,
      priority: 10,
    },
    {
      type: "dnat",
      interface: "wan",
      protocol: "udp",
      source: { cidr: "198.51.100.0/24" },
      destination: {},
      translated: { address: "10.0.0.11" },
      description: "",
      enabled: false,
      log: false,
    },
    {
      type: "snat",
      interface: "wan",
      protocol: "any",
      source: { cidr: "10.0.0.0/24" },
      destination: {},
      translated: {},
      description: "",
      enabled: true,
      log: false,
    },
    {
      type: "1to1",
      interface: "wan",
      protocol: "any",
      source: { cidr: "any" },
      destination: { address: "203.0.113.12" },
      translated: { address: "10.0.0.12" },
      description: "",
      enabled: true,
      log: false,
    },
  ],
};

/** Which variables a template location can see. */
export interface Scope {
  kind?: ResourceKind;
  /** "optional": the operation may run with or without a rule (delete: absent for an orphan). */
  rule?: boolean | "optional";
  marker?: boolean;
  vendorRef?: boolean;
  ruleNumber?: boolean;
  /** "optional": templates are checked with and without it (a create placed next to a neighbour). */
  position?: boolean | "optional";
  job?: boolean;
  /** Templates over a response (extractors, predicates): `response`. */
  response?: boolean;
  /** Templates over one vendor object (normalize, ownership, item vendorRef): `item`, `vendorRef`. */
  item?: boolean;
  /** An item vendorRef template: `itemKey`, the property name or index the item was found under. */
  itemKey?: boolean;
  credentials?: boolean;
  session?: boolean;
  /** Outputs of the steps before this one: step name → extracted keys. */
  steps: Record<string, string[]>;
}

export interface SampleInputs {
  parameters: Record<string, string>;
  valueMaps: Record<string, Record<string, unknown>>;
  reverseValueMaps: Record<string, Record<string, unknown>>;
  /** Collects every credentials key a template reads while it is checked (the Secret keys it needs). */
  credentialReads?: Set<string>;
}

const SAMPLE_SECRET = "sample-secret";

/** A permissive map (credentials): any key reads as a sample string, and is recorded in `reads`. */
function anyKeys(value: string, reads: Set<string> | undefined): Record<string, unknown> {
  return new Proxy({} as Record<string, unknown>, {
    get: (target, key) => {
      if (typeof key === "symbol" || key === "toJSON" || key === "then") return Reflect.get(target, key);
      reads?.add(key);
      return value;
    },
    has: () => true,
  });
}

/** Sample contexts for a scope (one per sample rule when the scope has a rule, else one). */
export function sampleContexts(scope: Scope, inputs: SampleInputs): Record<string, unknown>[] {
  const rules: Array<Record<string, unknown> | undefined> =
    scope.rule && scope.kind ? [...(RULE_SAMPLES[scope.kind] ?? [])] : [undefined];
  if (scope.rule === "optional") rules.push(undefined);
  const ruleShape = scope.kind ? RULE_SHAPES[scope.kind] : {};
  const stepsSample = Object.fromEntries(
    Object.entries(scope.steps).map(([name, keys]) => [name, Object.fromEntries(keys.map((k) => [k, "1"]))]),
  );
  const contexts = rules.map((rule) => {
    const ctx: Record<string, unknown> = {
      device: strictView({ parameters: inputs.parameters }, { parameters: inputs.parameters }, "device"),
      steps: strictView(stepsSample, stepsSample, "steps"),
      __valueMaps: inputs.valueMaps,
      __reverseValueMaps: inputs.reverseValueMaps,
    };
    if (scope.kind) ctx.kind = scope.kind;
    if (rule) ctx.rule = strictView(rule, ruleShape, "rule");
    else if (scope.rule === "optional") ctx.rule = undefined; // known, and absent in this sample
    if (scope.marker) {
      ctx.marker = "[vnf:sample-owner]";
      ctx.markerId = "sample-owner";
    }
    if (scope.vendorRef) ctx.vendorRef = "1700000000";
    if (scope.ruleNumber) ctx.ruleNumber = 100;
    if (scope.position) {
      const position = { where: "before", pivot: "1700000001", number: 1500, next: "1700000002" };
      ctx.position = strictView(position, position, "position");
    }
    if (scope.job) ctx.job = strictView({ id: "1" }, { id: "" }, "job");
    if (scope.response) ctx.response = { status: 200, headers: {}, body: {} };
    if (scope.item) ctx.item = {};
    if (scope.itemKey) ctx.itemKey = "10";
    if (scope.credentials) ctx.credentials = anyKeys(SAMPLE_SECRET, inputs.credentialReads);
    if (scope.session) ctx.session = strictView({ token: SAMPLE_SECRET }, { token: "" }, "session");
    return ctx;
  });
  if (scope.position !== "optional") return contexts;
  // With and without a position, once after and once before a neighbour.
  return contexts.flatMap((ctx) => {
    // An own `position: undefined`: known to the template (so `position is defined` works), absent.
    const without = { ...ctx, position: undefined };
    const after = { where: "after", pivot: "1700000001", number: 1500, next: "1700000002" };
    return [without, { ...ctx, position: strictView(after, after, "position") }, ctx];
  });
}
