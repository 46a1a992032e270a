// A rule's write and the activation that makes it live: the write's slot in a safe-apply batch
// (the savepoint comes first), and the write as a member of its batch (failure isolation).
import type { ActivationMember, DeviceSession, RuleKind, RuleRequest } from "./ports.ts";
import type { RuleOutcome } from "./rule-status.ts";

/**
 * One write and the activation that makes it live. Safe apply: the batch's savepoint is taken before
 * the write (beginWrite), so a rollback after a failed health check covers it.
 */
export async function writeThenActivate<R>(
  session: DeviceSession,
  write: () => Promise<R>,
  memberOf: (result: R) => ActivationMember | undefined,
  signal: AbortSignal,
): Promise<R> {
  const slot = await session.beginWrite?.(signal);
  let result: R;
  try {
    result = await write();
  } catch (error) {
    slot?.release();
    throw error;
  }
  const member = memberOf(result);
  await session.activate(signal, { ...(member ? { member } : {}), ...(slot ? { slot } : {}) });
  return result;
}

/**
 * This reconcile's write as a member of its activation batch, so that a batch failing because of
 * another rule does not fail this one (and this one, when at fault, is withdrawn): only when the
 * dictionary can withdraw writes and something was written.
 */
export function batchMember(
  session: DeviceSession,
  kind: RuleKind,
  request: RuleRequest,
  outcome: RuleOutcome,
  signal?: AbortSignal,
): ActivationMember | undefined {
  if (outcome.type !== "applied" || outcome.action === "verified" || !session.canWithdraw?.(kind)) {
    return undefined;
  }
  const created = outcome.action === "created";
  const member: ActivationMember = {
    kind,
    vendorRef: outcome.vendorRef,
    withdraw: () => session.revert?.(kind, member.vendorRef, signal) ?? Promise.resolve(),
    rewrite: async () => {
      if (created) return (await session.create(kind, request, signal)).vendorRef;
      const updated = await session.update(kind, member.vendorRef, request, signal);
      return updated?.vendorRef ?? member.vendorRef;
    },
  };
  return member;
}
