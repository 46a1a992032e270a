// Durations as the CRDs write them (activation.batchWindow, driftDetection.interval,
// limits.requestTimeout): Go's time.ParseDuration syntax restricted to h, m, s and ms, e.g. "5s",
// "1m30s", "1.5h". The API server validates the same pattern, so a stored object always parses.

const DURATION = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h))+$/;
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/** Milliseconds in a CRD duration; throws on anything the CRD schema would refuse. */
export function parseDuration(text: string): number {
  if (!DURATION.test(text)) throw new Error(`not a duration: "${text}" (expected e.g. 500ms, 5s, 1m30s, 1h)`);
  let total = 0;
  for (const [, amount, unit] of text.matchAll(PART)) total += Number(amount) * UNIT_MS[unit!]!;
  return Math.round(total);
}
