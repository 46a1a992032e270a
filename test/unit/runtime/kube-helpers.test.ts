import { describe, expect, it } from "vitest";
import { addFinalizerPatch, hasFinalizer, removeFinalizerPatch } from "../../../src/runtime/kube.ts";
import {
  CoreResources,
  collectionPath,
  formatKey,
  objectPath,
  parseKey,
  type ResourceType,
} from "../../../src/runtime/resource.ts";

const F = "vnf-operator.io/cleanup";

describe("finalizer patches (kube-rs style, with a test op)", () => {
  it.each([
    {
      name: "no list yet: test null then add the list",
      current: undefined,
      expected: [
        { op: "test", path: "/metadata/finalizers", value: null },
        { op: "add", path: "/metadata/finalizers", value: [F] },
      ],
    },
    {
      name: "others present: test the whole list then append",
      current: ["other/x"],
      expected: [
        { op: "test", path: "/metadata/finalizers", value: ["other/x"] },
        { op: "add", path: "/metadata/finalizers/-", value: F },
      ],
    },
    { name: "already present: nothing to do", current: ["other/x", F], expected: undefined },
  ])("add: $name", ({ current, expected }) => {
    expect(addFinalizerPatch(current, F)).toEqual(expected);
  });

  it.each([
    {
      name: "ours in the middle: test it at its index, remove only it",
      current: ["a/x", F, "b/y"],
      expected: [
        { op: "test", path: "/metadata/finalizers/1", value: F },
        { op: "remove", path: "/metadata/finalizers/1" },
      ],
    },
    { name: "absent: nothing to do", current: ["a/x"], expected: undefined },
    { name: "no list: nothing to do", current: undefined, expected: undefined },
  ])("remove: $name", ({ current, expected }) => {
    expect(removeFinalizerPatch(current, F)).toEqual(expected);
  });

  it("hasFinalizer", () => {
    expect(hasFinalizer({ metadata: { finalizers: [F] } }, F)).toBe(true);
    expect(hasFinalizer({ metadata: {} }, F)).toBe(false);
  });
});

describe("resource paths and keys", () => {
  const rules: ResourceType = {
    group: "vnf-operator.io",
    version: "v1alpha1",
    plural: "vnffirewallrules",
    kind: "VnfFirewallRule",
    namespaced: true,
  };
  it.each([
    { path: collectionPath(CoreResources.configMaps), expected: "/api/v1/configmaps" },
    { path: collectionPath(CoreResources.configMaps, "ns"), expected: "/api/v1/namespaces/ns/configmaps" },
    {
      path: collectionPath(rules, "ns"),
      expected: "/apis/vnf-operator.io/v1alpha1/namespaces/ns/vnffirewallrules",
    },
    {
      path: objectPath(rules, { namespace: "ns", name: "r1" }, "status"),
      expected: "/apis/vnf-operator.io/v1alpha1/namespaces/ns/vnffirewallrules/r1/status",
    },
    {
      path: objectPath(CoreResources.namespaces, { namespace: "", name: "x" }),
      expected: "/api/v1/namespaces/x",
    },
  ])("$expected", ({ path, expected }) => {
    expect(path).toBe(expected);
  });

  it.each([
    [{ namespace: "ns", name: "a" }, "ns/a"],
    [{ namespace: "", name: "cluster-wide" }, "cluster-wide"],
  ])("key %o ⇄ %s", (key, text) => {
    expect(formatKey(key)).toBe(text);
    expect(parseKey(text)).toEqual(key);
  });
});
