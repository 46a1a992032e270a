// The ownership marker a rule's appliance object carries (the dictionary writes it as `[vnf:<id>]`),
// and its disowned form. A rule's marker is its uid: it finds the object again after a crash
// (adoption) and tells the drift check which objects are ours. deletionPolicy Orphan leaves the
// object on the appliance but rewrites its marker to `orphaned.<uid>`: still readable by a human (who
// owned it), no longer matched by adoption (an exact marker), and never taken by a drift check for
// an orphan of ours to remove — it counts as unmanaged, like any object an administrator made.

const DISOWNED_PREFIX = "orphaned.";

export function ownerMarker(rule: { metadata: { uid?: string; namespace?: string; name?: string } }): string {
  return rule.metadata.uid ?? `${rule.metadata.namespace}/${rule.metadata.name}`;
}

export function disownedMarker(marker: string): string {
  return `${DISOWNED_PREFIX}${marker}`;
}

/** True for a marker some rule released with deletionPolicy Orphan: not ours any more. */
export function isDisowned(marker: string): boolean {
  return marker.startsWith(DISOWNED_PREFIX);
}
