import { describe, expect, it } from "vitest";
import { EventCorrelator, scrubSecrets } from "../../../src/runtime/event-correlator.ts";

describe("EventCorrelator", () => {
  it("create → series(2) → deferred counts, then one flush with the latest count", () => {
    const c = new EventCorrelator();
    expect(c.observe("k", "obj", 0).action).toBe("create");
    c.created("k", { namespace: "ns", name: "e1" });
    expect(c.observe("k", "obj", 1000)).toEqual({ action: "series", key: "k", count: 2 });
    for (let i = 3; i <= 50; i++) expect(c.observe("k", "obj", 1000 + i).action).toBe("deferred");
    expect(c.takeDirty(2000)).toEqual([
      { key: "k", ref: { namespace: "ns", name: "e1" }, count: 50, lastSeen: 1050 },
    ]);
    expect(c.takeDirty(3000)).toEqual([]);
  });

  it("a repeat after the 6 min window starts a new Event", () => {
    const c = new EventCorrelator();
    c.observe("k", "obj", 0);
    c.takeDirty(6 * 60_000 + 1);
    expect(c.observe("k", "obj", 6 * 60_000 + 2).action).toBe("create");
  });

  it("throttles distinct Events per object after the burst, refilling one per period", () => {
    const c = new EventCorrelator({ burst: 3, refillMs: 1000 });
    const actions = Array.from({ length: 5 }, (_, i) => c.observe(`k${i}`, "obj", 0).action);
    expect(actions).toEqual(["create", "create", "create", "drop", "drop"]);
    expect(c.observe("other-object", "obj2", 0).action).toBe("create");
    expect(c.observe("k9", "obj", 999).action).toBe("drop");
    expect(c.observe("k9", "obj", 1000).action).toBe("create");
  });
});

describe("scrubSecrets", () => {
  it.each([
    ["login failed: password=hunter2 for admin", "login failed: password=[REDACTED] for admin"],
    ['body {"token": "abc.def"} rejected', 'body {"token": "[REDACTED]"} rejected'],
    ["Authorization: Bearer eyJhbGciOi.x.y", "Authorization: Bearer [REDACTED]"],
    ["header Basic dXNlcjpwYXNz sent", "header Basic [REDACTED] sent"],
    ["api_key=XYZ&x=1", "api_key=[REDACTED]&x=1"],
    ["rule 10 created on fw-1", "rule 10 created on fw-1"],
  ])("%s", (input, expected) => {
    expect(scrubSecrets(input)).toBe(expected);
  });
});
