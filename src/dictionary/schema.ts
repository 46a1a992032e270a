// The dictionary format, as a zod schema. The types inferred here are the boundary types of the
// engine; docs/dictionary-format.md documents every field. Templates and JSONPaths are plain strings
// here: the loader compiles and checks each one after this structural validation.
import { z } from "zod";
import { ERROR_CODES } from "./errors.ts";

export const DICTIONARY_API_VERSION = "vnf-operator.io/dictionary/v1";

const Identifier = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "an identifier ([A-Za-z_][A-Za-z0-9_]*)");
const Template = z.string();
/** A JSONPath; its syntax is checked by the loader (jsonpath.ts). */
const JsonPath = z.string();
const Scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);

export const HTTP_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"] as const;
export const BODY_FORMATS = ["json", "form", "xml", "text"] as const;
export const RESPONSE_FORMATS = ["json", "xml", "text"] as const;

/** 200, or a class "2xx". */
export const StatusSpecSchema = z.union([
  z.number().int().min(100, "an HTTP status (100-599)").max(599, "an HTTP status (100-599)"),
  z.string().regex(/^[1-5]xx$/, 'an HTTP status class such as "2xx"'),
]);
const StatusList = z.union([StatusSpecSchema, z.array(StatusSpecSchema).min(1)]);

/**
 * A condition over a response. Every condition present must hold (AND); `any` gives OR.
 * `path` selects the first JSONPath match in the parsed body; without a comparison it means "exists".
 */
export interface Predicate {
  status?: z.infer<typeof StatusList> | undefined;
  path?: string | undefined;
  equals?: z.infer<typeof Scalar> | undefined;
  notEquals?: z.infer<typeof Scalar> | undefined;
  in?: z.infer<typeof Scalar>[] | undefined;
  exists?: boolean | undefined;
  empty?: boolean | undefined;
  matches?: string | undefined;
  expr?: string | undefined;
  all?: Predicate[] | undefined;
  any?: Predicate[] | undefined;
  not?: Predicate | undefined;
}

export const PredicateSchema: z.ZodType<Predicate> = z.lazy(() =>
  z
    .strictObject({
      status: StatusList.optional(),
      path: JsonPath.optional(),
      equals: Scalar.optional(),
      notEquals: Scalar.optional(),
      in: z.array(Scalar).optional(),
      exists: z.boolean().optional(),
      empty: z.boolean().optional(),
      matches: z.string().optional(),
      expr: Template.optional(),
      all: z.array(PredicateSchema).optional(),
      any: z.array(PredicateSchema).optional(),
      not: PredicateSchema.optional(),
    })
    .refine((p) => Object.keys(p).length > 0, "an empty predicate (give at least one condition)"),
);

/** A JSONPath over the parsed body (a string starting with `$`), or a template over the response. */
export const ExtractorSchema = z.union([
  JsonPath,
  z
    .strictObject({
      path: JsonPath.optional(),
      template: Template.optional(),
      /** Absent is not an error: the value is left undefined. */
      optional: z.boolean().optional(),
    })
    .refine(
      (e) => (e.path === undefined) !== (e.template === undefined),
      "give exactly one of path or template",
    ),
]);
export type Extractor = z.infer<typeof ExtractorSchema>;

export const ErrorRuleSchema = z.strictObject({
  when: PredicateSchema,
  code: z.enum(ERROR_CODES),
  /** Where the vendor's message is (for VnfError.vendorMessage). */
  message: ExtractorSchema.optional(),
});
export type ErrorRule = z.infer<typeof ErrorRuleSchema>;

/**
 * A request path starts with "/": the URL is the device's endpoint followed by it, so anything else
 * could change the host ("@attacker.example/x", ".attacker.example/x") and send the credentials there.
 */
const RequestPath = Template.regex(
  /^\//,
  'a path starting with "/" (it is appended to the device\'s endpoint)',
);

const requestFields = {
  method: z.enum(HTTP_METHODS),
  /** Appended to connection.basePath. Each `{{ }}` output is percent-encoded (one path segment). */
  path: RequestPath,
  /** Each value is rendered then percent-encoded as a whole; objects/arrays are JSON-encoded. */
  query: z.record(z.string(), z.unknown()).optional(),
  headers: z.record(z.string(), Template).optional(),
  bodyFormat: z.enum(BODY_FORMATS).optional(),
  /** A structure whose leaf strings are templates (see structure.ts), or a string template. */
  body: z.unknown().optional(),
  responseFormat: z.enum(RESPONSE_FORMATS).optional(),
  /** When the response counts as a success. Default: status 2xx. */
  success: PredicateSchema.optional(),
  /** When the response means "the addressed object does not exist". */
  notFound: PredicateSchema.optional(),
  /** Checked before the dictionary-wide errors and the built-in status table. */
  errors: z.array(ErrorRuleSchema).optional(),
  /** Named values taken from the response, visible to later steps as `steps.<name>.<key>`. */
  extract: z.record(Identifier, ExtractorSchema).optional(),
  timeoutMs: z.number().int().positive().optional(),
};

export const JobSchema = z.strictObject({
  /** The job id in the response that started it; when absent there is no job to wait for. */
  id: ExtractorSchema,
  /** The poll request; templates see `job.id`. */
  poll: z.strictObject(requestFields),
  done: PredicateSchema,
  failed: PredicateSchema.optional(),
  /** The code a failed job maps to. */
  failureCode: z.enum(ERROR_CODES).default("VNF_INVALID"),
  message: ExtractorSchema.optional(),
  intervalMs: z.number().int().positive().default(1000),
  timeoutMs: z.number().int().positive().default(300_000),
});
export type JobSpec = z.infer<typeof JobSchema>;

export const ItemsSchema = z.strictObject({
  /** JSONPath selecting every item (all matches). */
  path: JsonPath,
  /** The vendorRef of one item: a JSONPath relative to the item, or a template over `item`. */
  vendorRef: ExtractorSchema,
});

export const StepSchema = z.strictObject({
  ...requestFields,
  name: Identifier.optional(),
  /** The step runs only when this template renders truthy. */
  when: Template.optional(),
  job: JobSchema.optional(),
  /** On a list operation: the items this step's response contributes. */
  items: ItemsSchema.optional(),
  /**
   * When the response says the object is no longer where an earlier step found it (an index another
   * client's write shifted between the lookup and this write): the operation starts over from its
   * first step, at most MOVED_RESTARTS times. Checked before notFound and success.
   */
  moved: PredicateSchema.optional(),
});
export type StepSpec = z.infer<typeof StepSchema>;

/** An operation: one request written inline, or `steps`. */
const operationFields = {
  ...requestFields,
  method: z.enum(HTTP_METHODS).optional(),
  path: RequestPath.optional(),
  steps: z.array(StepSchema).min(1).optional(),
  job: JobSchema.optional(),
};

const OperationBase = z.strictObject(operationFields);

function inlineOrSteps(
  op: { steps?: unknown; method?: unknown; path?: unknown },
  ctx: z.RefinementCtx,
): void {
  const inline = op.method !== undefined || op.path !== undefined;
  if (op.steps !== undefined && inline) {
    ctx.addIssue({
      code: "custom",
      message: "give either `steps` or an inline request (`method`, `path`), not both",
    });
  } else if (op.steps === undefined && (op.method === undefined || op.path === undefined)) {
    ctx.addIssue({
      code: "custom",
      message: "give `steps`, or an inline request with both `method` and `path`",
    });
  }
}
export const CreateOperationSchema = OperationBase.extend({
  /** A client-chosen vendorRef, rendered before the request and visible as `vendorRef`. */
  assignVendorRef: Template.optional(),
  /** Where the vendorRef is in the (last) response; defaults to the assigned one. */
  vendorRef: ExtractorSchema.optional(),
})
  .superRefine(inlineOrSteps)
  .refine(
    (op) => op.vendorRef !== undefined || op.assignVendorRef !== undefined,
    "create needs `vendorRef` (where the response carries it) or `assignVendorRef`",
  );
export const GetOperationSchema = OperationBase.extend({
  /** JSONPath selecting the object in the response (default `$`); no match means absent. */
  object: JsonPath.optional(),
}).superRefine(inlineOrSteps);
export const ListOperationSchema = OperationBase.extend({
  /** Shorthand for a single request: its items. Steps may instead declare `items` themselves. */
  items: ItemsSchema.optional(),
}).superRefine(inlineOrSteps);
export const WriteOperationSchema = OperationBase.superRefine(inlineOrSteps);
export const UpdateOperationSchema = OperationBase.extend({
  /**
   * Where the object is after the update, when an update can move it to a new vendorRef (VyOS: a rule
   * renumbered to its new place); default: where it was.
   */
  vendorRef: ExtractorSchema.optional(),
  /**
   * The object's vendorRef once the update is done, when the update changes it: a vendorRef made of
   * the ownership marker changes when an update rewrites the marker (an old-form marker adopted).
   * Rendered with the update's inputs (`vendorRef` is still the one the update addressed).
   */
  vendorRefAfter: Template.optional(),
}).superRefine(inlineOrSteps);

export const OperationsSchema = z.strictObject({
  create: CreateOperationSchema,
  get: GetOperationSchema,
  list: ListOperationSchema,
  update: UpdateOperationSchema,
  delete: WriteOperationSchema,
  /**
   * Ordering: puts one object at its place; templates see `vendorRef` and `position` {where:
   * before|after, pivot (a vendorRef), number (numbered ordering: the object's new number)}.
   */
  move: WriteOperationSchema.optional(),
  /**
   * Withdraws the object's uncommitted change from a batch (failure isolation): the object becomes
   * what the last activation left (deleted when it did not exist then). Templates see `vendorRef`.
   */
  revert: WriteOperationSchema.optional(),
  /** A server-side search for the marker, to avoid a full list; results are still checked locally. */
  findByMarker: ListOperationSchema.optional(),
});
export type OperationsSpec = z.infer<typeof OperationsSchema>;
export type OperationName = Exclude<keyof OperationsSpec, never>;
export const OPERATION_NAMES = [
  "create",
  "get",
  "list",
  "update",
  "delete",
  "move",
  "revert",
  "findByMarker",
] as const;

/** How the appliance orders the rules of a kind (docs/dictionary-format.md, "Ordering"). */
export const OrderingSchema = z
  .strictObject({
    /**
     * Which rules are ordered together (an interface, a rule set): a template over `rule`, the
     * canonical fields of a spec or of a normalised object. Default: all of them ("").
     */
    scope: Template.default(""),
    /** Appliances that order by a number: the number of a listed object (`item`, `vendorRef`). */
    number: Template.optional(),
    /** With `number`: the numbers the operator may give, and the spacing of new ones. */
    numbers: z
      .strictObject({
        min: z.number().int().nonnegative(),
        max: z.number().int().positive(),
        step: z.number().int().positive().default(10),
      })
      .refine((r) => r.min <= r.max, "min must not exceed max")
      .optional(),
  })
  .refine((o) => (o.number === undefined) === (o.numbers === undefined), {
    message: "`number` and `numbers` go together",
  });

export const ResourceSchema = z.strictObject({
  ownership: z.strictObject({
    /**
     * A template over `item` (a vendor object) giving the field that carries the marker token at its
     * end (create and update write it as "{{ rule.description }} {{ marker }}").
     */
    field: Template,
    /**
     * The most that field holds on the appliance. The description, a space and the marker must fit:
     * a longer description is refused before any call, with a status saying how long it may be.
     */
    maxLength: z.number().int().positive().optional(),
    /** How the appliance counts maxLength: characters (Unicode code points) or UTF-8 bytes. */
    unit: z.enum(["characters", "bytes"]).default("characters"),
  }),
  /**
   * Rules of this kind are evaluated in order (first match): the operator keeps them in the order
   * of their priority, with `operations.move` (or, for numbers that are the rule's identity, updates
   * with a new `ruleNumber`).
   */
  ordering: OrderingSchema.optional(),
  /** Vendor object → canonical rule fields: a structure of templates over `item`. */
  normalize: z.record(z.string(), z.unknown()),
  /**
   * The reverse mapping for `vnf-operator import` (reverse.ts): `normalize` plus the name hint, the
   * vendor constructs no rule expresses (each with a reason), and spec fields normalize lacks.
   */
  import: z
    .strictObject({
      name: Template.optional(),
      unsupported: z.array(z.strictObject({ when: Template, reason: Template })).optional(),
      spec: z.record(z.string(), z.unknown()).optional(),
    })
    .optional(),
  operations: OperationsSchema,
});
export type ResourceSpec = z.infer<typeof ResourceSchema>;

const AuthInjectSchema = z.strictObject({
  headers: z.record(z.string(), Template).optional(),
  query: z.record(z.string(), Template).optional(),
  form: z.record(z.string(), Template).optional(),
});

export const AuthSchema = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("none") }),
  z.strictObject({
    type: z.literal("basic"),
    username: Template.default("{{ credentials.username }}"),
    password: Template.default("{{ credentials.password }}"),
  }),
  z.strictObject({
    type: z.literal("bearer"),
    token: Template.default("{{ credentials.token }}"),
    header: z.string().default("Authorization"),
    scheme: z.string().default("Bearer"),
  }),
  z.strictObject({
    type: z.literal("apiKeyHeader"),
    header: z.string().min(1),
    value: Template.default("{{ credentials.key }}"),
  }),
  z.strictObject({
    type: z.literal("apiKeyQuery"),
    param: z.string().min(1),
    value: Template.default("{{ credentials.key }}"),
  }),
  z.strictObject({
    type: z.literal("apiKeyForm"),
    field: z.string().min(1),
    value: Template.default("{{ credentials.key }}"),
  }),
  z.strictObject({
    type: z.literal("session"),
    /** The login request; templates see `credentials` and `device`. Logged fully redacted. */
    login: z.strictObject(requestFields),
    /** Where the token is in the login response. */
    token: ExtractorSchema,
    /** Seconds until expiry, from the login response (optional). */
    expiresIn: ExtractorSchema.optional(),
    /** Token lifetime when the response does not say; renewed early by 10%. */
    ttlSeconds: z.number().int().positive().default(3600),
    /** How the token is sent: templates see `session.token`. */
    use: AuthInjectSchema,
    /** Statuses meaning "token expired": renew once and replay. */
    renewOn: z.array(z.number().int().min(100).max(599)).min(1).default([401]),
  }),
]);
export type AuthSpec = z.infer<typeof AuthSchema>;

export const ParameterSchema = z.strictObject({
  description: z.string().optional(),
  default: z.string().optional(),
  required: z.boolean().default(false),
  pattern: z.string().optional(),
});

export const ConnectionSchema = z.strictObject({
  basePath: z
    .string()
    .regex(/^(\/[^?#]*)?$/, 'a path starting with "/" (or empty)')
    .default(""),
  headers: z.record(z.string(), Template).default({}),
  responseFormat: z.enum(RESPONSE_FORMATS).default("json"),
  /** XML element names that always parse as lists, even when they occur once (PAN-OS entry, member). */
  xmlLists: z.array(z.string().regex(/^[A-Za-z_][\w.-]*$/, "an XML element name")).default([]),
  timeouts: z
    .strictObject({
      connectMs: z.number().int().positive().default(5_000),
      headersMs: z.number().int().positive().default(30_000),
      bodyMs: z.number().int().positive().default(30_000),
    })
    .prefault({}),
  /** How many operations the appliance tolerates at once (pfSense loses parallel writes: 1). */
  maxConcurrentRequests: z.number().int().positive().default(4),
  requestsPerSecond: z.number().positive().optional(),
});

export const ActivationSchema = z
  .strictObject({
    /**
     * Safe apply: steps run BEFORE the first write of each batch (OPNsense `savepoint`). Their named
     * steps' extracts are `steps.<name>.<key>` in `steps`, `confirm` and `rollback`.
     */
    prepare: z.array(StepSchema).min(1).optional(),
    steps: z.array(StepSchema).min(1),
    /**
     * Safe apply: after `steps`, the device's health check runs; when it passes, `confirm` keeps the
     * batch (OPNsense `cancelRollback`), when it fails, `rollback` returns to the state `prepare` saved
     * (OPNsense `revert`) and the batch's rules fail saying so.
     */
    confirm: z.array(StepSchema).min(1).optional(),
    rollback: z.array(StepSchema).min(1).optional(),
    /**
     * A failed activation's message names the objects at fault by their vendorRef (PAN-OS commit
     * details): the engine withdraws those (operation `revert`) and activates the rest again. Without
     * it, a batch that fails for a reason the appliance does not attribute is bisected (bounded).
     */
    namesCulprits: z.boolean().default(false),
  })
  .refine((a) => (a.confirm === undefined) === (a.rollback === undefined), {
    message: "`confirm` and `rollback` go together",
  });

export const HealthSchema = OperationBase.superRefine(inlineOrSteps);

export const DictionarySchema = z.strictObject({
  apiVersion: z.literal(DICTIONARY_API_VERSION),
  /** Defaults to the file name without extension. */
  name: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]*$/, "lowercase letters, digits, dots and dashes")
    .optional(),
  vendor: z.string().regex(/^[a-z][a-z0-9-]*$/, "a lowercase vendor id such as pfsense"),
  /** A semver range such as ">=2.7.0 <2.9.0", "^7.0.0", "7.x" (checked by the loader). */
  firmware: z.string().min(1),
  displayName: z.string().min(1),
  description: z.string().optional(),
  /** Device parameters the templates use as `device.parameters.<name>` (e.g. vdom, vsys). */
  parameters: z.record(Identifier, ParameterSchema).default({}),
  connection: ConnectionSchema.prefault({}),
  auth: AuthSchema,
  /** Canonical value → vendor value, for `mapValue('<name>')`; reversed by `unmapValue`. */
  valueMaps: z.record(Identifier, z.record(z.string(), Scalar)).default({}),
  /** Explicit reverse maps (vendor value → canonical) for maps that are not one-to-one. */
  reverseValueMaps: z.record(Identifier, z.record(z.string(), Scalar)).default({}),
  errors: z.array(ErrorRuleSchema).default([]),
  /**
   * For vendors whose rules are addressed by a number the client chooses (VyOS): the operator then
   * allocates one per rule in this range and templates see it as `ruleNumber`.
   */
  ruleNumbers: z
    .strictObject({ min: z.number().int().nonnegative(), max: z.number().int().positive() })
    .refine((r) => r.min <= r.max, "min must not exceed max")
    .optional(),
  health: HealthSchema,
  /** Run after writes (coalesced per device); absent = writes are live. */
  activation: ActivationSchema.optional(),
  resources: z
    .strictObject({
      firewallRule: ResourceSchema.optional(),
      natRule: ResourceSchema.optional(),
    })
    .refine((r) => r.firewallRule !== undefined || r.natRule !== undefined, "declare at least one resource"),
});

export type DictionarySpec = z.infer<typeof DictionarySchema>;
