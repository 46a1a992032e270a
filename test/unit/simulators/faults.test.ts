import { describe, expect, it } from "vitest";
import { FaultBook } from "../../simulators/common/faults.ts";
import type { Fault } from "../../simulators/common/types.ts";

describe("FaultBook", () => {
  it("applies the first matching fault in injection order, by method (any case) and path prefix", () => {
    const book = new FaultBook();
    book.add({ kind: "status", status: 500, method: "post", pathPrefix: "/api/v2/firewall" });
    book.add({ kind: "reset" });
    expect(book.take("POST", "/api/v2/firewall/rule")?.kind).toBe("status");
    expect(book.take("GET", "/api/v2/firewall/rule")?.kind).toBe("reset");
    expect(book.take("POST", "/api/v2/system")?.kind).toBe("reset");
  });

  it("consumes `times` and forgets the fault when used up; without times it stays", () => {
    const book = new FaultBook();
    const once = book.add({ kind: "garbage", times: 2, pathPrefix: "/a" });
    book.add({ kind: "latency", ms: 5, pathPrefix: "/b" });
    expect(book.take("GET", "/a")?.kind).toBe("garbage");
    expect(book.list().find((f) => f.id === once)).toMatchObject({ remaining: 1, hits: 1 });
    expect(book.take("GET", "/a")?.kind).toBe("garbage");
    expect(book.take("GET", "/a")).toBeUndefined();
    for (let i = 0; i < 5; i += 1) expect(book.take("GET", "/b")?.kind).toBe("latency");
    expect(book.list()).toMatchObject([{ remaining: null, hits: 5 }]);
    book.clear();
    expect(book.take("GET", "/b")).toBeUndefined();
  });

  it("removes one fault by id", () => {
    const book = new FaultBook();
    const id = book.add({ kind: "timeout" });
    expect(book.remove(id)).toBe(true);
    expect(book.remove(id)).toBe(false);
    expect(book.list()).toEqual([]);
  });

  it.each([
    [{ kind: "status", status: 99 }],
    [{ kind: "status" }],
    [{ kind: "latency", ms: -1 }],
    [{ kind: "reset", times: 0 }],
    [{ kind: "reset", pathPrefix: "no-slash" }],
    [{ kind: "explode" }],
    [{ kind: "timeout", extra: true }],
  ])("refuses the malformed fault %j", (fault) => {
    expect(() => new FaultBook().add(fault as unknown as Fault)).toThrow();
  });
});
