// How `vnf-operator import` prints its plan: manifests on stdout (YAML documents, or one JSON List),
// every object left out on stderr with its reason, and, with --include-unsupported, the unexpressible
// objects as commented YAML after the manifests (a starting point for a human, never applied as is).
import { stringify } from "yaml";
import type { ImportPlan, LeftOut, RuleManifest } from "./plan.ts";

export type OutputFormat = "yaml" | "json";

function yamlDocument(manifest: RuleManifest): string {
  return stringify(manifest, { lineWidth: 0 });
}

function commented(entry: LeftOut): string {
  const lines = [`# NOT IMPORTED ${entry.kind} ${entry.vendorRef}: ${entry.reason}`];
  if (entry.draft) {
    for (const line of yamlDocument(entry.draft).trimEnd().split("\n")) lines.push(`# ${line}`);
  }
  return `${lines.join("\n")}\n`;
}

export function manifestsText(plan: ImportPlan, format: OutputFormat, includeUnsupported: boolean): string {
  if (format === "json") {
    return `${JSON.stringify({ apiVersion: "v1", kind: "List", items: plan.manifests }, null, 2)}\n`;
  }
  const documents = plan.manifests.map(yamlDocument);
  if (includeUnsupported) documents.push(...plan.unsupported.map(commented));
  return documents.map((doc) => `---\n${doc}`).join("");
}

/** One line per object left out, then a summary. */
export function reportText(plan: ImportPlan, device: string): string {
  const lines: string[] = [];
  for (const entry of plan.unsupported) {
    lines.push(`not imported: ${entry.kind} ${entry.vendorRef} (${entry.name}): ${entry.reason}`);
  }
  for (const entry of plan.managed) {
    lines.push(`already managed: ${entry.kind} ${entry.vendorRef} (${entry.name}): ${entry.reason}`);
  }
  for (const warning of plan.orderWarnings) lines.push(`order: ${warning}`);
  const count = (kind: string) => plan.manifests.filter((m) => m.kind === kind).length;
  lines.push(
    `${device}: ${plan.manifests.length} manifests (${count("VnfFirewallRule")} VnfFirewallRule, ${count("VnfNatRule")} VnfNatRule); ${plan.unsupported.length} objects the reverse mapping cannot express; ${plan.managed.length} already managed`,
  );
  return `${lines.join("\n")}\n`;
}
