// Which VnfDevice a request is for. CloudStack names a VNF instance (in the broker URL's /vnf/{id}, a
// header, the body or the query); the device labelled with that instance id serves it. The device
// also supplies the interface for rules whose request names none.
import type { VnfDevice } from "../api/types.ts";
import type { Context, HandlerDeps } from "./context.ts";
import { HttpError } from "./errors.ts";
import { ANNOTATION_DEFAULT_INTERFACE, isValidInstanceId, LABEL_VNF_INSTANCE } from "./names.ts";
import { RequestValidationError } from "./wire.ts";

/** CloudStack's vendor names (VnfDeviceVO) for the built-in vendors; extend with --vendor-aliases. */
export const DEFAULT_VENDOR_ALIASES: Readonly<Record<string, string>> = {
  fortigate: "fortios",
  paloalto: "panos",
  paloaltonetworks: "panos",
};

/** "FortiGate" → "fortigate": how X-VNF-Vendor values and alias names are compared. */
export function vendorKey(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]/g, "");
}

function header(ctx: Context, name: string): string | undefined {
  const value = ctx.req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * The VNF instance id, from (in this order) the /vnf/{id} prefix, X-VNF-Instance-Id, the body's
 * vnfInstanceId, the query's; several must agree. Undefined only when `optional` and none is given.
 */
export function instanceIdOf(ctx: Context, body: Record<string, unknown> | undefined): string;
export function instanceIdOf(
  ctx: Context,
  body: Record<string, unknown> | undefined,
  optional: true,
): string | undefined;
export function instanceIdOf(
  ctx: Context,
  body: Record<string, unknown> | undefined,
  optional = false,
): string | undefined {
  const candidates: Array<[string, unknown]> = [
    ["path", ctx.pathInstance],
    ["header X-VNF-Instance-Id", header(ctx, "x-vnf-instance-id")],
    ["body vnfInstanceId", body?.vnfInstanceId],
    ["query vnfInstanceId", ctx.url.searchParams.get("vnfInstanceId") ?? undefined],
  ];
  const given = candidates
    .filter(([, v]) => v !== undefined && v !== null && v !== "")
    .map(([where, v]) => [where, String(v)] as const);
  const first = given[0];
  if (!first) {
    if (optional) return undefined;
    throw new RequestValidationError([
      {
        loc: ["body", "vnfInstanceId"],
        msg: "the VNF instance id is required: vnfInstanceId in the body or query, the X-VNF-Instance-Id header, or a broker URL ending in /vnf/<id>",
        type: "missing",
      },
    ]);
  }
  const other = given.find(([, v]) => v !== first[1]);
  if (other)
    throw new RequestValidationError([
      {
        loc: ["body", "vnfInstanceId"],
        msg: `${first[0]} and ${other[0]} name different VNF instances`,
        type: "value_error",
      },
    ]);
  if (!isValidInstanceId(first[1]))
    throw new RequestValidationError([
      {
        loc: ["body", "vnfInstanceId"],
        msg: "letters, digits, '-', '_' or '.', at most 63",
        type: "value_error",
      },
    ]);
  return first[1];
}

/** The one device labelled with the instance id; X-VNF-Vendor, when sent, must match its vendor. */
export async function deviceFor(deps: HandlerDeps, ctx: Context, instanceId: string): Promise<VnfDevice> {
  const devices = await deps.kube.devicesFor(instanceId);
  if (devices.length === 0)
    throw new HttpError(
      "not_found",
      `no VnfDevice labelled ${LABEL_VNF_INSTANCE}=${instanceId} in namespace(s) ${deps.namespaces.join(", ")}`,
      { extra: { vnfInstanceId: instanceId } },
    );
  if (devices.length > 1)
    throw new HttpError(
      "conflict",
      `${devices.length} VnfDevices are labelled ${LABEL_VNF_INSTANCE}=${instanceId}; label exactly one`,
    );
  const device = devices[0] as VnfDevice;
  const vendorHeader = header(ctx, "x-vnf-vendor");
  if (vendorHeader !== undefined && vendorHeader.trim() !== "") {
    const key = vendorKey(vendorHeader);
    const vendor = deps.vendorAliases[key] ?? key;
    if (vendor !== device.spec.vendor)
      throw new RequestValidationError([
        {
          loc: ["header", "X-VNF-Vendor"],
          msg: `VNF instance ${instanceId} is a ${device.spec.vendor} device, not ${vendorHeader}`,
          type: "value_error",
        },
      ]);
  }
  return device;
}

/** The interface for rules that name none: the device's annotation, else the shim's flag. */
export function defaultInterfaceOf(device: VnfDevice, fallback: string | undefined): string | undefined {
  const annotated = device.metadata.annotations?.[ANNOTATION_DEFAULT_INTERFACE]?.trim();
  return annotated || fallback || undefined;
}
