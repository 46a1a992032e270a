// `vnf-operator render --dictionary <file> --operation <kind.op> <rule.yaml>`: the dry run. Prints the
// exact HTTP request(s) the operation would send for that rule (credentials masked as ***), and the
// opHash the operator would record. Offline: no login, no network; values a previous step would
// extract from a response show as {steps.<name>.<key>}.
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { parseAllDocuments } from "yaml";
import { ApplianceSession } from "../appliance/session.ts";
import type { OperationName } from "../dictionary/compiled.ts";
import { VnfError } from "../dictionary/errors.ts";
import { DictionaryLoadError, formatProblem, loadDictionaryFile } from "../dictionary/loader.ts";
import { formatRequest } from "../dictionary/render.ts";
import { MANIFEST_KINDS, RESOURCE_KINDS, type ResourceKind } from "../dictionary/rule-input.ts";
import { OPERATION_NAMES } from "../dictionary/schema.ts";

const HELP = `usage: vnf-operator render --dictionary <file> --operation <kind.op> [options] <rule.yaml>

  --dictionary <file>    the dictionary to render with
  --operation <kind.op>  e.g. firewallRule.create, natRule.delete (kind defaults to the manifest's)
  --device <device.yaml> a VnfDevice manifest: its endpoint and parameters are used
  --name <rule>          which rule, when <rule.yaml> holds several
  --vendor-ref <ref>     the appliance object's id (get, update, delete, move; default status.vendorRef)
  --marker <id>          the ownership marker id (default metadata.uid, else namespace/name)
  --rule-number <n>      the client-allocated rule number (dictionaries with ruleNumbers)
  --position <where[:pivot]>  for move: top, bottom, before:<vendorRef>, after:<vendorRef>

<rule.yaml> is a VnfFirewallRule or VnfNatRule manifest (a multi-document file: pick one with --name).`;

interface Manifest {
  kind?: unknown;
  metadata?: { name?: unknown; namespace?: unknown; uid?: unknown };
  spec?: unknown;
  status?: { vendorRef?: unknown; ruleNumber?: unknown };
}

/** The YAML maps in a file (kubectl-style files often hold several documents). */
async function readManifests(path: string): Promise<Manifest[]> {
  const docs = parseAllDocuments(await readFile(path, "utf8"));
  const out: Manifest[] = [];
  for (const doc of docs) {
    if (doc.errors.length > 0) throw new Error(`${path}: ${doc.errors[0]?.message}`);
    const value: unknown = doc.toJS();
    if (value === null) continue;
    if (typeof value !== "object" || Array.isArray(value)) throw new Error(`${path}: not a YAML map`);
    out.push(value as Manifest);
  }
  return out;
}

/** The one manifest of `kinds` in the file, chosen by name when there are several. */
async function readManifest(path: string, kinds: readonly string[], name?: string): Promise<Manifest> {
  const all = await readManifests(path);
  const candidates = all.filter(
    (m) =>
      (kinds.length === 0 || kinds.includes(String(m.kind))) &&
      (name === undefined || m.metadata?.name === name),
  );
  if (candidates.length === 1 && candidates[0]) return candidates[0];
  const names = all.filter((m) => kinds.includes(String(m.kind))).map((m) => String(m.metadata?.name));
  if (candidates.length === 0) {
    throw new Error(
      name === undefined
        ? `${path} holds no ${kinds.join(" or ")}`
        : `${path} has no ${kinds.join(" or ")} named ${name} (it has: ${names.join(", ") || "none"})`,
    );
  }
  throw new Error(`${path} holds ${candidates.length} of them (${names.join(", ")}): choose one with --name`);
}

function fail(message: string): number {
  process.stderr.write(`vnf-operator render: ${message}\n`);
  return 1;
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      help: { type: "boolean", short: "h" },
      dictionary: { type: "string" },
      operation: { type: "string" },
      device: { type: "string" },
      name: { type: "string" },
      "vendor-ref": { type: "string" },
      marker: { type: "string" },
      "rule-number": { type: "string" },
      position: { type: "string" },
    },
  });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const [rulePath] = positionals;
  if (!values.dictionary || !values.operation || rulePath === undefined || positionals.length > 1) {
    process.stderr.write(`${HELP}\n`);
    return 2;
  }

  let dictionary: Awaited<ReturnType<typeof loadDictionaryFile>>;
  try {
    dictionary = await loadDictionaryFile(values.dictionary);
  } catch (error) {
    if (error instanceof DictionaryLoadError) {
      for (const p of error.problems) process.stderr.write(`${formatProblem(p)}\n`);
      return 1;
    }
    throw error;
  }

  let manifest: Manifest;
  try {
    manifest = await readManifest(rulePath, Object.keys(MANIFEST_KINDS), values.name);
  } catch (error) {
    return fail(error instanceof Error ? error.message : String(error));
  }
  const manifestKind = typeof manifest.kind === "string" ? MANIFEST_KINDS[manifest.kind] : undefined;
  const [kindPart, opPart] = values.operation.includes(".")
    ? values.operation.split(".", 2)
    : [undefined, values.operation];
  const kind = (kindPart ?? manifestKind) as ResourceKind | undefined;
  if (kind === undefined || !(RESOURCE_KINDS as readonly string[]).includes(kind)) {
    return fail(`unknown kind in --operation ${values.operation} (kinds: ${RESOURCE_KINDS.join(", ")})`);
  }
  if (manifestKind !== undefined && manifestKind !== kind) {
    return fail(`${rulePath} is a ${String(manifest.kind)}, not a ${kind}`);
  }
  const operation = opPart as OperationName;
  if (!(OPERATION_NAMES as readonly string[]).includes(operation)) {
    return fail(`unknown operation ${String(opPart)} (operations: ${OPERATION_NAMES.join(", ")})`);
  }

  let endpoint = "https://appliance.invalid";
  let parameters: Record<string, string> = {};
  if (values.device) {
    const device = await readManifest(values.device, ["VnfDevice"]);
    const spec = (device.spec ?? {}) as { endpoint?: unknown; parameters?: unknown };
    if (typeof spec.endpoint === "string") endpoint = spec.endpoint;
    if (spec.parameters && typeof spec.parameters === "object")
      parameters = spec.parameters as Record<string, string>;
  }
  const meta = manifest.metadata ?? {};
  const marker =
    values.marker ??
    (typeof meta.uid === "string"
      ? meta.uid
      : `${typeof meta.namespace === "string" ? meta.namespace : "default"}/${String(meta.name ?? "rule")}`);
  const vendorRef =
    values["vendor-ref"] ??
    (manifest.status?.vendorRef === undefined ? undefined : String(manifest.status.vendorRef));
  const ruleNumberText =
    values["rule-number"] ??
    (manifest.status?.ruleNumber === undefined ? undefined : String(manifest.status.ruleNumber));
  if (["get", "update", "delete", "move"].includes(operation) && vendorRef === undefined) {
    return fail(`${operation} needs --vendor-ref (or status.vendorRef in the manifest)`);
  }

  const session = new ApplianceSession({ dictionary, endpoint, credentials: {}, parameters });
  try {
    const input: Parameters<ApplianceSession["render"]>[2] = { rule: manifest.spec ?? {}, marker };
    if (vendorRef !== undefined) input.vendorRef = vendorRef;
    if (ruleNumberText !== undefined) input.ruleNumber = Number(ruleNumberText);
    if (values.position) {
      const [where = "", pivot] = values.position.split(":", 2);
      if (!["top", "bottom", "before", "after"].includes(where))
        return fail(`invalid --position ${values.position}`);
      input.position = pivot === undefined ? { where: where as "top" } : { where: where as "before", pivot };
    }
    if (operation === "get" || operation === "delete" || operation === "list" || operation === "move") {
      delete input.rule;
    }
    const rendered = session.render(kind, operation, input);
    const blocks = rendered.redacted().map((r) => `# ${r.label}\n${formatRequest(session.endpoint, r)}`);
    process.stdout.write(`${blocks.join("\n\n")}\n\n# opHash ${rendered.opHash}\n`);
    return 0;
  } catch (error) {
    if (error instanceof VnfError) return fail(`${error.code}: ${error.message}`);
    throw error;
  } finally {
    await session.close();
  }
}
