// Field validation as pfSense-pkg-RESTAPI performs it (RESTAPI/Core/Field.inc and the Fields/ classes):
// fields are checked in declaration order; a field whose `conditions` are not met is silently set to null
// (so a destination_port sent with protocol icmp disappears); then required, editable, default, type,
// choices and emptiness, then the field's own validator. Error ids and messages follow the package.
import { isIP } from "node:net";
import { PfError } from "./envelope.ts";

export type PfRecord = Record<string, unknown>;

export type FieldType = "string" | "boolean" | "integer";

export interface ValidationContext {
  /** Interface ids (`wan`, `lan`, `opt1`...). */
  interfaces: readonly string[];
  /** Names of the host/network aliases that exist. */
  aliases: readonly string[];
  /** Names of the port aliases that exist. */
  portAliases?: readonly string[];
  /** The object as validated so far (earlier fields final, later ones as received). */
  object: PfRecord;
}

export interface FieldSpec {
  name: string;
  type: FieldType;
  many?: boolean;
  required?: boolean;
  /** Present (even as null) means the field has a default. */
  default?: unknown;
  allowNull?: boolean;
  allowEmpty?: boolean;
  choices?: readonly string[] | ((context: ValidationContext) => readonly string[]);
  /** StringField maximum_length (bytes, as strlen() counts); default 1024. */
  maxLength?: number;
  /**
   * Set by the model (tracker, timestamps): never taken from a request. Read-only fields that are also
   * not `editable` are still compared on update, as Field::is_value_editable does for every field the
   * request names: a different value is refused (FIELD_VALUE_CHANGED_WHEN_NOT_EDITABLE), so a client can
   * say which object it means (a PATCH carrying a filter rule's tracker fails on another rule).
   */
  readOnly?: boolean;
  /** `false`: may be set on create, never changed afterwards. */
  editable?: boolean;
  /** Field -> required value (or list of accepted values) for this field to apply at all. */
  conditions?: Record<string, unknown>;
  validate?: (value: unknown, context: ValidationContext) => void;
}

function invalid(responseId: string, message: string): PfError {
  return new PfError(400, responseId, message);
}

function phpType(type: FieldType): string {
  return type;
}

function typeMatches(type: FieldType, value: unknown): boolean {
  switch (type) {
    case "string":
      return typeof value === "string";
    case "boolean":
      return typeof value === "boolean";
    case "integer":
      return typeof value === "number" && Number.isInteger(value);
  }
}

function conditionsMet(field: FieldSpec, object: PfRecord): boolean {
  for (const [other, expected] of Object.entries(field.conditions ?? {})) {
    const actual = object[other];
    if (Array.isArray(expected) ? !expected.includes(actual) : actual !== expected) return false;
  }
  return true;
}

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

/**
 * Validates `input` (fields received) over `initial` (the stored object on update) and returns the
 * complete stored form, every field present. Unknown fields are ignored, as the package ignores them.
 */
export function validateFields(
  fields: readonly FieldSpec[],
  input: PfRecord,
  initial: PfRecord | undefined,
  interfaces: readonly string[],
  aliases: readonly string[] = [],
  portAliases: readonly string[] = [],
): PfRecord {
  const working: PfRecord = { ...(initial ?? {}) };
  for (const field of fields) {
    if (!field.readOnly && Object.hasOwn(input, field.name)) working[field.name] = input[field.name];
  }
  const context: ValidationContext = { interfaces, aliases, portAliases, object: working };
  for (const field of fields) {
    if (field.readOnly) {
      if (initial !== undefined && Object.hasOwn(input, field.name))
        checkEditable(field, input[field.name], initial);
      continue;
    }
    working[field.name] = validateField(field, working[field.name], initial, context);
  }
  return working;
}

function checkEditable(field: FieldSpec, value: unknown, initial: PfRecord): void {
  const name = field.name;
  if (field.editable === false && !sameValue(value, initial[name])) {
    throw invalid(
      "FIELD_VALUE_CHANGED_WHEN_NOT_EDITABLE",
      `Field \`${name}\` is not editable but the requested value \`${String(value)}\` differs from its current value \`${String(initial[name])}\`.`,
    );
  }
}

function validateField(
  field: FieldSpec,
  raw: unknown,
  initial: PfRecord | undefined,
  context: ValidationContext,
) {
  const name = field.name;
  if (!conditionsMet(field, context.object)) return null;
  let value: unknown = raw === undefined ? null : raw;
  if (field.required && value === null) throw invalid("FIELD_IS_REQUIRED", `Field \`${name}\` is required.`);
  if (initial !== undefined) checkEditable(field, value, initial);
  if (value === null && Object.hasOwn(field, "default")) value = structuredClone(field.default);
  if (field.many && value !== null && !Array.isArray(value)) {
    throw invalid("FIELD_INVALID_MANY_VALUE", `Field \`${name}\` must be of type \`array\`.`);
  }
  if ((value === "" || (Array.isArray(value) && value.length === 0)) && !field.allowEmpty) {
    throw invalid("FIELD_EMPTY_NOT_ALLOWED", `Field \`${name}\` cannot be empty.`);
  }
  if (value === null) return null;
  const values: unknown[] = field.many ? (value as unknown[]) : [value];
  for (const item of values) {
    if (!typeMatches(field.type, item)) {
      throw invalid("FIELD_INVALID_TYPE", `Field \`${name}\` must be of type \`${phpType(field.type)}\``);
    }
    const choices = typeof field.choices === "function" ? field.choices(context) : field.choices;
    if (choices !== undefined && !choices.includes(item as string)) {
      throw invalid("FIELD_INVALID_CHOICE", `Field \`${name}\` must be one of [${choices.join(", ")}]`);
    }
    if (item === "") {
      if (field.allowEmpty) continue;
      throw invalid("FIELD_EMPTY_NOT_ALLOWED", `Field \`${name}\` cannot be empty.`);
    }
    // StringField's LengthValidator (maximum_length, 1024 by default) counts with strlen(): bytes.
    if (
      field.type === "string" &&
      !field.many &&
      Buffer.byteLength(item as string) > (field.maxLength ?? 1024)
    ) {
      throw invalid(
        "LENGTH_VALIDATOR_MAXIMUM_CONSTRAINT",
        `Field \`${name}\` exceeds the maximum character length of ${field.maxLength ?? 1024}.`,
      );
    }
    field.validate?.(item, context);
  }
  return value;
}

/** Fills defaults without validating: how the control API stores an object "from the GUI". */
export function withDefaults(fields: readonly FieldSpec[], input: PfRecord): PfRecord {
  const out: PfRecord = {};
  for (const field of fields) {
    if (Object.hasOwn(input, field.name)) out[field.name] = input[field.name];
    else out[field.name] = Object.hasOwn(field, "default") ? structuredClone(field.default) : null;
  }
  // As read back from config.xml: a field whose conditions do not hold reads as null.
  for (const field of fields) if (!conditionsMet(field, out)) out[field.name] = null;
  return out;
}

// ---- Address and port fields (RESTAPI/Fields/FilterAddressField.inc, PortField.inc) ----

function isSubnet(value: string): boolean {
  const [address, prefix, extra] = value.split("/");
  if (extra !== undefined || address === undefined || prefix === undefined || !/^\d{1,3}$/.test(prefix))
    return false;
  const family = isIP(address);
  const bits = Number(prefix);
  return (family === 4 && bits <= 32) || (family === 6 && bits <= 128);
}

/** A firewall/NAT address: `any`, an IP, a CIDR, an existing alias, an interface (optionally `:ip`),
 * `(self)`, `l2tp`, `pppoe`, each optionally inverted with `!`. */
export function filterAddress(name: string): (value: unknown, context: ValidationContext) => void {
  return (raw, context) => {
    let value = String(raw);
    if (value.startsWith("!")) {
      value = value.slice(1);
      if (value === "any") {
        throw invalid(
          "FILTER_RULE_ADDRESS_FIELD_WITH_INVERT_ANY",
          `Field \`${name}\` cannot use invert prefix (!) with value \`any\`.`,
        );
      }
    }
    if (isIP(value) !== 0 || isSubnet(value) || context.aliases.includes(value)) return;
    if (["any", "(self)", "l2tp", "pppoe"].includes(value)) return;
    const iface = value.endsWith(":ip") ? value.slice(0, -3) : value;
    if (context.interfaces.includes(iface)) return;
    throw invalid(
      "FILTER_ADDRESS_FIELD_INVALID",
      `Field \`${name}\` value \`${value}\` is invalid. Valid options are: an existing interface, an IP address, a subnet CIDR, an existing alias, \`any\`, \`(self)\`, \`l2tp\`, \`pppoe\``,
    );
  };
}

function isPort(value: string): boolean {
  return /^\d{1,5}$/.test(value) && Number(value) >= 1 && Number(value) <= 65535;
}

/** A TCP/UDP port as a string: `443`, or a range `8000:8080` when allowed (`:` is the API's range
 * character, not `-`). */
export function port(
  name: string,
  allowRange: boolean,
): (value: unknown, context: ValidationContext) => void {
  return (raw, context) => {
    const value = String(raw);
    if (isPort(value) || (context.portAliases ?? []).includes(value)) return;
    if (allowRange) {
      const [low, high, extra] = value.split(":");
      if (extra === undefined && low !== undefined && high !== undefined && isPort(low) && isPort(high))
        return;
    }
    const options = `Valid options are: a TCP/UDP port number, ${allowRange ? "a TCP/UDP port range separated by `:`, " : ""}an existing port type firewall alias`;
    throw invalid(
      "PORT_FIELD_INVALID",
      `Field \`${name}\` contains invalid port value \`${value}\`. ${options}`,
    );
  };
}

export function ipAddress(name: string, family: 4 | 6 | "any"): (value: unknown) => void {
  return (raw) => {
    const detected = isIP(String(raw));
    if (detected !== 0 && (family === "any" || detected === family)) return;
    throw invalid(
      "IP_ADDRESS_VALIDATOR_FAILED",
      `Field \`${name}\` must be a valid IP address, received \`${String(raw)}\`.`,
    );
  };
}

/** ForeignModelField: a reference to a gateway, schedule, limiter or queue. None exist on the simulator. */
export function foreignReference(name: string, model: string): (value: unknown) => void {
  return (raw) => {
    throw new PfError(
      404,
      "FOREIGN_MODEL_FIELD_VALUE_NOT_FOUND",
      `Field \`${name}\` could not locate \`${model}\` object with \`name\` set to \`${String(raw)}\``,
    );
  };
}
