// The static half of "templates are data, not code": every template's syntax tree is walked when a
// dictionary loads (the operator and `vnf-operator validate` alike) and refused, with its line and
// column, when it uses something a dictionary has no business using:
//   - include/import/extends, macros, blocks, async and extension tags (a dictionary is one file of
//     request descriptions, not a program);
//   - names that lead to the host (constructor, __proto__, prototype, __-names), as variables, members,
//     dict keys or constant strings — and anything that is not a plain identifier, which the code
//     generator would paste into JavaScript;
//   - calls of anything but fail(), range() and the whitelisted string/list/regex methods;
//   - filters and tests that are not whitelisted;
//   - regular expressions the linear-time engine cannot run (backreferences, lookaround).
// A computed member (`x[y]`) cannot be judged here; sandbox-runtime.ts refuses it at run time, and
// `validate` renders every template against samples, so it is caught there too.
import { type AstNode, childNodes } from "./sandbox.ts";
import {
  BUILTIN_TESTS,
  IDENTIFIER,
  isForbiddenName,
  regexProblem,
  SAFE_METHOD_NAMES,
} from "./sandbox-policy.ts";

export interface TemplateViolation {
  /** 1-based, inside the template source. */
  line: number;
  column: number;
  message: string;
}

export interface TemplatePolicy {
  /** Filters a template may use. */
  filters: ReadonlySet<string>;
  /** Global functions a template may call. */
  callableGlobals: ReadonlySet<string>;
}

const ALLOWED_NODES = new Set([
  "Root",
  "NodeList",
  "Output",
  "TemplateData",
  "Literal",
  "Symbol",
  "Group",
  "Array",
  "Pair",
  "Dict",
  "LookupVal",
  "If",
  "InlineIf",
  "For",
  "FunCall",
  "Filter",
  "KeywordArgs",
  "Set",
  "Switch",
  "Case",
  "Capture",
  "In",
  "Is",
  "Or",
  "And",
  "Not",
  "Add",
  "Concat",
  "Sub",
  "Mul",
  "Div",
  "FloorDiv",
  "Mod",
  "Pow",
  "Neg",
  "Pos",
  "Compare",
  "CompareOperand",
]);

const REFUSED_NODES: Record<string, string> = {
  Include: "{% include %} is refused: a dictionary is one self-contained file",
  Import: "{% import %} is refused: a dictionary is one self-contained file",
  FromImport: "{% from ... import %} is refused: a dictionary is one self-contained file",
  Extends: "{% extends %} is refused: a dictionary is one self-contained file",
  TemplateRef: "{% extends %} is refused: a dictionary is one self-contained file",
  Block: "{% block %} is refused (there is nothing to extend)",
  Super: "super() is refused (there is nothing to extend)",
  Macro: "{% macro %} is refused: templates describe values, they do not define functions",
  Caller: "{% call %} is refused: templates describe values, they do not define functions",
  IfAsync: "async tags are refused",
  AsyncEach: "async tags are refused",
  AsyncAll: "async tags are refused",
  FilterAsync: "async filters are refused",
  CallExtension: "extension tags are refused",
  CallExtensionAsync: "extension tags are refused",
};

/** The value of a constant string/number expression ("constr" ~ "uctor"), else undefined. */
function constant(node: unknown): string | number | undefined {
  const n = node as AstNode | undefined;
  if (!n) return undefined;
  if (n.typename === "Literal" && (typeof n.value === "string" || typeof n.value === "number"))
    return n.value;
  if (n.typename === "Group" && n.children?.length === 1) return constant(n.children[0]);
  if (n.typename === "Add" || n.typename === "Concat") {
    const left = constant(n.left);
    const right = constant(n.right);
    if (left === undefined || right === undefined) return undefined;
    return n.typename === "Concat"
      ? `${left}${right}`
      : typeof left === "number" && typeof right === "number"
        ? left + right
        : `${left}${right}`;
  }
  return undefined;
}

class Checker {
  readonly violations: TemplateViolation[] = [];
  readonly #policy: TemplatePolicy;
  constructor(policy: TemplatePolicy) {
    this.#policy = policy;
  }

  #refuse(node: AstNode, message: string): void {
    this.violations.push({ line: node.lineno + 1, column: node.colno + 1, message });
  }

  /** A name the generated code uses as a variable, loop or set target. */
  #name(node: unknown, what: string): void {
    const n = node as AstNode;
    if (n?.typename !== "Symbol") {
      if (n && typeof n === "object") this.visit(n);
      return;
    }
    const name = n.value;
    if (typeof name !== "string" || !IDENTIFIER.test(name)) {
      this.#refuse(n, `${what} "${String(name)}" is not a name (letters, digits and _ only)`);
    } else if (isForbiddenName(name)) {
      this.#refuse(n, `the name "${name}" is not accessible in templates`);
    }
  }

  /** A member key, dict key or constant string that names the prototype chain. */
  #key(node: AstNode, key: string | number, what: string): void {
    if (typeof key === "string" && isForbiddenName(key)) {
      this.#refuse(node, `${what} "${key}" is not accessible in templates`);
    }
  }

  visit(node: AstNode): void {
    const refused = REFUSED_NODES[node.typename];
    if (refused !== undefined || !ALLOWED_NODES.has(node.typename)) {
      this.#refuse(node, refused ?? `${node.typename} is not allowed in templates`);
      return;
    }
    switch (node.typename) {
      case "Symbol":
        this.#name(node, "variable");
        return;
      case "Literal":
        if (node.value instanceof RegExp) {
          const problem = regexProblem(node.value.source);
          if (problem) this.#refuse(node, `regular expression /${node.value.source}/: ${problem}`);
        } else if (typeof node.value === "string") {
          this.#key(node, node.value, "the string");
        }
        return;
      case "LookupVal": {
        this.visit(node.target as AstNode);
        const key = constant(node.val);
        if (key !== undefined) this.#key(node.val as AstNode, key, "member");
        else this.visit(node.val as AstNode);
        return;
      }
      case "Pair": {
        const key = node.key as AstNode;
        if (key.typename === "Symbol") this.#name(key, "key");
        else this.visit(key);
        this.visit(node.value as AstNode);
        return;
      }
      case "Add":
      case "Concat": {
        const folded = constant(node);
        if (typeof folded === "string") this.#key(node, folded, "the string");
        this.visit(node.left as AstNode);
        this.visit(node.right as AstNode);
        return;
      }
      case "FunCall":
        this.#call(node);
        return;
      case "Filter": {
        const name = node.name as AstNode;
        const filter = String(name.value);
        if (!IDENTIFIER.test(filter) || isForbiddenName(filter) || !this.#policy.filters.has(filter)) {
          this.#refuse(name, `filter "${filter}" is not available (see the dictionary format's filter list)`);
        }
        this.#children(node.args as AstNode);
        return;
      }
      case "Is": {
        this.visit(node.left as AstNode);
        const right = node.right as AstNode;
        const test = right.typename === "FunCall" ? (right.name as AstNode) : right;
        const testName = String(test.value);
        if (test.typename !== "Symbol" || !(BUILTIN_TESTS as readonly string[]).includes(testName)) {
          this.#refuse(test, `test "${testName}" is not available`);
        }
        if (right.typename === "FunCall") this.#children(right.args as AstNode);
        return;
      }
      case "For": {
        this.visit(node.arr as AstNode);
        const target = node.name as AstNode;
        for (const name of target.typename === "Array" ? (target.children ?? []) : [target])
          this.#name(name, "loop variable");
        this.visit(node.body as AstNode);
        if (node.else_) this.visit(node.else_ as AstNode);
        return;
      }
      case "Set": {
        for (const target of (node.targets as AstNode[] | undefined) ?? []) this.#name(target, "variable");
        if (node.value) this.visit(node.value as AstNode);
        if (node.body) this.visit(node.body as AstNode);
        return;
      }
      default:
        this.#children(node);
    }
  }

  #children(node: AstNode | undefined): void {
    if (node) for (const child of childNodes(node)) this.visit(child);
  }

  #call(node: AstNode): void {
    const callee = node.name as AstNode;
    if (callee.typename === "Symbol") {
      this.#name(callee, "function");
      if (!this.#policy.callableGlobals.has(String(callee.value))) {
        this.#refuse(
          callee,
          `${String(callee.value)}() cannot be called: templates may only call ${[...this.#policy.callableGlobals].join("(), ")}() and string methods`,
        );
      }
    } else if (callee.typename === "LookupVal") {
      this.visit(callee.target as AstNode);
      const method = constant(callee.val);
      if (typeof method !== "string" || !SAFE_METHOD_NAMES.has(method)) {
        this.#refuse(
          callee,
          `${method === undefined ? "a computed method" : `${String(method)}()`} cannot be called: the methods templates may call are ${[...SAFE_METHOD_NAMES].join(", ")}`,
        );
      }
    } else {
      this.#refuse(callee, "only named functions and methods can be called");
    }
    this.#children(node.args as AstNode);
  }
}

/** Every construct of a parsed template that the policy refuses (empty: the template is data). */
export function checkTemplateAst(ast: unknown, policy: TemplatePolicy): TemplateViolation[] {
  const checker = new Checker(policy);
  checker.visit(ast as AstNode);
  return checker.violations;
}
