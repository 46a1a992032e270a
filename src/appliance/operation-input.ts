// What the session checks before it sends anything: the dictionary supports the kind and operation,
// the spec is a valid rule, the ownership marker is well formed and fits the appliance's field, the
// rule number is in the dictionary's range. Each refusal is BROKER_INVALID_REQUEST: a request the
// appliance could never take is refused here, without a round trip, saying what to change.
import type {
  CompiledDictionary,
  CompiledOperation,
  CompiledResource,
  OperationName,
} from "../dictionary/compiled.ts";
import { VnfError } from "../dictionary/errors.ts";
import type { OperationInput } from "../dictionary/executor.ts";
import {
  canonicalRule,
  MARKER_ID_PATTERN,
  markerToken,
  type ResourceKind,
  type RuleSpec,
} from "../dictionary/rule-input.ts";
import type { RenderInput } from "./session-types.ts";

export function resourceOf(dictionary: CompiledDictionary, kind: ResourceKind): CompiledResource {
  const resource = dictionary.resources[kind];
  if (!resource) {
    throw new VnfError("BROKER_INVALID_REQUEST", `dictionary ${dictionary.name} does not support ${kind}`);
  }
  return resource;
}

export function operationOf(
  dictionary: CompiledDictionary,
  kind: ResourceKind,
  name: OperationName,
): CompiledOperation {
  const op = resourceOf(dictionary, kind).operations[name];
  if (!op)
    throw new VnfError("BROKER_INVALID_REQUEST", `dictionary ${dictionary.name} has no ${kind}.${name}`);
  return op;
}

/** The spec with the CRD's defaults applied; an invalid one is refused naming each bad field. */
export function canonicalSpec(kind: ResourceKind, spec: unknown): RuleSpec {
  try {
    return canonicalRule(kind, spec);
  } catch (error) {
    const issues = (error as { issues?: { path: PropertyKey[]; message: string }[] }).issues;
    const detail =
      issues?.map((i) => `${i.path.map(String).join(".")}: ${i.message}`).join("; ") ?? String(error);
    throw new VnfError("BROKER_INVALID_REQUEST", `invalid ${kind} spec: ${detail}`);
  }
}

/** A marker id goes into appliance fields and searches: only the characters the pattern allows. */
export function checkMarkerId(marker: string): void {
  if (!MARKER_ID_PATTERN.test(marker)) {
    throw new VnfError(
      "BROKER_INVALID_REQUEST",
      `invalid ownership marker id (must match ${MARKER_ID_PATTERN})`,
    );
  }
}

/** The executor's input for an operation, every part checked. */
export function operationInput(
  dictionary: CompiledDictionary,
  kind: ResourceKind,
  input: RenderInput,
): OperationInput {
  const out: OperationInput = {};
  if (input.rule !== undefined) out.rule = canonicalSpec(kind, input.rule);
  if (input.marker !== undefined) {
    checkMarkerId(input.marker);
    out.marker = input.marker;
    if (out.rule !== undefined) checkOwnershipBudget(dictionary, kind, out.rule, input.marker);
  }
  if (input.ruleNumber !== undefined) {
    const range = dictionary.ruleNumbers;
    if (range && (input.ruleNumber < range.min || input.ruleNumber > range.max)) {
      throw new VnfError(
        "BROKER_INVALID_REQUEST",
        `ruleNumber ${input.ruleNumber} outside ${range.min}-${range.max}`,
      );
    }
    out.ruleNumber = input.ruleNumber;
  } else if (dictionary.ruleNumbers && input.rule !== undefined) {
    throw new VnfError(
      "BROKER_INVALID_REQUEST",
      `dictionary ${dictionary.name} needs a client-allocated ruleNumber`,
    );
  }
  if (input.vendorRef !== undefined) out.vendorRef = input.vendorRef;
  if (input.position !== undefined) out.position = input.position;
  return out;
}

/**
 * The ownership field holds the description, a space and the marker token: refuse, before any
 * call, what the appliance's field cannot hold, saying how long the description may be.
 */
function checkOwnershipBudget(
  dictionary: CompiledDictionary,
  kind: ResourceKind,
  rule: RuleSpec,
  marker: string,
): void {
  const budget = resourceOf(dictionary, kind).ownershipBudget;
  if (!budget) return;
  const measure = (text: string) =>
    budget.unit === "bytes" ? Buffer.byteLength(text, "utf8") : [...text].length;
  const description = rule.description ?? "";
  const field = `${description} ${markerToken(marker)}`;
  const used = measure(field);
  if (used <= budget.maxLength) return;
  const room = budget.maxLength - (used - measure(description));
  throw new VnfError(
    "BROKER_INVALID_REQUEST",
    `spec.description is too long for this appliance: with the ownership marker the ${kind} field would hold ${used} ${budget.unit}, and dictionary ${dictionary.name} allows ${budget.maxLength}; shorten spec.description to at most ${Math.max(0, room)} ${budget.unit}`,
  );
}
