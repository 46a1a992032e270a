// PAN-OS XML API error codes (docs.paloaltonetworks.com "PAN-OS XML API Error Codes"). The body is
// `<response status="error" code="N"><msg><line>...</line></msg></response>`; the HTTP status is 200
// except for 400 (bad request) and 403 (authentication), which the appliance also sends as the status.

export const PAN_CODES = {
  badRequest: 400,
  forbidden: 403,
  unknownCommand: 1,
  internal: 2,
  badXpath: 6,
  objectNotPresent: 7,
  notUnique: 8,
  referenceCountNotZero: 10,
  invalidObject: 12,
  objectNotFound: 13,
  operationNotPossible: 14,
  invalidCommand: 17,
  malformed: 18,
} as const;

export class PanError extends Error {
  readonly code: number;
  readonly lines: string[];
  /** The `status` attribute: some "not present" answers are status="success" with code 7. */
  readonly status: "error" | "success";
  constructor(code: number, lines: string[] | string, status: "error" | "success" = "error") {
    const all = Array.isArray(lines) ? lines : [lines];
    super(`PAN-OS error ${code}: ${all.join(" ")}`);
    this.name = "PanError";
    this.code = code;
    this.lines = all;
    this.status = status;
  }

  get httpStatus(): number {
    return this.code === 400 || this.code === 403 ? this.code : 200;
  }
}
