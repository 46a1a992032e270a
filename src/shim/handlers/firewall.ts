// Firewall rule requests: create (the CloudStack wire format, the CreateFirewallRuleCmd contract or
// the enhanced family's body), update, get and list. Each request is mapped to a spec (mapping.ts),
// split into resources when it holds address or port lists (fanout.ts), written (rule-store.ts) and
// answered in the route's dialect (dialects.ts).
import type { Context, HandlerDeps } from "../context.ts";
import { defaultInterfaceOf, deviceFor, instanceIdOf } from "../devices.ts";
import { type Reply, ruleReply } from "../dialects.ts";
import { HttpError } from "../errors.ts";
import { firewallParts } from "../fanout.ts";
import {
  checkFirewallSpec,
  dropMirroredSourcePorts,
  type FirewallFragment,
  type FirewallSpec,
  firewallContractFragment,
  firewallDefaults,
  firewallEnhancedFragment,
  firewallWireFragment,
  overlayFirewall,
} from "../mapping.ts";
import { LABEL_VNF_INSTANCE } from "../names.ts";
import { shimOpHash } from "../op-hash.ts";
import { findRule, requestOf, type StoredRule, writeRule } from "../rule-store.ts";
import { ruleView, ruleViews } from "../views.ts";
import {
  createFirewallRuleCmdSchema,
  enhancedFirewallSchema,
  enhancedFirewallUpdateSchema,
  firewallWireSchema,
  firewallWireUpdateSchema,
  isFirewallWireFormat,
  parseBody,
  RequestValidationError,
} from "../wire.ts";
import { asObject, checkRuleId } from "./common.ts";

/** A fragment from whichever body the route's family sends. */
function createFragment(ctx: Context, raw: Record<string, unknown>): FirewallFragment {
  if (ctx.dialect === "enhanced") return firewallEnhancedFragment(parseBody(enhancedFirewallSchema, raw));
  if (isFirewallWireFormat(raw)) {
    const body = parseBody(firewallWireSchema, raw);
    return firewallWireFragment(ctx.dialect === "network-element" ? dropMirroredSourcePorts(body) : body);
  }
  return firewallContractFragment(parseBody(createFirewallRuleCmdSchema, raw));
}

function updateFragment(ctx: Context, raw: Record<string, unknown>): FirewallFragment {
  if (ctx.dialect === "enhanced")
    return firewallEnhancedFragment(parseBody(enhancedFirewallUpdateSchema, raw));
  const contract = ["interface", "direction", "src", "dst", "ports"].some((k) => Object.hasOwn(raw, k));
  return isFirewallWireFormat(raw) || !contract
    ? firewallWireFragment(parseBody(firewallWireUpdateSchema, raw))
    : firewallContractFragment(parseBody(createFirewallRuleCmdSchema, raw));
}

export async function createFirewall(deps: HandlerDeps, ctx: Context): Promise<Reply> {
  const raw = asObject(await ctx.body());
  const fragment = createFragment(ctx, raw);
  const instanceId = instanceIdOf(ctx, raw);
  const device = await deviceFor(deps, ctx, instanceId);
  const spec = checkFirewallSpec(
    overlayFirewall(firewallDefaults(defaultInterfaceOf(device, deps.defaultInterface)), fragment),
  );
  delete (spec as { ruleId?: string }).ruleId;
  // The contract makes ruleId optional: derive one from the parameters so a repeat is still idempotent.
  const ruleId =
    fragment.ruleId ??
    `h-${shimOpHash({ kind: "firewall", vnfInstanceId: instanceId, ruleId: "", spec }).slice(0, 32)}`;
  const outcome = await writeRule(deps, {
    kind: "firewall",
    device,
    instanceId,
    ruleId,
    request: spec,
    parts: firewallParts(spec),
  });
  return ruleReply(ctx.dialect, { ...outcome, ruleId, instanceId, operation: "create" }, ctx.requestId);
}

/**
 * PUT: the body's members laid over the rule's last request. The enhanced family's PUT carries the
 * whole rule, so there an unknown ruleId is created (its seed tests update a rule never created).
 */
export async function updateFirewall(deps: HandlerDeps, ctx: Context, ruleIdParam: string): Promise<Reply> {
  const raw = asObject(await ctx.body());
  const ruleId = checkRuleId(ruleIdParam);
  if (raw.ruleId !== undefined && raw.ruleId !== ruleId)
    throw new RequestValidationError([
      { loc: ["body", "ruleId"], msg: "differs from the ruleId in the path", type: "value_error" },
    ]);
  const fragment = updateFragment(ctx, raw);
  const wanted = instanceIdOf(ctx, raw, true);
  const stored = await findRule(deps, "firewall", ruleId);
  if (stored && wanted !== undefined && stored.instanceId !== wanted)
    throw new HttpError(
      "conflict",
      `ruleId ${ruleId} is used on VNF instance ${stored.instanceId}, not ${wanted}`,
    );
  if (!stored && ctx.dialect !== "enhanced")
    throw new HttpError("not_found", `no firewall rule with ruleId ${ruleId}`, { extra: { ruleId } });
  const instanceId = stored?.instanceId ?? instanceIdOf(ctx, raw);
  const device = await deviceFor(deps, ctx, instanceId);
  const base = stored
    ? (requestOf(stored) as Partial<FirewallSpec>)
    : firewallDefaults(defaultInterfaceOf(device, deps.defaultInterface));
  const spec = checkFirewallSpec(overlayFirewall(base, fragment));
  delete (spec as { ruleId?: string }).ruleId;
  const outcome = await writeRule(
    deps,
    { kind: "firewall", device, instanceId, ruleId, request: spec, parts: firewallParts(spec) },
    stored,
  );
  return ruleReply(ctx.dialect, { ...outcome, ruleId, instanceId, operation: "update" }, ctx.requestId);
}

export async function getFirewall(deps: HandlerDeps, ctx: Context, ruleIdParam: string): Promise<Reply> {
  const ruleId = checkRuleId(ruleIdParam);
  const stored = await storedOn(deps, ctx, ruleId);
  return { status: 200, body: { success: true, ...ruleView(stored) } };
}

/** GET …/list?vnfInstanceId= (the instance is required; without it the enhanced family answers 400). */
export async function listFirewall(deps: HandlerDeps, ctx: Context): Promise<Reply> {
  const instanceId = instanceIdOf(ctx, undefined);
  const views = ruleViews(await deps.kube.listRules("firewall", `${LABEL_VNF_INSTANCE}=${instanceId}`));
  return {
    status: 200,
    body: { success: true, vnfInstanceId: instanceId, count: views.length, rules: views },
  };
}

/** The stored rule a ruleId names, on the request's instance when it names one; 404 otherwise. */
async function storedOn(deps: HandlerDeps, ctx: Context, ruleId: string): Promise<StoredRule> {
  const wanted = instanceIdOf(ctx, undefined, true);
  const stored = await findRule(deps, "firewall", ruleId);
  if (!stored || (wanted !== undefined && stored.instanceId !== wanted))
    throw new HttpError("not_found", `no firewall rule with ruleId ${ruleId}`, { extra: { ruleId } });
  return stored;
}
