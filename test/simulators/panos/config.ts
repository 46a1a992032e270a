// PAN-OS's configuration as the simulator keeps it: the candidate (what `type=config` reads with `get`
// and writes with set/edit/delete) and the running configuration (what `show` reads, replaced by a
// successful commit), both XML element trees under <config>, addressed by xpath.
import { randomUUID } from "node:crypto";
import { PAN_CODES, PanError } from "./errors.ts";
import { rootSpec, type Spec, validObjectName } from "./schema.ts";
import { child, clone, element, entryNamed, leaf, membersOf, sameNode, type XNode } from "./xml.ts";

export interface Step {
  tag: string;
  /** `[@name='...']` */
  name?: string;
}

/**
 * The xpaths the API is used with: absolute location paths of element steps, each optionally with
 * one `[@name='value']` predicate (either quote style). Anything else is a bad xpath (code 6).
 */
export function parseXpath(xpath: string): Step[] {
  const steps: Step[] = [];
  let rest = xpath.trim();
  if (!rest.startsWith("/")) throw badXpath(xpath);
  while (rest.length > 0) {
    const match = /^\/([A-Za-z0-9_.-]+)(?:\[@name=(?:'([^']*)'|"([^"]*)")\])?/.exec(rest);
    if (!match) throw badXpath(xpath);
    const step: Step = { tag: match[1] as string };
    const name = match[2] ?? match[3];
    if (name !== undefined) step.name = name;
    steps.push(step);
    rest = rest.slice(match[0].length);
  }
  if (steps[0]?.tag !== "config" || steps[0].name !== undefined) throw badXpath(xpath);
  return steps;
}

function badXpath(xpath: string): PanError {
  return new PanError(PAN_CODES.badXpath, `Invalid xpath: ${xpath}`);
}

function invalid(context: string, problem: string): PanError {
  return new PanError(PAN_CODES.invalidObject, [` ${context} -> ${problem}`, ` ${context} is invalid`]);
}

/** The schema node an xpath addresses (throws code 6 when the path leaves the schema). */
export function specAt(steps: readonly Step[], xpath: string): Spec {
  let spec: Spec = rootSpec;
  for (const step of steps) {
    spec = childSpec(spec, step, xpath);
  }
  return spec;
}

function childSpec(spec: Spec, step: Step, xpath: string): Spec {
  switch (spec.kind) {
    case "any":
      return spec;
    case "container": {
      const next = spec.children[step.tag];
      if (next === undefined || step.name !== undefined) throw badXpath(xpath);
      return next;
    }
    case "entries":
      if (step.tag !== "entry") throw badXpath(xpath);
      return spec.entry;
    default:
      throw badXpath(xpath);
  }
}

interface Located {
  node: XNode;
  parent: XNode | undefined;
}

/** Every node an xpath selects (a step without `[@name]` under an entry list selects all entries). */
export function select(root: XNode, steps: readonly Step[]): Located[] {
  let current: Located[] = root.tag === steps[0]?.tag ? [{ node: root, parent: undefined }] : [];
  for (const step of steps.slice(1)) {
    const next: Located[] = [];
    for (const { node } of current) {
      for (const c of node.children) {
        if (c.tag === step.tag && (step.name === undefined || c.attrs.name === step.name)) {
          next.push({ node: c, parent: node });
        }
      }
    }
    current = next;
  }
  return current;
}

/** Validates an element against its schema node; `context` names it in messages as PAN-OS does. */
export function validateNode(node: XNode, spec: Spec, context: string): void {
  if (spec.kind === "any") return;
  if (spec.kind === "text") {
    if (node.children.length > 0) throw invalid(context, `${node.children[0]?.tag} unexpected here`);
    const value = node.text ?? "";
    if (spec.values && !spec.values.includes(value)) {
      throw invalid(context, `'${value}' is not an allowed keyword`);
    }
    if (spec.maxLength !== undefined && value.length > spec.maxLength) {
      throw invalid(context, `'${value.slice(0, 32)}...' is too long (max ${spec.maxLength})`);
    }
    if (spec.pattern && !spec.pattern.test(value)) {
      throw invalid(context, `'${value}' is not ${spec.hint ?? "a valid value"}`);
    }
    return;
  }
  if (node.children.length === 0 && (node.text ?? "").trim() !== "") {
    throw invalid(context, `'${node.text}' unexpected here`);
  }
  validateChildren(node.children, spec, context);
}

export function validateChildren(children: readonly XNode[], spec: Spec, context: string): void {
  for (const c of children) {
    switch (spec.kind) {
      case "any":
        return;
      case "text":
        throw invalid(context, `${c.tag} unexpected here`);
      case "members":
        if (c.tag !== "member") throw invalid(context, `${c.tag} unexpected here`);
        if (c.children.length > 0 || (c.text ?? "") === "") throw invalid(context, "member is empty");
        break;
      case "entries": {
        if (c.tag !== "entry") throw invalid(context, `${c.tag} unexpected here`);
        const name = c.attrs.name;
        if (name === undefined || name === "") throw invalid(context, "entry has no name");
        if (spec.names === "object" && !validObjectName(name)) {
          throw invalid(name, `'${name}' is not a valid name`);
        }
        validateNode(c, spec.entry, name);
        break;
      }
      case "container": {
        const next = spec.children[c.tag];
        if (next === undefined) throw invalid(context, `${c.tag} unexpected here`);
        validateNode(c, next, `${context} -> ${c.tag}`.replace(/^ -> /, ""));
        break;
      }
    }
  }
}

/** Merges `children` into `target` as `action=set` does: lists gain members, entries merge by name. */
function merge(target: XNode, children: readonly XNode[], spec: Spec): void {
  if (children.length > 0) delete target.text;
  for (const c of children) {
    if (spec.kind === "entries") {
      const existing = entryNamed(target, c.attrs.name ?? "");
      if (existing === undefined) target.children.push(withUuid(clone(c), spec));
      else {
        existing.attrs = { ...existing.attrs, ...c.attrs };
        merge(existing, c.children, spec.entry);
      }
      continue;
    }
    if (spec.kind === "members") {
      if (!target.children.some((m) => m.text === c.text)) target.children.push(clone(c));
      continue;
    }
    const next: Spec =
      spec.kind === "container" ? (spec.children[c.tag] ?? { kind: "any" }) : { kind: "any" };
    const existing = target.children.find(
      (other) => other.tag === c.tag && other.attrs.name === c.attrs.name,
    );
    if (existing === undefined) {
      target.children.push(clone(c));
    } else if (next.kind === "text" || next.kind === "any") {
      target.children.splice(target.children.indexOf(existing), 1, clone(c));
    } else {
      merge(existing, c.children, next);
    }
  }
}

/** Security and NAT rules get a uuid attribute when created (PAN-OS 9.0+). */
function withUuid(entry: XNode, spec: Spec): XNode {
  if (spec.kind === "entries" && spec.uuid === true && entry.attrs.uuid === undefined) {
    entry.attrs.uuid = randomUUID();
  }
  return entry;
}

export function emptyConfig(vsysNames: readonly string[]): XNode {
  const vsysEntries = vsysNames.map((name) =>
    element(
      "entry",
      [
        element("rulebase", [element("security", [element("rules")]), element("nat", [element("rules")])]),
        element("address"),
        element("service"),
      ],
      { name },
    ),
  );
  return element("config", [
    element("devices", [element("entry", [element("vsys", vsysEntries)], { name: "localhost.localdomain" })]),
  ]);
}

export class PanConfigStore {
  candidate: XNode;
  running: XNode;
  private readonly initial: () => XNode;

  constructor(initial: () => XNode) {
    this.initial = initial;
    this.candidate = initial();
    this.running = clone(this.candidate);
  }

  reset(): void {
    this.candidate = this.initial();
    this.running = clone(this.candidate);
  }

  get pending(): boolean {
    return !sameNode(this.candidate, this.running);
  }

  /** `action=get` (candidate) or `action=show` (running). */
  read(xpath: string, tree: "candidate" | "running"): XNode[] {
    const steps = parseXpath(xpath);
    specAt(steps, xpath);
    return select(tree === "candidate" ? this.candidate : this.running, steps).map(({ node }) => clone(node));
  }

  /** `action=set`: merge the element's children into the node at xpath, creating the path. */
  set(xpath: string, fragment: readonly XNode[]): void {
    const steps = parseXpath(xpath);
    const spec = specAt(steps, xpath);
    const last = steps[steps.length - 1] as Step;
    if (spec.kind === "text") {
      throw invalid(last.name ?? last.tag, "set needs the parent of a leaf as xpath");
    }
    validateChildren(fragment, spec, last.name ?? last.tag);
    const target = this.ensurePath(steps, xpath);
    merge(target, fragment, spec);
  }

  /** `action=edit`: replace the node at xpath with the element, which must be that node. */
  edit(xpath: string, fragment: readonly XNode[]): void {
    const steps = parseXpath(xpath);
    const spec = specAt(steps, xpath);
    const last = steps[steps.length - 1] as Step;
    const [replacement] = fragment;
    if (
      fragment.length !== 1 ||
      replacement === undefined ||
      replacement.tag !== last.tag ||
      (last.name !== undefined && replacement.attrs.name !== last.name)
    ) {
      throw new PanError(PAN_CODES.invalidObject, "edit breaks config validity");
    }
    const parentSteps = steps.slice(0, -1);
    const parentSpec = specAt(parentSteps, xpath);
    if (parentSpec.kind === "entries") {
      const name = replacement.attrs.name ?? "";
      if (parentSpec.names === "object" && !validObjectName(name)) {
        throw invalid(name, `'${name}' is not a valid name`);
      }
    }
    validateNode(replacement, spec, last.name ?? last.tag);
    const parent = this.ensurePath(parentSteps, xpath);
    const node = clone(replacement);
    const index = parent.children.findIndex(
      (c) => c.tag === node.tag && (last.name === undefined || c.attrs.name === last.name),
    );
    if (index >= 0) {
      const uuid = parent.children[index]?.attrs.uuid;
      if (uuid !== undefined && node.attrs.uuid === undefined) node.attrs.uuid = uuid;
      parent.children.splice(index, 1, node);
    } else {
      parent.children.push(withUuid(node, parentSpec));
    }
  }

  /** `action=delete`; a missing node is code 7, a referenced object code 10. */
  delete(xpath: string): void {
    const steps = parseXpath(xpath);
    specAt(steps, xpath);
    if (steps.length < 2) throw badXpath(xpath);
    const found = select(this.candidate, steps);
    if (found.length === 0) throw new PanError(PAN_CODES.objectNotPresent, "Object doesn't exist");
    for (const { node, parent } of found) this.checkReferences(node, parent);
    for (const { node, parent } of found) {
      if (parent) parent.children.splice(parent.children.indexOf(node), 1);
    }
  }

  /** `action=move`: reorder an entry among its siblings (rule order is evaluation order). */
  move(xpath: string, where: string, dst: string | undefined): void {
    const steps = parseXpath(xpath);
    specAt(steps, xpath);
    const [found] = select(this.candidate, steps);
    const last = steps[steps.length - 1] as Step;
    if (found === undefined || found.parent === undefined || last.name === undefined) {
      throw new PanError(PAN_CODES.objectNotPresent, "Object doesn't exist");
    }
    const siblings = found.parent.children;
    if (!["top", "bottom", "before", "after"].includes(where)) {
      throw new PanError(PAN_CODES.badRequest, `Invalid where parameter: ${where}`);
    }
    const pivot = dst === undefined ? undefined : entryNamed(found.parent, dst);
    if ((where === "before" || where === "after") && (pivot === undefined || pivot === found.node)) {
      throw new PanError(PAN_CODES.invalidObject, ` ${dst ?? ""} is not a valid destination`);
    }
    siblings.splice(siblings.indexOf(found.node), 1);
    const at =
      where === "top"
        ? 0
        : where === "bottom"
          ? siblings.length
          : siblings.indexOf(pivot as XNode) + (where === "after" ? 1 : 0);
    siblings.splice(at, 0, found.node);
  }

  /** `action=rename`: a new name for an entry; names are unique among siblings (code 12). */
  rename(xpath: string, newName: string): void {
    const steps = parseXpath(xpath);
    const parentSpec = specAt(steps.slice(0, -1), xpath);
    const [found] = select(this.candidate, steps);
    if (found === undefined || found.parent === undefined || found.node.tag !== "entry") {
      throw new PanError(PAN_CODES.objectNotPresent, "Object doesn't exist");
    }
    if (parentSpec.kind === "entries" && parentSpec.names === "object" && !validObjectName(newName)) {
      throw invalid(newName, `'${newName}' is not a valid name`);
    }
    if (entryNamed(found.parent, newName) !== undefined) {
      throw new PanError(PAN_CODES.invalidObject, ` ${newName} is already in use`);
    }
    found.node.attrs.name = newName;
  }

  /** Address and service objects a rule still names cannot be deleted (code 10). */
  private checkReferences(node: XNode, parent: XNode | undefined): void {
    if (node.tag !== "entry" || parent === undefined) return;
    const kind = parent.tag;
    if (kind !== "address" && kind !== "service") return;
    const name = node.attrs.name ?? "";
    const users: string[] = [];
    for (const vsys of select(this.candidate, [
      { tag: "config" },
      { tag: "devices" },
      { tag: "entry" },
      { tag: "vsys" },
      { tag: "entry" },
    ])) {
      for (const base of ["security", "nat"]) {
        const rules = child(
          child(child(vsys.node, "rulebase") ?? leaf("x", ""), base) ?? leaf("x", ""),
          "rules",
        );
        for (const rule of rules?.children ?? []) {
          const fields = kind === "address" ? ["source", "destination"] : ["service"];
          for (const field of fields) {
            const values =
              field === "service" && base === "nat"
                ? [child(rule, "service")?.text ?? ""]
                : (membersOf(rule, field) ?? []);
            if (values.includes(name))
              users.push(` rulebase -> ${base} -> rules -> ${rule.attrs.name} -> ${field}`);
          }
        }
      }
    }
    if (users.length > 0) {
      throw new PanError(PAN_CODES.referenceCountNotZero, [
        `${name} cannot be deleted because of references from:`,
        ...users,
      ]);
    }
  }

  /**
   * `load config partial mode replace from running-config.xml`: the candidate's node at `toXpath`
   * becomes a copy of the running node at `fromXpath`, at the place it has in the running
   * configuration (PAN-OS's way to revert part of the candidate). No such running node: code 7.
   */
  loadPartialFromRunning(fromXpath: string, toXpath: string): void {
    const fromSteps = parseXpath(fromXpath);
    const toSteps = parseXpath(toXpath);
    specAt(fromSteps, fromXpath);
    specAt(toSteps, toXpath);
    const [source] = select(this.running, fromSteps);
    if (source === undefined) throw new PanError(PAN_CODES.objectNotPresent, "No such node");
    const last = toSteps[toSteps.length - 1] as Step;
    const parent = this.ensurePath(toSteps.slice(0, -1), toXpath);
    const copy = clone(source.node);
    if (last.name !== undefined) copy.attrs.name = last.name;
    const at = parent.children.findIndex(
      (c) => c.tag === last.tag && (last.name === undefined || c.attrs.name === last.name),
    );
    if (at >= 0) {
      parent.children.splice(at, 1, copy);
      return;
    }
    const index = source.parent ? source.parent.children.indexOf(source.node) : parent.children.length;
    parent.children.splice(Math.min(index, parent.children.length), 0, copy);
  }

  /** The node at xpath in the candidate, created (with its ancestors) when missing. */
  private ensurePath(steps: readonly Step[], xpath: string): XNode {
    let node = this.candidate;
    let spec: Spec = rootSpec;
    spec = childSpec(spec, steps[0] as Step, xpath);
    for (const step of steps.slice(1)) {
      const parentSpec = spec;
      spec = childSpec(spec, step, xpath);
      let next = node.children.find(
        (c) => c.tag === step.tag && (step.name === undefined || c.attrs.name === step.name),
      );
      if (next === undefined) {
        if (parentSpec.kind === "entries") {
          if (step.name === undefined) throw badXpath(xpath);
          if (parentSpec.creatable === false) {
            throw new PanError(PAN_CODES.invalidObject, [
              ` ${step.name} is not a valid reference`,
              ` ${node.tag} is invalid`,
            ]);
          }
          if (parentSpec.names === "object" && !validObjectName(step.name)) {
            throw invalid(step.name, `'${step.name}' is not a valid name`);
          }
          next = withUuid(element("entry", [], { name: step.name }), parentSpec);
        } else {
          next = element(step.tag, [], step.name === undefined ? {} : { name: step.name });
        }
        delete node.text;
        node.children.push(next);
      }
      node = next;
    }
    return node;
  }
}
