// A CloudStack rule in the cluster: the VnfFirewallRule/VnfNatRule resources one ruleId is written
// as (usually one; one per combination for address or port lists), found by the ruleId label, written
// with server-side apply, answered from their status, and deleted together.
import type { VnfDevice } from "../api/types.ts";
import type { HandlerDeps } from "./context.ts";
import { fromApiError, HttpError } from "./errors.ts";
import type { RulePart } from "./fanout.ts";
import type { ShimRule } from "./kube.ts";
import {
  ANNOTATION_OP_HASH,
  ANNOTATION_RULE_ID,
  ANNOTATION_RULE_PARTS,
  ANNOTATION_RULE_REQUEST,
  LABEL_MANAGED_BY,
  LABEL_RULE_ID,
  LABEL_VNF_INSTANCE,
  ruleIdLabelValue,
  rulePartName,
  ruleResourceName,
  type ShimRuleKind,
} from "./names.ts";
import { canonicalJson, shimOpHash } from "./op-hash.ts";
import { combineAnswers, decide, type RuleAnswer } from "./outcome.ts";
import { type RuleRef, waitForAnswers, waitGone } from "./waiting.ts";

/** The resources a ruleId has in the cluster (at least one). */
export interface StoredRule {
  kind: ShimRuleKind;
  ruleId: string;
  instanceId: string;
  parts: ShimRule[];
}

/** The resources of a ruleId across the configured namespaces, or undefined when it has none. */
export async function findRule(
  deps: HandlerDeps,
  kind: ShimRuleKind,
  ruleId: string,
): Promise<StoredRule | undefined> {
  const found = await deps.kube.listRules(kind, `${LABEL_RULE_ID}=${ruleIdLabelValue(ruleId)}`);
  const parts = found.filter(
    (r) => (r.metadata.annotations?.[ANNOTATION_RULE_ID] ?? r.spec.ruleId) === ruleId,
  );
  const first = parts[0];
  if (!first) return undefined;
  return { kind, ruleId, instanceId: first.metadata.labels?.[LABEL_VNF_INSTANCE] ?? "", parts };
}

/** The request the rule was last written from (its spec without deviceRef and ruleId). */
export function requestOf(rule: StoredRule): Record<string, unknown> {
  const first = rule.parts[0] as ShimRule;
  const stored = first.metadata.annotations?.[ANNOTATION_RULE_REQUEST];
  if (stored) return JSON.parse(stored) as Record<string, unknown>;
  const { deviceRef: _device, ruleId: _ruleId, ...spec } = first.spec;
  return spec;
}

export interface WriteRequest<S extends object> {
  kind: ShimRuleKind;
  device: VnfDevice;
  instanceId: string;
  ruleId: string;
  /** The whole request, lists included (kept on the resources when there are several). */
  request: S;
  parts: Array<RulePart<S>>;
}

export interface WriteOutcome {
  answer: RuleAnswer;
  /** No resource of the ruleId existed before. */
  created: boolean;
}

/**
 * Writes the rule's resources (only those whose parameters changed), removes parts the request no
 * longer has, and waits for the answer. `existing` saves a lookup when the caller already did one.
 */
export async function writeRule<S extends object>(
  deps: HandlerDeps,
  write: WriteRequest<S>,
  existingArg?: StoredRule,
): Promise<WriteOutcome> {
  const { kind, device, instanceId, ruleId } = write;
  const namespace = device.metadata.namespace ?? "";
  const deviceName = device.metadata.name ?? "";
  const existing = existingArg ?? (await findRule(deps, kind, ruleId));
  if (existing?.parts.some((p) => p.spec.deviceRef.name !== deviceName || p.metadata.namespace !== namespace))
    throw new HttpError("conflict", `ruleId ${ruleId} is already used on another VNF instance`);

  const listed = write.parts.length > 1;
  const desired = write.parts.map((part) => ({
    name: listed ? rulePartName(kind, ruleId, part.key) : ruleResourceName(kind, ruleId),
    spec: { deviceRef: { name: deviceName }, ruleId, ...part.spec },
  }));
  const byName = new Map((existing?.parts ?? []).map((p) => [p.metadata.name, p]));
  const deleting = desired.filter((d) => byName.get(d.name)?.metadata.deletionTimestamp);
  if (deleting.length > 0) {
    const left = await waitGone(
      deps.kube,
      deleting.map((d) => ({ kind, namespace, name: d.name })),
      deps.wait,
    );
    if (left.length > 0)
      throw new HttpError("conflict", `rule ${ruleId} is still being deleted; retry later`);
    for (const d of deleting) byName.delete(d.name);
  }

  const refs: RuleRef[] = [];
  for (const part of desired) {
    const opHash = shimOpHash({ kind, vnfInstanceId: instanceId, ruleId, spec: part.spec });
    const current = byName.get(part.name);
    if (current && current.metadata.annotations?.[ANNOTATION_OP_HASH] === opHash) {
      // The same request again: nothing to write, the answer comes from the status.
      refs.push({ kind, namespace, name: part.name, generation: current.metadata.generation ?? 1 });
      continue;
    }
    const applied = await apply(deps, kind, namespace, {
      name: part.name,
      instanceId,
      ruleId,
      opHash,
      spec: part.spec,
      ...(listed ? { parts: write.parts.length, request: canonicalJson(write.request) } : {}),
    });
    refs.push({ kind, namespace, name: part.name, generation: applied.metadata.generation ?? 1 });
  }
  // Parts the request no longer has (a CIDR removed from the list): their finalizer cleans up.
  const wanted = new Set(desired.map((d) => d.name));
  for (const stale of existing?.parts ?? [])
    if (!wanted.has(stale.metadata.name)) await deps.kube.deleteRule(kind, namespace, stale.metadata.name);

  const answer = combineAnswers(await waitForAnswers(deps.kube, refs, deps.wait));
  deps.metrics.answers.inc({ kind, state: answer.state });
  return { answer, created: existing === undefined };
}

async function apply(
  deps: HandlerDeps,
  kind: ShimRuleKind,
  namespace: string,
  part: {
    name: string;
    instanceId: string;
    ruleId: string;
    opHash: string;
    spec: Record<string, unknown>;
    parts?: number;
    request?: string;
  },
): Promise<ShimRule> {
  try {
    return await deps.kube.applyRule(kind, namespace, {
      metadata: {
        name: part.name,
        namespace,
        labels: {
          [LABEL_VNF_INSTANCE]: part.instanceId,
          [LABEL_RULE_ID]: ruleIdLabelValue(part.ruleId),
          [LABEL_MANAGED_BY]: "vnf-cloudstack-shim",
        },
        annotations: {
          [ANNOTATION_RULE_ID]: part.ruleId,
          [ANNOTATION_OP_HASH]: part.opHash,
          ...(part.parts !== undefined ? { [ANNOTATION_RULE_PARTS]: String(part.parts) } : {}),
          ...(part.request !== undefined ? { [ANNOTATION_RULE_REQUEST]: part.request } : {}),
        },
      },
      spec: part.spec as ShimRule["spec"],
    });
  } catch (error) {
    throw fromApiError(error);
  }
}

/**
 * Deletes every resource of the rule and waits until the operator removed them from the appliance.
 * Completed when gone; Failed when a part's deletion stalled (the appliance refused); else Pending.
 */
export async function deleteRule(deps: HandlerDeps, rule: StoredRule): Promise<RuleAnswer> {
  const refs = rule.parts.map((p) => ({
    kind: rule.kind,
    namespace: p.metadata.namespace ?? "",
    name: p.metadata.name,
  }));
  for (const ref of refs) await deps.kube.deleteRule(ref.kind, ref.namespace, ref.name);
  const left = await waitGone(deps.kube, refs, deps.wait);
  const answer = leftAnswer(rule, left, deps.wait.timeoutMs);
  deps.metrics.answers.inc({ kind: rule.kind, state: answer.state });
  return answer;
}

function leftAnswer(rule: StoredRule, left: ShimRule[], timeoutMs: number): RuleAnswer {
  if (left.length === 0)
    return {
      state: "Completed",
      vendorRef: rule.parts.map((p) => p.status?.vendorRef ?? "").join(","),
      message: "deleted from the appliance",
    };
  for (const part of left) {
    const decided = decide(part, part.metadata.generation ?? 1);
    if (decided?.state === "Failed") return { ...decided, message: `deletion refused: ${decided.message}` };
  }
  const first = left[0] as ShimRule;
  const ready = first.status?.conditions?.find((c) => c.type === "Ready");
  const detail = ready?.message ? ` (${ready.reason}: ${ready.message})` : "";
  return {
    state: "Pending",
    ...(first.status?.errorCode ? { errorCode: first.status.errorCode } : {}),
    message: `deletion not finished within ${Math.round(timeoutMs / 1000)}s${detail}; repeat the request for the outcome`,
  };
}
