// The dictionary's activation (apply, commit) for one session, with safe apply when the dictionary
// declares it: a savepoint before a batch's writes (`activation.prepare`), then after activating the
// health check decides between `confirm` (keep the batch) and `rollback` (back to the savepoint). A
// class because the savepoint is state: what prepare() extracted waits here for the next activation.
import type { CompiledDictionary, CompiledOperation } from "../dictionary/compiled.ts";
import { VnfError } from "../dictionary/errors.ts";
import type { Executor } from "../dictionary/executor.ts";
import type { DeviceChannel } from "./channel.ts";
import type { ApplianceMetrics } from "./metrics.ts";
import type { ActivationResult } from "./session-types.ts";

type Extracted = Record<string, Record<string, unknown>>;

export interface ActivationStepsDeps {
  dictionary: CompiledDictionary;
  executor: Executor;
  channel: DeviceChannel;
  metrics: ApplianceMetrics;
  /** The `vendor` metric label. */
  vendor: string;
  /** The session's health check (safe apply's verdict after applying). */
  health: (signal?: AbortSignal) => Promise<unknown>;
}

export class ActivationSteps {
  readonly #deps: ActivationStepsDeps;
  /** What the last prepare() extracted (the savepoint), for the next activation. */
  #prepared: Extracted | undefined;

  constructor(deps: ActivationStepsDeps) {
    this.#deps = deps;
  }

  async prepare(signal?: AbortSignal): Promise<void> {
    const prepare = this.#deps.dictionary.activationPrepare;
    if (!prepare) return;
    this.#prepared = await this.#runPart(prepare, {}, signal);
  }

  async activate(signal?: AbortSignal): Promise<ActivationResult> {
    const { dictionary, executor, channel, metrics, vendor } = this.#deps;
    const activation = dictionary.activation;
    if (!activation) return { activated: false, jobs: [], outputs: {} };
    try {
      // Not prepared before the writes (a batch without a writer that asked): prepare now.
      let prepared = this.#prepared;
      this.#prepared = undefined;
      const prepare = dictionary.activationPrepare;
      if (prepared === undefined && prepare) prepared = await this.#runPart(prepare, {}, signal);
      const ctx = { ...executor.context(undefined), steps: prepared ?? {} };
      const result = await channel.perform(
        "activation",
        (transport) => executor.run(activation, ctx, transport, "activation"),
        { signal },
      );
      await this.#checkAfterApply(prepared ?? {}, signal);
      metrics.observeActivation({ vendor, result: "success" });
      return { activated: true, jobs: result.jobs, outputs: result.outputs };
    } catch (error) {
      metrics.observeActivation({ vendor, result: "failure" });
      throw error;
    }
  }

  /** Safe apply: the health check after applying decides between confirm and rollback. */
  async #checkAfterApply(prepared: Extracted, signal: AbortSignal | undefined): Promise<void> {
    const confirm = this.#deps.dictionary.activationConfirm;
    const rollback = this.#deps.dictionary.activationRollback;
    if (!confirm || !rollback) return;
    let failure: unknown;
    try {
      await this.#deps.health(signal);
    } catch (error) {
      failure = error;
    }
    if (failure === undefined) {
      await this.#runPart(confirm, prepared, signal);
      return;
    }
    const reason = failure instanceof VnfError ? `${failure.code}: ${failure.message}` : "no answer";
    try {
      await this.#runPart(rollback, prepared, signal);
    } catch {
      // Unreachable after the apply: the appliance's own rollback timer (never cancelled) reverts.
      throw new VnfError(
        "VNF_UPSTREAM",
        `the health check after applying failed (${reason}) and the rollback could not be sent: the appliance reverts on its own timer`,
      );
    }
    throw new VnfError(
      "VNF_UPSTREAM",
      `rolled back to the savepoint taken before this batch's writes: the health check after applying failed (${reason})`,
    );
  }

  async #runPart(
    op: CompiledOperation,
    prepared: Extracted,
    signal: AbortSignal | undefined,
  ): Promise<Extracted> {
    const { executor, channel } = this.#deps;
    const ctx = { ...executor.context(undefined), steps: prepared };
    const result = await channel.perform(
      op.name,
      (transport) => executor.run(op, ctx, transport, `activation.${op.name}`),
      { signal },
    );
    return result.steps;
  }
}
