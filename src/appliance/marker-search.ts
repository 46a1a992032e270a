// Finding the appliance object that carries a rule's ownership marker, for adoption: after a create
// whose answer was lost, on a conflict, or for a rule whose vendorRef was never recorded. It must
// never guess: two candidates are an error for a person to resolve.
import type { CompiledDictionary } from "../dictionary/compiled.ts";
import { VnfError } from "../dictionary/errors.ts";
import type { Executor } from "../dictionary/executor.ts";
import { type ApplianceObject, markerOf, normalizeItem } from "../dictionary/normalize.ts";
import { markerToken, type ResourceKind } from "../dictionary/rule-input.ts";
import type { DeviceChannel } from "./channel.ts";
import { checkMarkerId, resourceOf } from "./operation-input.ts";

export interface MarkerSearchDeps {
  executor: Executor;
  channel: DeviceChannel;
  dictionary: CompiledDictionary;
}

/**
 * The object carrying one of these owner markers (a rule's marker, and the older form it may still
 * carry). More than one is VNF_CONFLICT. A marker counts only where the dictionary writes it (the
 * end of the ownership field).
 */
export async function findByMarker(
  { executor, channel, dictionary }: MarkerSearchDeps,
  kind: ResourceKind,
  markers: string | readonly string[],
  signal?: AbortSignal,
): Promise<ApplianceObject | undefined> {
  const wanted = typeof markers === "string" ? [markers] : [...markers];
  for (const marker of wanted) checkMarkerId(marker);
  const resource = resourceOf(dictionary, kind);
  const search = resource.operations.findByMarker;
  const op = search ?? resource.operations.list;
  const label = `${kind}.${op.name}`;
  // A server-side search per marker, else one full list.
  const contexts = search
    ? wanted.map((marker) => executor.context(kind, { marker }))
    : [executor.context(kind)];
  // The same object found by two searches counts once; two objects sharing a vendorRef (one made
  // of the marker, copied by hand) count twice.
  const items = new Map<string, { vendorRef: string; raw: unknown }>();
  for (const ctx of contexts) {
    const result = await channel.perform(label, (transport) => executor.run(op, ctx, transport, label), {
      signal,
    });
    for (const item of result.items) items.set(JSON.stringify([item.vendorRef, item.raw]), item);
  }
  const base = executor.context(kind);
  // Server-side searches are hints (a "contains" also matches longer ids): check every candidate.
  const ours = [...items.values()].filter((item) =>
    wanted.includes(markerOf(resource, item.raw, base) ?? ""),
  );
  if (ours.length > 1) {
    throw new VnfError(
      "VNF_CONFLICT",
      `${kind}: ${ours.length} appliance objects carry the ownership marker ${wanted
        .map(markerToken)
        .join(" or ")} (${ours.map((item) => item.vendorRef).join(", ")}); resolve by hand`,
    );
  }
  const [found] = ours;
  return found ? normalizeItem(resource, found.vendorRef, found.raw, base) : undefined;
}
