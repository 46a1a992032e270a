// NAT rule requests: the CloudStack wire format (network element), the service's port-forward payload
// and the enhanced family's body. The last two carry no ruleId: it is derived from what the rule
// matches (type, protocol, source, original destination), so a retry lands on the same resource and a
// new target for the same public address and port updates the forward instead of adding a second one.
import type { Context, HandlerDeps } from "../context.ts";
import { defaultInterfaceOf, deviceFor, instanceIdOf } from "../devices.ts";
import { type Reply, ruleReply } from "../dialects.ts";
import { type NatSpec, natSpecFromEnhanced, natSpecFromService, natSpecFromWire } from "../mapping.ts";
import { shimOpHash } from "../op-hash.ts";
import { writeRule } from "../rule-store.ts";
import {
  enhancedNatSchema,
  isServiceNatPayload,
  natWireSchema,
  parseBody,
  serviceNatSchema,
} from "../wire.ts";
import { asObject } from "./common.ts";

/** A ruleId for a body without one: a hash of what the rule matches. */
export function derivedNatRuleId(instanceId: string, spec: NatSpec): string {
  const matches = {
    type: spec.type,
    protocol: spec.protocol,
    source: spec.source,
    destination: spec.destination,
  };
  return `nat-${shimOpHash({ kind: "nat", vnfInstanceId: instanceId, ruleId: "", spec: matches }).slice(0, 32)}`;
}

interface NatBody {
  ruleId: string | undefined;
  /** The spec, given the device's default interface. */
  spec(defaultInterface: string | undefined): NatSpec;
}

/** Whichever NAT body the route's family sends. */
function natBody(ctx: Context, raw: Record<string, unknown>): NatBody {
  if (ctx.dialect === "enhanced") {
    const body = parseBody(enhancedNatSchema, raw);
    return { ruleId: body.ruleId, spec: (iface) => natSpecFromEnhanced(body, iface) };
  }
  if (isServiceNatPayload(raw)) {
    const body = parseBody(serviceNatSchema, raw);
    return { ruleId: body.ruleId, spec: (iface) => natSpecFromService(body, iface) };
  }
  const body = parseBody(natWireSchema, raw);
  return { ruleId: body.ruleId, spec: (iface) => natSpecFromWire(body, iface) };
}

export async function createNat(deps: HandlerDeps, ctx: Context): Promise<Reply> {
  const raw = asObject(await ctx.body());
  const body = natBody(ctx, raw);
  const instanceId = instanceIdOf(ctx, raw);
  const device = await deviceFor(deps, ctx, instanceId);
  const spec = body.spec(defaultInterfaceOf(device, deps.defaultInterface));
  const ruleId = body.ruleId ?? derivedNatRuleId(instanceId, spec);
  const outcome = await writeRule(deps, {
    kind: "nat",
    device,
    instanceId,
    ruleId,
    request: spec,
    parts: [{ key: "", spec }],
  });
  return ruleReply(ctx.dialect, { ...outcome, ruleId, instanceId, operation: "create" }, ctx.requestId);
}
