// Small request checks the handlers share.
import { RULE_ID_PATTERN } from "../names.ts";
import { RequestValidationError } from "../wire.ts";

/** A ruleId from the path: the same pattern as in bodies. */
export function checkRuleId(ruleId: string): string {
  if (!RULE_ID_PATTERN.test(ruleId))
    throw new RequestValidationError([
      { loc: ["path", "ruleId"], msg: "1 to 128 letters, digits, '_' or '-'", type: "value_error" },
    ]);
  return ruleId;
}

export function asObject(body: unknown): Record<string, unknown> {
  if (body === null || typeof body !== "object" || Array.isArray(body))
    throw new RequestValidationError([
      { loc: ["body"], msg: "a JSON object is required", type: "object_type" },
    ]);
  return body as Record<string, unknown>;
}
