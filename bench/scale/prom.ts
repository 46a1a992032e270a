// Reads the operator child's own /metrics (Prometheus text): the bench uses its reconcile counters and
// work-queue depth to tell when a restarted operator has re-verified every rule, and its drift-check
// counter to measure one drift cycle.
import { request } from "undici";

export type Samples = Array<{ name: string; labels: Record<string, string>; value: number }>;

export async function scrape(url: string): Promise<Samples> {
  const response = await request(url, { headersTimeout: 10_000, bodyTimeout: 10_000 });
  const text = await response.body.text();
  if (response.statusCode !== 200) throw new Error(`GET ${url}: ${response.statusCode}`);
  const samples: Samples = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const brace = line.indexOf("{");
    const space = line.lastIndexOf(" ");
    const name = brace >= 0 ? line.slice(0, brace) : line.slice(0, space);
    const labels: Record<string, string> = {};
    if (brace >= 0) {
      for (const m of line.slice(brace, line.lastIndexOf("}")).matchAll(/(\w+)="([^"]*)"/g))
        labels[m[1]!] = m[2]!;
    }
    samples.push({ name, labels, value: Number(line.slice(space + 1)) });
  }
  return samples;
}

/** The sum of a metric's samples whose labels include `match`. */
export function sum(samples: Samples, name: string, match: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v))
    .reduce((total, s) => total + s.value, 0);
}
