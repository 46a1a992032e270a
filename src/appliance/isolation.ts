// Failure isolation for one batched activation (a PAN-OS commit of fifty rules): one rule the
// appliance refuses must not keep the other forty-nine from going live.
//   - The failure names the rules at fault (the dictionary says its messages do, `namesCulprits`):
//     those are withdrawn (the dictionary's `revert`) and fail with the appliance's error; the others
//     are activated again.
//   - It names none: the batch is bisected — half withdrawn, the other half activated; a half that
//     activates is done, a half that fails is split again, the withdrawn half is written back and
//     activated in turn — until the rule at fault is alone. The number of activations is bounded
//     (about 2·log2(n) + 2 for one bad rule); past the bound, what is left fails as a whole.
// Only failures a rule can cause are isolated (the caller says which: a validation failure, not a
// timeout); anything else fails the whole batch, as does an error while withdrawing or rewriting.

export interface BatchMember {
  /** The object the member's write touched, as the appliance names it (rewrite may change it). */
  vendorRef: string;
  /** Takes the member's change out of the configuration not yet activated. */
  withdraw(): Promise<void>;
  /** Writes the member's change again (after a bisection step went without it); its new vendorRef. */
  rewrite(): Promise<string>;
}

export interface IsolationOptions<T, M> {
  /** One activation of whatever the appliance holds now. */
  activate(): Promise<T>;
  /** Whether one member's change can have caused this failure (else isolation cannot help). */
  attributable(error: unknown): boolean;
  /** The members the failure names as at fault (empty when it names none). */
  named(error: unknown, members: readonly M[]): M[];
  /** At most this many activations, the first included. */
  maxActivations: number;
  /** Progress, for the logs: what was withdrawn or rewritten, and why. */
  onStep?(step: IsolationStep): void;
}

export type IsolationStep =
  | { type: "withdrawn"; vendorRefs: string[]; reason: "named" | "alone" | "bisect" }
  | { type: "rewritten"; vendorRefs: string[] };

export interface IsolationResult<T, M> {
  /** The last successful activation's value, when the batch (less its failed members) went live. */
  value?: T;
  /** Set when what remained of the batch could not be activated: its members all fail with it. */
  error?: unknown;
  /** Members at fault, withdrawn, with the error to report for each. */
  failed: Map<M, unknown>;
  activations: number;
}

/** A bound that leaves room to bisect a batch of `size` down to one rule, and a little more. */
export function isolationBudget(size: number): number {
  return 2 * Math.ceil(Math.log2(Math.max(2, size))) + 3;
}

class BatchFailure {
  readonly error: unknown;
  constructor(error: unknown) {
    this.error = error;
  }
}

export async function activateIsolating<T, M extends BatchMember>(
  members: readonly M[],
  options: IsolationOptions<T, M>,
): Promise<IsolationResult<T, M>> {
  const failed = new Map<M, unknown>();
  let activations = 0;
  let value: T | undefined;
  let lastError: unknown;

  const activateOnce = async (): Promise<boolean> => {
    activations += 1;
    try {
      value = await options.activate();
      return true;
    } catch (error) {
      lastError = error;
      return false;
    }
  };
  const withdraw = async (group: readonly M[], reason: "named" | "alone" | "bisect", error?: unknown) => {
    for (const member of group) {
      await member.withdraw();
      if (error !== undefined) failed.set(member, error);
    }
    options.onStep?.({ type: "withdrawn", vendorRefs: group.map((m) => m.vendorRef), reason });
  };

  /** Activates `group` (whose changes are on the appliance, not yet live) until it is live or failed. */
  const settle = async (start: readonly M[], outermost: boolean): Promise<void> => {
    let group = [...start];
    for (;;) {
      // A nested group emptied by withdrawals has nothing left to activate: the caller activates next.
      if (group.length === 0 && !outermost) return;
      // The bound: what is left (written back or never withdrawn) fails with the last failure.
      if (activations >= options.maxActivations) throw new BatchFailure(lastError);
      if (await activateOnce()) return;
      const error = lastError;
      if (!options.attributable(error)) throw new BatchFailure(error);
      const named = options.named(error, group);
      if (named.length > 0) {
        await withdraw(named, "named", error);
        group = group.filter((m) => !named.includes(m));
        continue;
      }
      // Nothing of ours is named and nothing of ours is left: the cause is not in this batch.
      if (group.length === 0) throw new BatchFailure(error);
      if (group.length === 1) {
        await withdraw(group, "alone", error);
        group = [];
        continue;
      }
      const half = Math.ceil(group.length / 2);
      const kept = group.slice(0, half);
      const later = group.slice(half);
      await withdraw(later, "bisect");
      await settle(kept, false);
      for (const member of later) member.vendorRef = await member.rewrite();
      options.onStep?.({ type: "rewritten", vendorRefs: later.map((m) => m.vendorRef) });
      group = later;
    }
  };

  try {
    await settle(members, true);
    return value === undefined ? { failed, activations } : { value, failed, activations };
  } catch (error) {
    if (error instanceof BatchFailure) return { error: error.error, failed, activations };
    // Withdrawing or rewriting failed: the appliance's state is unknown, nothing of the batch is live.
    return { error, failed, activations };
  }
}

/** Whole-token occurrences of each member's vendorRef in the failure's message. */
export function membersNamedIn<M extends { vendorRef: string }>(message: string, members: readonly M[]): M[] {
  return members.filter((m) => {
    if (m.vendorRef === "") return false;
    let from = 0;
    for (;;) {
      const at = message.indexOf(m.vendorRef, from);
      if (at < 0) return false;
      const before = message[at - 1];
      const after = message[at + m.vendorRef.length];
      if (!isNameChar(before) && !isNameChar(after)) return true;
      from = at + 1;
    }
  });
}

function isNameChar(c: string | undefined): boolean {
  return c !== undefined && /[A-Za-z0-9_.-]/.test(c);
}
