// POST /reconcile/{networkId} (the service's reconcileNetwork): the drift state of the network's
// devices (labelled vnf-operator.io/cloudstack-network-id) from the rules' status. With
// {"force": true} it first asks the operator for a drift check of each device now (an annotation the
// drift controller honours) and waits, within the wait timeout, until each check has run.

import { z } from "zod";
import { ANNOTATION_DRIFT_CHECK_REQUESTED } from "../../api/annotations.ts";
import type { VnfDevice } from "../../api/types.ts";
import type { Context, HandlerDeps } from "../context.ts";
import type { Reply } from "../dialects.ts";
import { HttpError } from "../errors.ts";
import type { ShimRule } from "../kube.ts";
import { isValidInstanceId, LABEL_NETWORK_ID, type ShimRuleKind } from "../names.ts";
import { networkReport } from "../reconcile-report.ts";
import { waitForDriftChecks } from "../waiting.ts";
import { parseBody, RequestValidationError } from "../wire.ts";

const reconcileBodySchema = z.looseObject({ force: z.boolean().optional(), dryRun: z.boolean().optional() });

export async function reconcileNetwork(deps: HandlerDeps, ctx: Context, networkId: string): Promise<Reply> {
  if (!isValidInstanceId(networkId))
    throw new RequestValidationError([
      {
        loc: ["path", "networkId"],
        msg: "letters, digits, '-', '_' or '.', at most 63",
        type: "value_error",
      },
    ]);
  const raw = await ctx.body();
  const force = raw === undefined ? false : (parseBody(reconcileBodySchema, raw).force ?? false);
  let devices = await deps.kube.devicesOfNetwork(networkId);
  if (devices.length === 0)
    throw new HttpError(
      "not_found",
      `no VnfDevice labelled ${LABEL_NETWORK_ID}=${networkId} in namespace(s) ${deps.namespaces.join(", ")}`,
      { extra: { networkId } },
    );
  let forced: { checked: Set<string> } | undefined;
  if (force) {
    const requestedAt = new Date();
    for (const device of devices)
      await deps.kube.annotateDevice(
        device.metadata.namespace ?? "",
        device.metadata.name ?? "",
        ANNOTATION_DRIFT_CHECK_REQUESTED,
        requestedAt.toISOString(),
      );
    const result = await waitForDriftChecks(deps.kube, devices, requestedAt, deps.wait);
    devices = result.devices;
    forced = { checked: result.checked };
  }
  const body = networkReport({
    networkId,
    devices,
    rules: await rulesOf(deps, devices),
    ...(forced ? { forced } : {}),
  });
  // A check that has not finished in time is still under way: 202, and the body says which.
  return { status: body.checkCompleted === false ? 202 : 200, body };
}

async function rulesOf(
  deps: HandlerDeps,
  devices: readonly VnfDevice[],
): Promise<Array<{ kind: ShimRuleKind; rule: ShimRule }>> {
  const result: Array<{ kind: ShimRuleKind; rule: ShimRule }> = [];
  const namespaces = [...new Set(devices.map((d) => d.metadata.namespace ?? ""))];
  for (const kind of ["firewall", "nat"] as const) {
    for (const namespace of namespaces) {
      const names = new Set(
        devices.filter((d) => d.metadata.namespace === namespace).map((d) => d.metadata.name),
      );
      for (const rule of await deps.kube.rulesIn(kind, namespace))
        if (names.has(rule.spec.deviceRef.name)) result.push({ kind, rule });
    }
  }
  return result;
}
