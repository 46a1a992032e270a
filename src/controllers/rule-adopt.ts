// Adoption in place: a rule annotated `vnf-operator.io/adopt: <vendorRef>` (what `vnf-operator import`
// writes) takes over that existing appliance object on its first apply: it writes our ownership marker
// into it (an update, never a create, so no duplicate), after checking that the object
//   1. still exists,
//   2. belongs to nobody else (no ownership marker, or a disowned one, or already this rule's own —
//      a retried adoption), and
//   3. holds what the rule's spec renders to, on every field the dictionary reads back: the update
//      must not change what the appliance enforces, only who owns it.
// Otherwise it refuses, saying which of the three failed and, for 3, what differs (field, appliance
// value, spec value). The refusal is re-checked on every change of the rule and every minute, so
// fixing the spec, the appliance or the annotation is picked up without a restart.
import { ADOPT_ANNOTATION } from "../api/group.ts";
import { VnfError } from "../dictionary/errors.ts";
import { isDisowned } from "./markers.ts";
import type { DeviceSession, ObservedObject, RuleKind, RuleRequest } from "./ports.ts";
import type { RulePlan } from "./rule-plan.ts";
import type { RuleOutcome } from "./rule-status.ts";

/** How often a refused adoption is checked again (besides every change of the rule). */
export const ADOPTION_RECHECK_MS = 60_000;

export type AdoptionDecision =
  /** Write our marker (and the spec's rendering, which matches) into the object. */
  { adopt: true; alreadyOurs: boolean } | { adopt: false; message: string };

/**
 * The vendorRef a rule asks to adopt, when adoption applies: the annotation is set and the rule has
 * never held an appliance object (no vendorRef, no applied request). Afterwards the annotation is
 * history: an object deleted behind our back is recreated as usual, not "adopted" again.
 */
export function adoptionTarget(rule: {
  metadata: { annotations?: Record<string, string> };
  status?: { vendorRef?: string; opHash?: string };
}): string | undefined {
  const target = rule.metadata.annotations?.[ADOPT_ANNOTATION]?.trim();
  if (!target) return undefined;
  if (rule.status?.vendorRef !== undefined || rule.status?.opHash !== undefined) return undefined;
  return target;
}

/** The adopted object's rule number, on appliances whose rules are numbered by the client (VyOS). */
export function adoptedRuleNumber(
  rule: Parameters<typeof adoptionTarget>[0],
  range: { min: number; max: number },
): number | undefined {
  const target = adoptionTarget(rule);
  if (target === undefined || !/^\d+$/.test(target)) return undefined;
  const number = Number(target);
  return number >= range.min && number <= range.max ? number : undefined;
}

export interface AdoptionFacts {
  kind: string;
  vendorRef: string;
  /** The object as read now; undefined when the appliance has none under that vendorRef. */
  object: ObservedObject | undefined;
  /** The marker this rule writes. */
  ownMarker: string;
  /** Field paths where the object differs from the spec (the session's comparison). */
  differences: string[];
  /** The desired spec, canonical (for the values in the message). */
  spec: Record<string, unknown>;
}

function valueAt(value: unknown, path: string): unknown {
  let current: unknown = value;
  for (const key of path.split(".")) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

function shown(value: unknown): string {
  return value === undefined ? "unset" : JSON.stringify(value);
}

export function decideAdoption(facts: AdoptionFacts): AdoptionDecision {
  const what = `${facts.kind} ${facts.vendorRef} (annotation ${ADOPT_ANNOTATION})`;
  const { object } = facts;
  if (object === undefined) {
    return {
      adopt: false,
      message: `cannot adopt ${what}: the appliance has no such object (deleted, or another id); fix the annotation, or remove it to create the rule`,
    };
  }
  if (object.marker === facts.ownMarker) return { adopt: true, alreadyOurs: true };
  if (object.marker !== undefined && !isDisowned(object.marker)) {
    return {
      adopt: false,
      message: `cannot adopt ${what}: it already carries an ownership marker ([vnf:${object.marker}]): another rule or another vnf-operator manages it`,
    };
  }
  if (facts.differences.length > 0) {
    const diffs = facts.differences.map(
      (path) =>
        `${path} (appliance ${shown(valueAt(object.normalized, path))}, spec ${shown(valueAt(facts.spec, path))})`,
    );
    return {
      adopt: false,
      message: `cannot adopt ${what}: the spec does not match the object, adopting would change the appliance: ${diffs.join("; ")}; make the spec match (vnf-operator import prints it) or change the object`,
    };
  }
  return { adopt: true, alreadyOurs: false };
}

/** Adopts the annotated object: our marker written by an update (the check before said it matches). */
export async function adoptInPlace(
  session: DeviceSession,
  kind: RuleKind,
  plan: Extract<RulePlan, { step: "apply" }>,
  request: RuleRequest,
  vendorRef: string,
  signal?: AbortSignal,
): Promise<RuleOutcome> {
  const current = await session.get(kind, vendorRef, signal);
  // Gone or taken since the check: refuse now rather than write (the next reconcile says why).
  const decision = decideAdoption({
    kind,
    vendorRef,
    object: current,
    ownMarker: request.marker,
    differences: current ? session.differences(kind, request, current) : [],
    spec: request.spec as Record<string, unknown>,
  });
  if (!decision.adopt) throw new VnfError("VNF_CONFLICT", decision.message);
  if (!decision.alreadyOurs) await session.update(kind, vendorRef, request, signal);
  const ruleNumber = request.ruleNumber;
  return {
    type: "applied",
    action: "adopted",
    vendorRef,
    opHash: plan.opHash,
    ...(ruleNumber !== undefined ? { ruleNumber } : {}),
  };
}
