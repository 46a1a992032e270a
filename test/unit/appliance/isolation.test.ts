// activateIsolating against a model appliance: a candidate of member changes, an activation that
// fails while a bad member's change is in it (naming it or not), withdraw/rewrite that take changes
// out and put them back. Table: who fails, who goes live, how many activations.
import { describe, expect, it } from "vitest";
import {
  activateIsolating,
  type BatchMember,
  isolationBudget,
  membersNamedIn,
} from "../../../src/appliance/isolation.ts";

class Model {
  readonly candidate = new Set<string>();
  readonly live = new Set<string>();
  activations = 0;
  readonly bad: ReadonlySet<string>;
  readonly names: boolean;
  readonly failure: "validation" | "timeout";
  constructor(bad: ReadonlySet<string>, names: boolean, failure: "validation" | "timeout" = "validation") {
    this.bad = bad;
    this.names = names;
    this.failure = failure;
  }
  async activate(): Promise<string> {
    this.activations += 1;
    if (this.failure === "timeout") throw Object.assign(new Error("timed out"), { kind: "timeout" });
    const guilty = [...this.candidate].filter((m) => this.bad.has(m));
    if (guilty.length > 0) {
      const text = this.names
        ? guilty.map((g) => `${g} -> from 'x' is not a valid reference`).join(" ")
        : "from 'x' is not a valid reference";
      throw Object.assign(new Error(`Validation Error: ${text}`), { kind: "validation" });
    }
    for (const m of this.candidate) this.live.add(m);
    return `ok ${this.activations}`;
  }
  member(ref: string): BatchMember {
    this.candidate.add(ref);
    return {
      vendorRef: ref,
      withdraw: async () => {
        this.candidate.delete(ref);
      },
      rewrite: async () => {
        this.candidate.add(ref);
        return ref;
      },
    };
  }
}

async function run(size: number, bad: string[], names: boolean, failure?: "validation" | "timeout") {
  const model = new Model(new Set(bad), names, failure);
  const members = Array.from({ length: size }, (_, i) => model.member(`rule-${i}`));
  const result = await activateIsolating(members, {
    activate: () => model.activate(),
    attributable: (e) => (e as { kind?: string }).kind === "validation",
    named: (e, group) => (names ? membersNamedIn((e as Error).message, group) : []),
    maxActivations: isolationBudget(size),
  });
  return { model, result, failed: [...result.failed.keys()].map((m) => m.vendorRef).sort() };
}

describe("activateIsolating", () => {
  it.each([
    { size: 50, bad: ["rule-17"], names: true, activations: 2 },
    { size: 50, bad: ["rule-3", "rule-40"], names: true, activations: 2 },
    { size: 1, bad: ["rule-0"], names: true, activations: 2 },
  ])("named culprits ($bad of $size): withdrawn, the rest live in $activations activations", async (t) => {
    const { model, result, failed } = await run(t.size, t.bad, t.names);
    expect(failed).toEqual([...t.bad].sort());
    expect(result.error).toBeUndefined();
    expect(model.live.size).toBe(t.size - t.bad.length);
    for (const b of t.bad) expect(model.live.has(b)).toBe(false);
    expect(model.activations).toBe(t.activations);
  });

  it.each([
    { size: 50, bad: ["rule-17"] },
    { size: 50, bad: ["rule-0"] },
    { size: 50, bad: ["rule-49"] },
    { size: 64, bad: ["rule-31"] },
    { size: 2, bad: ["rule-1"] },
  ])("no culprit named ($bad of $size): bisected to the rules at fault, within the bound", async (t) => {
    const { model, result, failed } = await run(t.size, t.bad, false);
    expect(failed).toEqual([...t.bad].sort());
    expect(result.error).toBeUndefined();
    expect(model.live.size).toBe(t.size - t.bad.length);
    expect(model.activations).toBeLessThanOrEqual(isolationBudget(t.size));
  });

  it("two unnamed culprits: the first is isolated, the bound stops the search and the rest fails whole", async () => {
    const { model, result, failed } = await run(7, ["rule-2", "rule-5"], false);
    expect(failed).toEqual(["rule-2"]);
    expect(result.error).toBeDefined();
    expect(model.activations).toBe(isolationBudget(7));
    expect(model.live.has("rule-2") || model.live.has("rule-5")).toBe(false);
  });

  it("a failure no rule can cause (a timeout) fails the whole batch after one activation", async () => {
    const { model, result, failed } = await run(10, [], false, "timeout");
    expect(failed).toEqual([]);
    expect((result.error as Error).message).toBe("timed out");
    expect(model.activations).toBe(1);
    expect(model.live.size).toBe(0);
  });

  it("past the bound, what is left fails as a whole", async () => {
    // Every rule is bad and nothing is named: isolating them one by one would take far more than the bound.
    const bad = Array.from({ length: 16 }, (_, i) => `rule-${i}`);
    const { model, result } = await run(16, bad, false);
    expect(result.error).toBeDefined();
    expect(model.activations).toBe(isolationBudget(16));
    expect(model.live.size).toBe(0);
  });

  it("names are whole tokens (rule-17 does not name rule-1); a number in the text is a token too, hence the dictionary's opt-in", () => {
    const members = ["rule-1", "rule-17", "7"].map((vendorRef) => ({ vendorRef }));
    expect(
      membersNamedIn("rule-17 -> from 'x' is not valid (line 7)", members).map((m) => m.vendorRef),
    ).toEqual(["rule-17", "7"]);
  });
});
