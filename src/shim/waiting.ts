// Bounded waits on the API server: for a rule's answer (Ready or Stalled for the generation written),
// for resources to be gone (the operator's finalizer removed the appliance object), and for a
// requested drift check. Each polls with a fixed interval and gives up at the wait timeout; the caller
// turns "not yet" into an "ask again" answer.
import type { VnfDevice } from "../api/types.ts";
import type { ShimKube, ShimRule } from "./kube.ts";
import type { ShimRuleKind } from "./names.ts";
import { decide, pending, type RuleAnswer, waitingForDevice } from "./outcome.ts";

export interface WaitOptions {
  timeoutMs: number;
  pollMs: number;
}

export interface RuleRef {
  kind: ShimRuleKind;
  namespace: string;
  name: string;
  generation: number;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `probe` until it returns a value or the time is up (then `probe`'s last `undefined`). */
async function poll<T>(options: WaitOptions, probe: () => Promise<T | undefined>): Promise<T | undefined> {
  const started = Date.now();
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    const waited = Date.now() - started;
    if (waited >= options.timeoutMs) return undefined;
    await sleep(Math.min(options.pollMs, options.timeoutMs - waited));
  }
}

/** The answer of each rule, in order: decided, waiting for its device, or Pending when time ran out. */
export async function waitForAnswers(
  kube: ShimKube,
  refs: readonly RuleRef[],
  options: WaitOptions,
): Promise<RuleAnswer[]> {
  const started = Date.now();
  const answers = new Map<number, RuleAnswer>();
  const last = new Map<number, ShimRule | undefined>();
  await poll(options, async () => {
    await Promise.all(
      refs.map(async (ref, index) => {
        if (answers.has(index)) return;
        const rule = await kube.getRule(ref.kind, ref.namespace, ref.name);
        last.set(index, rule);
        const answer = rule && (decide(rule, ref.generation) ?? waitingForDevice(rule, ref.generation));
        if (answer) answers.set(index, answer);
      }),
    );
    return answers.size === refs.length ? true : undefined;
  });
  const waited = Date.now() - started;
  return refs.map((ref, index) => answers.get(index) ?? pending(last.get(index), ref.generation, waited));
}

/** Waits until the rules are gone; returns those still there when time ran out. */
export async function waitGone(
  kube: ShimKube,
  refs: ReadonlyArray<Omit<RuleRef, "generation">>,
  options: WaitOptions,
): Promise<ShimRule[]> {
  let left: ShimRule[] = [];
  await poll(options, async () => {
    const found = await Promise.all(refs.map((r) => kube.getRule(r.kind, r.namespace, r.name)));
    left = found.filter((r): r is ShimRule => r !== undefined);
    return left.length === 0 ? true : undefined;
  });
  return left;
}

/**
 * Waits until each device recorded a drift check at or after `since` (status.lastDriftCheckTime moved
 * from `before`); returns the devices as last read, and which ones completed their check.
 */
export async function waitForDriftChecks(
  kube: ShimKube,
  devices: readonly VnfDevice[],
  since: Date,
  options: WaitOptions,
): Promise<{ devices: VnfDevice[]; checked: Set<string> }> {
  const sinceSecond = Math.floor(since.getTime() / 1000) * 1000;
  const checked = new Set<string>();
  let current = [...devices];
  await poll(options, async () => {
    current = await Promise.all(
      devices.map(async (device) => {
        const fresh = await kube.getDevice(device.metadata.namespace ?? "", device.metadata.name ?? "");
        const at = fresh?.status?.lastDriftCheckTime;
        const moved = at !== undefined && at !== device.status?.lastDriftCheckTime;
        if (moved && Date.parse(at) >= sinceSecond) checked.add(keyOf(device));
        return fresh ?? device;
      }),
    );
    return checked.size === devices.length ? true : undefined;
  });
  return { devices: current, checked };
}

export function keyOf(device: VnfDevice): string {
  return `${device.metadata.namespace}/${device.metadata.name}`;
}
