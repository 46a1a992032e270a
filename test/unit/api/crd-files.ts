// Reads crds/*.yaml for the unit tests that check the CRDs' own structure.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import { CRD_DIR, type SchemaNode } from "../../../hack/gen-crd-types.ts";

export interface CrdSchemaNode extends SchemaNode {
  properties?: Record<string, CrdSchemaNode>;
  items?: CrdSchemaNode;
  additionalProperties?: CrdSchemaNode | boolean;
  maxLength?: number;
  maxItems?: number;
  maxProperties?: number;
  "x-kubernetes-validations"?: { rule: string; message?: string; messageExpression?: string }[];
  "x-kubernetes-list-type"?: string;
  "x-kubernetes-list-map-keys"?: string[];
}

export interface PrinterColumn {
  name: string;
  type: string;
  jsonPath: string;
  priority?: number;
  description?: string;
}

export interface CrdDocument {
  file: string;
  apiVersion: string;
  metadata: { name: string };
  spec: {
    group: string;
    scope: string;
    names: {
      kind: string;
      listKind: string;
      plural: string;
      singular: string;
      shortNames: string[];
      categories: string[];
    };
    versions: {
      name: string;
      served: boolean;
      storage: boolean;
      subresources?: { status?: object };
      additionalPrinterColumns: PrinterColumn[];
      schema: { openAPIV3Schema: CrdSchemaNode };
    }[];
  };
}

export function loadCrdDocuments(): CrdDocument[] {
  return readdirSync(CRD_DIR)
    .filter((f) => f.endsWith(".yaml"))
    .sort()
    .map((f) => ({
      file: f,
      ...(parse(readFileSync(path.join(CRD_DIR, f), "utf8")) as Omit<CrdDocument, "file">),
    }));
}

/** Every schema node with its dotted path (`[]` for array items, `{}` for map values). */
export function walkSchema(node: CrdSchemaNode, at = ""): { path: string; node: CrdSchemaNode }[] {
  const found = [{ path: at, node }];
  for (const [key, child] of Object.entries(node.properties ?? {}))
    found.push(...walkSchema(child, at ? `${at}.${key}` : key));
  if (node.items) found.push(...walkSchema(node.items, `${at}[]`));
  if (typeof node.additionalProperties === "object")
    found.push(...walkSchema(node.additionalProperties, `${at}{}`));
  return found;
}
