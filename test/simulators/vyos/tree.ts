// The VyOS configuration tree and the operations of a configuration session on it: set, delete and
// comment on a working copy, then commit (the verify step of each subsystem) or discard. Values are
// strings, multi-value leaves lists of strings, valueless leaves `{}` — the JSON `showConfig` returns.
import { rootSpec, type VSpec } from "./schema.ts";

export type VNode = VTree | string | string[];
export interface VTree {
  [key: string]: VNode;
}

/** vyos.configsession.ConfigSessionError: the API answers 400 with its text and discards the session. */
export class ConfigSessionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigSessionError";
  }
}

export interface Command {
  op: string;
  path: string[];
  value?: string;
}

function isTree(value: VNode | undefined): value is VTree {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function invalidPath(words: readonly string[]): ConfigSessionError {
  return new ConfigSessionError(
    `\n\n  Configuration path: [${words.join(" ")}] is not valid\n  Set failed\n\n`,
  );
}

function validationFailed(reason: string): ConfigSessionError {
  return new ConfigSessionError(`\n\n  ${reason}\n  Value validation failed\n  Set failed\n\n`);
}

function nothingToDelete(words: readonly string[], strict: boolean): ConfigSessionError {
  return new ConfigSessionError(
    strict
      ? `Cannot delete [${words.join(" ")}]: path/value does not exist`
      : "\n\n  Nothing to delete (the specified node does not exist)\n  Delete failed\n\n",
  );
}

/** `set`: creates the path, validating node names and values against the schema. */
export function setPath(tree: VTree, words: readonly string[]): void {
  let spec: VSpec = rootSpec;
  let current = tree;
  for (let i = 0; i < words.length; i += 1) {
    const word = words[i] as string;
    if (spec.kind === "tag") {
      const problem = spec.valid?.(word);
      if (problem) throw validationFailed(problem);
      const next = current[word];
      current[word] = isTree(next) ? next : {};
      current = current[word] as VTree;
      spec = spec.child;
      continue;
    }
    if (spec.kind !== "node") throw invalidPath(words.slice(0, i + 1));
    const childSpec: VSpec | undefined = spec.children[word];
    if (childSpec === undefined) throw invalidPath(words.slice(0, i + 1));
    if (childSpec.kind === "flag") {
      if (i !== words.length - 1) throw invalidPath(words);
      current[word] = {};
      return;
    }
    if (childSpec.kind === "leaf") {
      const value = words[i + 1];
      if (value === undefined) {
        throw new ConfigSessionError(
          `\n\n  Configuration path: [${words.join(" ")}] requires a value\n  Set failed\n\n`,
        );
      }
      if (i + 2 !== words.length) throw invalidPath(words);
      const problem = childSpec.valid?.(value);
      if (problem) throw validationFailed(problem);
      if (childSpec.multi) {
        const existing = current[word];
        const list = Array.isArray(existing) ? existing : [];
        if (!list.includes(value)) list.push(value);
        current[word] = list;
      } else {
        current[word] = value;
      }
      return;
    }
    const next = current[word];
    current[word] = isTree(next) ? next : {};
    current = current[word] as VTree;
    spec = childSpec;
  }
  if (spec.kind === "tag") {
    throw new ConfigSessionError(
      `\n\n  Configuration path: [${words.join(" ")}] requires a value\n  Set failed\n\n`,
    );
  }
}

/** `delete`: removes the node (or one value of a multi-value leaf); a missing path is an error. */
export function deletePath(tree: VTree, words: readonly string[], strict: boolean): void {
  let spec: VSpec = rootSpec;
  let current = tree;
  const parents: Array<{ tree: VTree; key: string; spec: VSpec }> = [];
  for (let i = 0; i < words.length; i += 1) {
    const word = words[i] as string;
    const last = i === words.length - 1;
    const childSpec: VSpec | undefined =
      spec.kind === "tag" ? spec.child : spec.kind === "node" ? spec.children[word] : undefined;
    if (childSpec === undefined) throw invalidPath(words.slice(0, i + 1));
    const existing = current[word];
    if (existing === undefined) throw nothingToDelete(words, strict);
    if (spec.kind === "node" && childSpec.kind === "leaf") {
      const value = words[i + 1];
      if (value === undefined) delete current[word];
      else if (i + 2 !== words.length) throw invalidPath(words);
      else if (Array.isArray(existing)) {
        if (!existing.includes(value)) throw nothingToDelete(words, strict);
        const remaining = existing.filter((item) => item !== value);
        if (remaining.length === 0) delete current[word];
        else current[word] = remaining;
      } else if (existing === value) delete current[word];
      else throw nothingToDelete(words, strict);
      break;
    }
    if (last) {
      delete current[word];
      break;
    }
    if (!isTree(existing)) throw invalidPath(words.slice(0, i + 2));
    parents.push({ tree: current, key: word, spec });
    current = existing;
    spec = childSpec;
  }
  // Plain nodes and tag nodes without children cease to exist; tag values (`rule 10`) stay.
  for (const parent of parents.reverse()) {
    const child = parent.tree[parent.key];
    const childSpec = parent.spec.kind === "node" ? parent.spec.children[parent.key] : undefined;
    if (isTree(child) && Object.keys(child).length === 0 && childSpec !== undefined)
      delete parent.tree[parent.key];
  }
}

/** The subtree or value at a path (undefined when absent). */
export function lookup(tree: VTree, words: readonly string[]): VNode | undefined {
  let current: VNode | undefined = tree;
  for (const word of words) {
    if (!isTree(current)) {
      // `returnValue` style: a leaf's value given as the last word.
      if ((current === word || (Array.isArray(current) && current.includes(word))) && word === words.at(-1))
        return current;
      return undefined;
    }
    current = current[word];
  }
  return current;
}

/** Runs a whole command list on a copy of `config`; returns the copy, committed (verified). */
export function applyCommands(config: VTree, commands: readonly Command[], strict: boolean): VTree {
  const working = structuredClone(config);
  for (const command of commands) {
    const words = command.value ? [...command.path, command.value] : [...command.path];
    switch (command.op) {
      case "set":
        setPath(working, words);
        break;
      case "delete":
        deletePath(working, words, strict);
        break;
      case "comment":
        break;
      default:
        throw new ConfigSessionError(`'${command.op}' is not a valid operation`);
    }
  }
  const problem = verify(working);
  if (problem)
    throw new ConfigSessionError(
      `\n\n  ${problem.message}\n\n  [[${problem.component}]] failed\n  Commit failed\n`,
    );
  return working;
}

function child(tree: VNode | undefined, ...keys: string[]): VNode | undefined {
  let current = tree;
  for (const key of keys) current = isTree(current) ? current[key] : undefined;
  return current;
}

function entries(tree: VNode | undefined): Array<[string, VTree]> {
  return isTree(tree)
    ? Object.entries(tree).filter((entry): entry is [string, VTree] => isTree(entry[1]))
    : [];
}

const PORT_PROTOCOLS = ["tcp", "udp", "tcp_udp"];

/** The `verify()` of the firewall and nat subsystems, as far as the simulated schema goes. */
export function verify(config: VTree): { component: string; message: string } | undefined {
  const groups = child(config, "firewall", "group");
  for (const family of ["ipv4", "ipv6"]) {
    for (const [setName, ruleSet] of entries(child(config, "firewall", family, "name"))) {
      for (const [number, rule] of entries(ruleSet.rule)) {
        const where = `firewall ${family} name ${setName} rule ${number}`;
        if (rule.action === undefined)
          return { component: "firewall", message: `${where}: Rule action must be defined` };
        if (rule.action === "jump" && rule["jump-target"] === undefined) {
          return {
            component: "firewall",
            message: `${where}: Action set to jump, but no jump-target specified`,
          };
        }
        for (const sideName of ["source", "destination"]) {
          const sideConf = rule[sideName];
          const hasPort =
            child(sideConf, "port") !== undefined || child(sideConf, "group", "port-group") !== undefined;
          const proto = typeof rule.protocol === "string" ? rule.protocol : "";
          if (hasPort && !PORT_PROTOCOLS.includes(proto)) {
            return {
              component: "firewall",
              message: `${where}: Protocol must be tcp, udp, or tcp_udp when specifying a port or port-group`,
            };
          }
          for (const groupType of ["address-group", "network-group", "port-group"]) {
            const groupName = child(sideConf, "group", groupType);
            if (typeof groupName === "string" && child(groups, groupType, groupName) === undefined) {
              return {
                component: "firewall",
                message: `Invalid ${groupType} "${groupName}" on firewall rule`,
              };
            }
          }
        }
      }
    }
  }
  for (const [direction, label, iface] of [
    ["destination", "Destination", "inbound-interface"],
    ["source", "Source", "outbound-interface"],
  ] as const) {
    for (const [number, rule] of entries(child(config, "nat", direction, "rule"))) {
      const err = `${label} NAT configuration error in rule ${number}:`;
      if (child(rule, iface, "name") === undefined && child(rule, iface, "group") === undefined) {
        return { component: "nat", message: `${err} ${iface} not specified` };
      }
      const proto = typeof rule.protocol === "string" ? rule.protocol : "all";
      const ports =
        child(rule, "source", "port") !== undefined || child(rule, "destination", "port") !== undefined;
      if (ports && !PORT_PROTOCOLS.includes(proto)) {
        return {
          component: "nat",
          message: `${err} ports can only be specified when protocol is either TCP, UDP or both!`,
        };
      }
      const translation = child(rule, "translation");
      if (
        rule.exclude === undefined &&
        child(translation, "address") === undefined &&
        child(translation, "port") === undefined
      ) {
        return { component: "nat", message: `${err} translation requires address and/or port` };
      }
    }
  }
  return undefined;
}
