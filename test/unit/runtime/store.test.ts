import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../../src/runtime/resource.ts";
import { Store } from "../../../src/runtime/store.ts";

const obj = (namespace: string, name: string, rv: string): KubeObject => ({
  metadata: { namespace, name, resourceVersion: rv },
});
const names = (list: KubeObject[]) =>
  list.map((o) => `${o.metadata?.namespace}/${o.metadata?.name}@${o.metadata?.resourceVersion}`).sort();

describe("Store", () => {
  it("get/list by namespace, upsert returns the previous object, delete removes", () => {
    const store = new Store();
    expect(store.upsert(obj("a", "x", "1"))).toBeUndefined();
    expect(store.upsert(obj("a", "x", "2"))?.metadata?.resourceVersion).toBe("1");
    store.upsert(obj("b", "y", "3"));
    expect(store.get("a", "x")?.metadata?.resourceVersion).toBe("2");
    expect(names(store.list("a"))).toEqual(["a/x@2"]);
    expect(names(store.list())).toEqual(["a/x@2", "b/y@3"]);
    expect(store.delete(obj("a", "x", "9"))?.metadata?.resourceVersion).toBe("2");
    expect(store.get("a", "x")).toBeUndefined();
    expect(store.list("a")).toEqual([]);
    expect(store.size()).toBe(1);
  });

  it.each([
    {
      name: "full replace reports adds, rv changes and deletions",
      before: [obj("a", "same", "1"), obj("a", "changed", "2"), obj("b", "gone", "3")],
      fresh: [obj("a", "same", "1"), obj("a", "changed", "5"), obj("c", "new", "6")],
      scope: undefined,
      added: ["c/new@6"],
      updated: ["a/changed@5"],
      deleted: ["b/gone@3"],
      after: ["a/changed@5", "a/same@1", "c/new@6"],
    },
    {
      name: "scoped replace only touches its namespace",
      before: [obj("a", "x", "1"), obj("b", "y", "2")],
      fresh: [obj("a", "z", "7"), obj("b", "ignored", "8")],
      scope: { namespace: "a" },
      added: ["a/z@7"],
      updated: [],
      deleted: ["a/x@1"],
      after: ["a/z@7", "b/y@2"],
    },
  ])("$name", ({ before, fresh, scope, added, updated, deleted, after }) => {
    const store = new Store();
    for (const o of before) store.upsert(o);
    const delta = store.replace(fresh, scope);
    expect(names(delta.added)).toEqual(added);
    expect(names(delta.updated.map(([, n]) => n))).toEqual(updated);
    expect(names(delta.deleted)).toEqual(deleted);
    expect(names(store.list())).toEqual(after);
  });

  it("a list taken before replace still holds the old objects (readers keep a consistent snapshot)", () => {
    const store = new Store();
    store.upsert(obj("a", "x", "1"));
    const snapshot = store.list();
    store.replace([obj("a", "y", "2")]);
    expect(names(snapshot)).toEqual(["a/x@1"]);
    expect(names(store.list())).toEqual(["a/y@2"]);
  });
});
