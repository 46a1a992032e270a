// Deleting a rule: by a body {ruleId} (the network element's POST …/delete) or by the path (the
// service's and the scaffold's DELETE …/{ruleId}, the enhanced family's DELETE …/delete/{ruleId}).
// A ruleId that has no resource (on the named instance) is "already deleted": a success, so a retried
// delete does not fail.
import type { Context, HandlerDeps } from "../context.ts";
import { instanceIdOf } from "../devices.ts";
import { type Reply, ruleReply } from "../dialects.ts";
import type { ShimRuleKind } from "../names.ts";
import { deleteRule, findRule } from "../rule-store.ts";
import { deleteWireSchema, parseBody } from "../wire.ts";
import { asObject, checkRuleId } from "./common.ts";

export async function deleteRequest(
  deps: HandlerDeps,
  ctx: Context,
  kind: ShimRuleKind,
  ruleIdParam?: string,
): Promise<Reply> {
  let ruleId: string;
  let body: Record<string, unknown> | undefined;
  if (ruleIdParam === undefined) {
    body = parseBody(deleteWireSchema, await ctx.body()) as Record<string, unknown>;
    ruleId = String(body.ruleId);
  } else {
    ruleId = checkRuleId(ruleIdParam);
    const raw = await ctx.body();
    body = raw === undefined ? undefined : asObject(raw);
  }
  // The enhanced family names the instance on every delete (400 without); the others may omit it.
  const wanted = ctx.dialect === "enhanced" ? instanceIdOf(ctx, body) : instanceIdOf(ctx, body, true);
  const stored = await findRule(deps, kind, ruleId);
  if (!stored || (wanted !== undefined && stored.instanceId !== wanted))
    return ruleReply(
      ctx.dialect,
      {
        answer: { state: "Completed", vendorRef: "", message: "no such rule (already deleted)" },
        ruleId,
        ...(wanted !== undefined ? { instanceId: wanted } : {}),
        created: false,
        operation: "delete",
      },
      ctx.requestId,
    );
  const answer = await deleteRule(deps, stored);
  return ruleReply(
    ctx.dialect,
    { answer, ruleId, instanceId: stored.instanceId, created: false, operation: "delete" },
    ctx.requestId,
  );
}
