// The compiled form of a dictionary: what compile.ts produces and the executor and the appliance
// session run (templates compiled, JSONPaths and regexes checked, operations resolved into steps).
import type { ErrorCode } from "./errors.ts";
import type { DocPath } from "./located.ts";
import type { CompiledPredicate } from "./predicates.ts";
import type { CompiledImport } from "./reverse.ts";
import type { ResourceKind } from "./rule-input.ts";
import type { DictionarySpec } from "./schema.ts";
import type { Range } from "./semver.ts";
import type { CompiledStructure } from "./structure.ts";
import type { CompiledTemplate } from "./templates.ts";

export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
export type BodyFormat = "json" | "form" | "xml" | "text";
export type ResponseFormat = "json" | "xml" | "text";

export interface CompiledExtractor {
  readonly describe: string;
  readonly optional: boolean;
  readonly path?: string;
  readonly template?: CompiledTemplate;
}

export interface CompiledErrorRule {
  when: CompiledPredicate;
  code: ErrorCode;
  message?: CompiledExtractor;
}

export interface CompiledRequest {
  readonly docPath: DocPath;
  readonly method: HttpMethod;
  readonly path: CompiledTemplate;
  readonly query: [string, CompiledStructure][];
  readonly headers: [string, CompiledTemplate][];
  readonly bodyFormat?: BodyFormat;
  readonly body?: CompiledStructure;
  readonly responseFormat: ResponseFormat;
  readonly success?: CompiledPredicate;
  readonly notFound?: CompiledPredicate;
  readonly errors: CompiledErrorRule[];
  readonly extract: [string, CompiledExtractor][];
  readonly timeoutMs?: number;
}

export interface CompiledJob {
  readonly id: CompiledExtractor;
  readonly poll: CompiledRequest;
  readonly done: CompiledPredicate;
  readonly failed?: CompiledPredicate;
  readonly failureCode: ErrorCode;
  readonly message?: CompiledExtractor;
  readonly intervalMs: number;
  readonly timeoutMs: number;
}

export interface CompiledStep extends CompiledRequest {
  readonly index: number;
  readonly name?: string;
  readonly when?: CompiledTemplate;
  readonly job?: CompiledJob;
  readonly items?: { path: string; vendorRef: CompiledExtractor };
  /** The object moved between this operation's steps: run the operation again (schema.ts `moved`). */
  readonly moved?: CompiledPredicate;
}

export type OperationName =
  | "create"
  | "get"
  | "list"
  | "update"
  | "delete"
  | "move"
  | "revert"
  | "findByMarker";

export interface CompiledOperation {
  readonly name: OperationName | "health" | "activation" | "prepare" | "confirm" | "rollback";
  readonly docPath: DocPath;
  readonly steps: CompiledStep[];
  readonly assignVendorRef?: CompiledTemplate;
  readonly vendorRef?: CompiledExtractor;
  /** update: the vendorRef after the update, when the update changes it. */
  readonly vendorRefAfter?: CompiledTemplate;
  readonly object?: string;
}

/** How much the ownership field holds (description, a space, the marker). */
export interface OwnershipBudget {
  readonly maxLength: number;
  readonly unit: "characters" | "bytes";
}

/** How the appliance orders a kind's rules (the dictionary's `ordering`). */
export interface CompiledOrdering {
  /** Which rules are ordered together: a template over `rule` (canonical fields). */
  readonly scope: CompiledTemplate;
  /** Numbered ordering: the number of a listed object (over `item`, `vendorRef`). */
  readonly number?: CompiledTemplate;
  readonly numbers?: { min: number; max: number; step: number };
}

export interface CompiledResource {
  readonly kind: ResourceKind;
  readonly ownershipField: CompiledTemplate;
  readonly ownershipBudget?: OwnershipBudget;
  readonly normalize: CompiledStructure;
  /** The reverse mapping (`import`), when the dictionary declares one. */
  readonly reverse?: CompiledImport;
  readonly ordering?: CompiledOrdering;
  readonly operations: Partial<Record<OperationName, CompiledOperation>> & {
    create: CompiledOperation;
    get: CompiledOperation;
    list: CompiledOperation;
    update: CompiledOperation;
    delete: CompiledOperation;
  };
}

export interface CompiledInject {
  headers: [string, CompiledTemplate][];
  query: [string, CompiledTemplate][];
  form: [string, CompiledTemplate][];
}

export type CompiledAuth =
  | { type: "none" }
  | { type: "basic"; username: CompiledTemplate; password: CompiledTemplate }
  | { type: "bearer"; token: CompiledTemplate; header: string; scheme: string }
  | { type: "apiKeyHeader"; header: string; value: CompiledTemplate }
  | { type: "apiKeyQuery"; param: string; value: CompiledTemplate }
  | { type: "apiKeyForm"; field: string; value: CompiledTemplate }
  | {
      type: "session";
      login: CompiledRequest;
      token: CompiledExtractor;
      expiresIn?: CompiledExtractor;
      ttlSeconds: number;
      use: CompiledInject;
      renewOn: number[];
    };

export interface CompiledDictionary {
  readonly name: string;
  readonly vendor: string;
  readonly firmware: string;
  readonly firmwareRange: Range;
  readonly displayName: string;
  readonly description?: string;
  /** Where it was loaded from (for messages). */
  readonly source: string;
  readonly spec: DictionarySpec;
  readonly parameters: DictionarySpec["parameters"];
  readonly connection: DictionarySpec["connection"] & { headerTemplates: [string, CompiledTemplate][] };
  readonly auth: CompiledAuth;
  /**
   * The keys of the credentials Secret the auth templates read (recorded while every template was
   * checked against samples): a Secret without one of them cannot work, and the device says so.
   */
  readonly credentialKeys: readonly string[];
  readonly valueMaps: Record<string, Record<string, unknown>>;
  readonly reverseValueMaps: Record<string, Record<string, unknown>>;
  readonly errors: CompiledErrorRule[];
  readonly ruleNumbers?: { min: number; max: number };
  readonly health: CompiledOperation;
  readonly activation?: CompiledOperation;
  /** Safe apply: before a batch's writes, and after its activation (health check passed / failed). */
  readonly activationPrepare?: CompiledOperation;
  readonly activationConfirm?: CompiledOperation;
  readonly activationRollback?: CompiledOperation;
  /** The activation's failure messages name the objects at fault by vendorRef. */
  readonly activationNamesCulprits?: boolean;
  readonly resources: Partial<Record<ResourceKind, CompiledResource>>;
}
