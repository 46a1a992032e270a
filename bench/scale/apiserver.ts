// API-server writes as the API server itself counts them: `apiserver_request_total` from the
// kube-apiserver's /metrics, by verb and resource (and subresource). The bench subtracts two scrapes
// around a phase; only write verbs are kept.
import { kubectl } from "../../test/support/kubectl.ts";

/** "VERB resource[/subresource][ (code)]" → requests (write verbs only; refused ones with their code). */
export type WriteCounts = Map<string, number>;

const WRITE_VERBS = new Set(["POST", "PUT", "PATCH", "APPLY", "DELETE", "DELETECOLLECTION"]);

export async function scrapeWrites(kubeconfigPath: string): Promise<WriteCounts> {
  const result = await kubectl(kubeconfigPath, ["get", "--raw", "/metrics"]);
  if (result.code !== 0) throw new Error(`cannot scrape the API server's /metrics: ${result.stderr}`);
  return parseWrites(result.stdout);
}

export function parseWrites(text: string): WriteCounts {
  const counts: WriteCounts = new Map();
  for (const line of text.split("\n")) {
    if (!line.startsWith("apiserver_request_total{")) continue;
    const close = line.lastIndexOf("}");
    const labels: Record<string, string> = {};
    for (const match of line.slice(0, close).matchAll(/(\w+)="([^"]*)"/g)) labels[match[1]!] = match[2]!;
    const verb = labels.verb ?? "";
    if (!WRITE_VERBS.has(verb)) continue;
    // Refused writes (409 conflicts, 422 failed tests) are counted apart: they are what retries cost.
    const refused = Number(labels.code ?? 0) >= 400 ? ` (${labels.code})` : "";
    const what = `${verb} ${labels.resource ?? ""}${labels.subresource ? `/${labels.subresource}` : ""}${refused}`;
    counts.set(what, (counts.get(what) ?? 0) + Number(line.slice(close + 1).trim()));
  }
  return counts;
}

/** after − before, dropping zero rows. */
export function writesBetween(before: WriteCounts, after: WriteCounts): WriteCounts {
  const out: WriteCounts = new Map();
  for (const [what, n] of after) {
    const delta = n - (before.get(what) ?? 0);
    if (delta > 0) out.set(what, delta);
  }
  return out;
}

/** Writes the operator makes (its kinds and Events), leaving out the API server's own lease renewals. */
export function operatorWrites(counts: WriteCounts): number {
  let total = 0;
  for (const [what, n] of counts) if (!what.split(" ")[1]?.startsWith("leases")) total += n;
  return total;
}

export function formatWrites(counts: WriteCounts): string {
  return (
    [...counts]
      .filter(([what]) => !what.split(" ")[1]?.startsWith("leases"))
      .sort((a, b) => b[1] - a[1])
      .map(([what, n]) => `${what} ${n}`)
      .join(", ") || "none"
  );
}
