import { describe, expect, it } from "vitest";
import {
  decide,
  type LeaseRecord,
  leaseValid,
  microTime,
  observe,
  releasedRecord,
  validateTimings,
} from "../../../src/runtime/lease.ts";

const T0 = 1_700_000_000_000;
const held = (holder: string, overrides: Partial<LeaseRecord> = {}): LeaseRecord => ({
  holderIdentity: holder,
  leaseDurationSeconds: 15,
  acquireTime: microTime(T0 - 60_000),
  renewTime: microTime(T0),
  leaseTransitions: 3,
  ...overrides,
});

describe("decide (client-go tryAcquireOrRenew)", () => {
  it.each([
    { name: "no lease: create it", current: undefined, seenAt: 0, now: T0, expected: "create" },
    {
      name: "held by another, valid: wait",
      current: held("b"),
      seenAt: T0,
      now: T0 + 14_999,
      expected: "wait",
    },
    {
      name: "held by another, expired: take it",
      current: held("b"),
      seenAt: T0,
      now: T0 + 15_000,
      expected: "update",
    },
    {
      name: "released (no holder): take it at once",
      current: held(""),
      seenAt: T0,
      now: T0,
      expected: "update",
    },
    { name: "held by us: renew", current: held("me"), seenAt: T0, now: T0 + 1, expected: "update" },
    {
      name: "released with 1 s duration, holder empty: take it",
      current: held("", { leaseDurationSeconds: 1 }),
      seenAt: T0,
      now: T0 + 10,
      expected: "update",
    },
  ])("$name", ({ current, seenAt, now, expected }) => {
    const observation = current ? observe(undefined, current, seenAt) : undefined;
    expect(decide(current, observation, "me", now, 15).action).toBe(expected);
  });

  it("renewing keeps acquireTime and transitions; taking over counts a transition", () => {
    const mine = decide(held("me"), observe(undefined, held("me"), T0), "me", T0 + 2000, 15);
    expect(mine).toMatchObject({
      action: "update",
      record: {
        holderIdentity: "me",
        acquireTime: held("me").acquireTime,
        leaseTransitions: 3,
        renewTime: microTime(T0 + 2000),
      },
    });
    const taken = decide(held("b"), observe(undefined, held("b"), T0), "me", T0 + 20_000, 15);
    expect(taken).toMatchObject({
      action: "update",
      record: {
        holderIdentity: "me",
        acquireTime: microTime(T0 + 20_000),
        leaseTransitions: 4,
        leaseDurationSeconds: 15,
      },
    });
  });

  it("a held lease with no observation yet is treated as just seen (valid)", () => {
    expect(decide(held("b"), undefined, "me", T0, 15)).toEqual({ action: "wait", holder: "b" });
  });
});

describe("observe: validity is measured from when WE saw the record change", () => {
  it("keeps the first observation time while the record is unchanged (a dead leader)", () => {
    const first = observe(undefined, held("b"), T0);
    const again = observe(first, held("b"), T0 + 10_000);
    expect(again.at).toBe(T0);
    expect(leaseValid(again, T0 + 14_999)).toBe(true);
    expect(leaseValid(again, T0 + 15_000)).toBe(false);
  });

  it("restarts the clock when the holder renews (renewTime changes), whatever its timestamps say", () => {
    const first = observe(undefined, held("b"), T0);
    // the leader's clock is far behind ours: its renewTime is old, but it did change
    const renewed = observe(first, held("b", { renewTime: microTime(T0 - 3_600_000) }), T0 + 10_000);
    expect(renewed.at).toBe(T0 + 10_000);
    expect(leaseValid(renewed, T0 + 20_000)).toBe(true);
  });
});

describe("releasedRecord and timings", () => {
  it("release empties the holder and shortens the lease to 1 s, keeping transitions", () => {
    expect(releasedRecord(held("me"), T0)).toEqual({
      holderIdentity: "",
      leaseDurationSeconds: 1,
      acquireTime: microTime(T0),
      renewTime: microTime(T0),
      leaseTransitions: 3,
    });
  });

  it.each([
    { lease: 15_000, renew: 10_000, retry: 2_000, ok: true },
    { lease: 3_000, renew: 2_000, retry: 500, ok: true },
    { lease: 10_000, renew: 10_000, retry: 2_000, ok: false },
    { lease: 15_000, renew: 2_400, retry: 2_000, ok: false },
    { lease: 1_500, renew: 1_000, retry: 100, ok: false },
  ])("lease $lease / renew $renew / retry $retry → valid: $ok", ({ lease, renew, retry, ok }) => {
    const check = () => validateTimings(lease, renew, retry);
    if (ok) expect(check).not.toThrow();
    else expect(check).toThrow();
  });

  it("microTime has microsecond precision", () => {
    expect(microTime(Date.UTC(2024, 0, 2, 3, 4, 5, 678))).toBe("2024-01-02T03:04:05.678000Z");
  });
});
