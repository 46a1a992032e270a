// A rule kind's resource: ownership field, normalisation, the reverse mapping (import) and its
// operations, each compiled in the scope of variables that operation can see.

import { type CompileContext, templateAt } from "./compile-context.ts";
import { compileOperation, type OperationSpecLike } from "./compile-request.ts";
import type { CompiledOperation, CompiledOrdering, CompiledResource, OperationName } from "./compiled.ts";
import { type DocPath, LocatedError } from "./located.ts";
import { type CompiledImport, compileReverse } from "./reverse.ts";
import type { ResourceKind } from "./rule-input.ts";
import type { Scope } from "./samples.ts";
import type { OperationsSpec, ResourceSpec } from "./schema.ts";
import { type CompiledStructure, compileStructure, StructureError, structureTemplates } from "./structure.ts";

function operationScope(kind: ResourceKind, op: OperationName, ruleNumbers: boolean): Scope {
  const base: Scope = { kind, steps: {} };
  switch (op) {
    case "create":
      // `position`: where to place the new rule, when a neighbour is already on the appliance.
      return { ...base, rule: true, marker: true, ruleNumber: ruleNumbers, position: "optional" };
    case "update":
      return { ...base, rule: true, marker: true, ruleNumber: ruleNumbers, vendorRef: true };
    case "get":
    case "revert":
      return { ...base, vendorRef: true };
    case "delete":
      // The rule being deleted, when the operator has it (not for an orphan a drift check removes).
      return { ...base, vendorRef: true, rule: "optional" };
    case "move":
      return { ...base, vendorRef: true, position: true };
    case "findByMarker":
      return { ...base, marker: true };
    case "list":
      return base;
  }
}

const OPERATION_ORDER: OperationName[] = [
  "create",
  "get",
  "list",
  "update",
  "delete",
  "move",
  "revert",
  "findByMarker",
];

export function compileResource(
  kind: ResourceKind,
  spec: ResourceSpec,
  path: DocPath,
  cc: CompileContext,
  ruleNumbers: boolean,
): CompiledResource | undefined {
  const { problems, validator } = cc;
  const itemScope: Scope = { kind, item: true, vendorRef: true, steps: {} };
  const ownershipField = problems.at(() => templateAt([...path, "ownership", "field"], spec.ownership.field));
  problems.at(() => validator.template([...path, "ownership", "field"], ownershipField, itemScope));
  const normalize = problems.at(() => {
    try {
      return compileStructure(spec.normalize, "none", [...path, "normalize"]);
    } catch (error) {
      if (error instanceof StructureError)
        throw new LocatedError(error.path, `template error: ${error.message}`);
      throw error;
    }
  });
  if (normalize) {
    for (const [at, template] of structureTemplates(normalize, [...path, "normalize"])) {
      problems.at(() => validator.template(at, template, itemScope));
    }
  }
  const reverse = compileImportSection(kind, spec, normalize, path, cc, itemScope);
  const operations: Partial<Record<OperationName, CompiledOperation>> = {};
  const opsSpec = spec.operations as OperationsSpec;
  for (const name of OPERATION_ORDER) {
    const opSpec = opsSpec[name];
    if (opSpec === undefined) continue;
    const opPath = [...path, "operations", name];
    const compiled = compileOperation(
      name,
      opSpec as OperationSpecLike,
      opPath,
      operationScope(kind, name, ruleNumbers),
      cc,
    );
    if (compiled) {
      operations[name] = compiled;
      if (name === "list" || name === "findByMarker") checkListItems(opSpec as OperationSpecLike, opPath, cc);
    }
  }
  const ordering = spec.ordering && compileOrdering(kind, spec.ordering, [...path, "ordering"], cc);
  if (spec.ordering?.number !== undefined && !operations.move && !ruleNumbers) {
    problems.list.push(
      new LocatedError(
        [...path, "ordering", "number"],
        "numbered ordering needs operations.move, or ruleNumbers (the number is the rule's identity: updates renumber)",
      ),
    );
  }
  if (!ownershipField || !normalize) return undefined;
  const { create, get, list, update, delete: del } = operations;
  if (!create || !get || !list || !update || !del) return undefined;
  const budget = spec.ownership.maxLength;
  return {
    kind,
    ownershipField,
    ...(budget === undefined ? {} : { ownershipBudget: { maxLength: budget, unit: spec.ownership.unit } }),
    normalize,
    ...(reverse ? { reverse } : {}),
    ...(ordering ? { ordering } : {}),
    operations: { ...operations, create, get, list, update, delete: del },
  };
}

function compileOrdering(
  kind: ResourceKind,
  spec: NonNullable<ResourceSpec["ordering"]>,
  path: DocPath,
  cc: CompileContext,
): CompiledOrdering | undefined {
  const { problems, validator } = cc;
  const scope = problems.at(() => templateAt([...path, "scope"], spec.scope));
  problems.at(() => validator.template([...path, "scope"], scope, { kind, rule: true, steps: {} }));
  const number =
    spec.number === undefined
      ? undefined
      : problems.at(() => templateAt([...path, "number"], spec.number ?? ""));
  problems.at(() =>
    validator.template([...path, "number"], number, { kind, item: true, vendorRef: true, steps: {} }),
  );
  if (!scope) return undefined;
  return Object.assign(
    { scope } as CompiledOrdering,
    number ? { number } : {},
    spec.numbers ? { numbers: spec.numbers } : {},
  );
}

function compileImportSection(
  kind: ResourceKind,
  spec: ResourceSpec,
  normalize: CompiledStructure | undefined,
  path: DocPath,
  cc: CompileContext,
  itemScope: Scope,
): CompiledImport | undefined {
  if (spec.import === undefined || !normalize) return undefined;
  const normalizeKeys = normalize.kind === "map" ? normalize.entries.map(([key]) => key) : [];
  const reverse = compileReverse(kind, spec.import, normalizeKeys, [...path, "import"]);
  cc.problems.list.push(...reverse.problems);
  for (const [at, template, condition] of reverse.templates) {
    cc.problems.at(() => cc.validator.template(at, template, itemScope, condition));
  }
  return reverse.problems.length === 0 ? reverse.compiled : undefined;
}

/** A list's items: from the inline `items` shorthand (compiled with its step) or on the steps. */
function checkListItems(spec: OperationSpecLike, path: DocPath, cc: CompileContext): void {
  if (spec.items !== undefined && spec.steps !== undefined) {
    cc.problems.list.push(new LocatedError([...path, "items"], "with `steps`, declare `items` on the steps"));
    return;
  }
  if (spec.items === undefined && !(spec.steps ?? []).some((s) => s.items !== undefined)) {
    cc.problems.list.push(
      new LocatedError(path, "a list operation needs `items` (where the objects are in the response)"),
    );
  }
}
