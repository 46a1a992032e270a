import { describe, expect, it } from "vitest";
import { readCrds } from "../../../hack/gen-crd-types.ts";
import { API_VERSION, CATEGORY, crdName, GROUP, RESOURCES, VERSION } from "../../../src/api/group.ts";
import { loadCrdDocuments } from "./crd-files.ts";

describe("group.ts constants", () => {
  const documents = loadCrdDocuments();

  it.each(RESOURCES)("$kind matches its CRD", (resource) => {
    const doc = documents.find((d) => d.spec.names.kind === resource.kind);
    expect(doc, `no CRD for ${resource.kind}`).toBeDefined();
    expect(doc!.metadata.name).toBe(crdName(resource));
    expect(doc!.spec.group).toBe(GROUP);
    expect(doc!.spec.names).toMatchObject({
      plural: resource.plural,
      singular: resource.singular,
      listKind: resource.listKind,
      shortNames: [resource.shortName],
      categories: [CATEGORY],
    });
    expect(doc!.spec.versions.map((v) => v.name)).toEqual([VERSION]);
  });

  it("covers every CRD in crds/", () => {
    expect(readCrds().map((c) => c.kind)).toEqual(RESOURCES.map((r) => r.kind));
    expect(readCrds().every((c) => c.apiVersion === API_VERSION)).toBe(true);
  });
});
