// The ownership marker a rule's appliance object carries (the dictionary writes it as `[vnf:<id>]` at
// the end of the object's description), what it says, and whose it is.
//
//   <installation>.<device>.<rule>.<check>        e.g. 3f9a1c0b.77e2d410.5c1e0f3a9b8d7e21.0e4b9a11
//
// - installation: 8 hex of SHA-256 of this operator installation's id (--installation-id);
// - device: 8 hex of SHA-256 of the VnfDevice's uid;
// - rule: 16 hex of SHA-256 of the rule's uid (64 bits: no two rules meet by chance);
// - check: 8 hex of an HMAC-SHA-256 keyed with the installation id over the three parts.
//
// 43 characters (49 with `[vnf:` and `]`): with the space before it, a 200-character description
// fits every built-in vendor's field (the tightest hold 255). Only an object whose marker names OUR
// installation and THIS device, with a check that verifies, is ours: only those can ever be orphans a
// drift check removes. The check is keyed with the installation id, which never appears on the
// appliance, so a marker typed or invented by hand does not verify (a verbatim copy of one of our
// markers is indistinguishable from ours: that is what a copy is).
//
// Older objects carry `[vnf:<rule uid>]`: a rule adopts an object carrying its own uid and rewrites
// the marker on its next write; an old-form marker is never taken for an orphan (it does not say whose
// installation wrote it). deletionPolicy Orphan rewrites the marker to `orphaned.<rule>`: still telling
// a human which rule it was, no longer ours (unmanaged, like any object an administrator made).
import { createHash, createHmac } from "node:crypto";

export interface MarkerOwner {
  /** This operator installation's id (never written to an appliance). */
  installationId: string;
  /** The VnfDevice's uid. */
  deviceUid: string;
}

/** A parsed marker id. */
export type MarkerFacts =
  | { form: "owned"; installation: string; device: string; rule: string; check: string }
  | { form: "legacy"; uid: string }
  | { form: "disowned"; rule: string }
  | { form: "other" };

const OWNED = /^([0-9a-f]{8})\.([0-9a-f]{8})\.([0-9a-f]{16})\.([0-9a-f]{8})$/;
const LEGACY = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const DISOWNED = /^orphaned\.([0-9a-f]{16}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

function sha256Hex(text: string, length: number): string {
  return createHash("sha256").update(text, "utf8").digest("hex").slice(0, length);
}

/** One installation and a few devices, asked on every reconcile: hashed once each. */
const parts = new Map<string, string>();
function memoized(text: string, length: number): string {
  let part = parts.get(text);
  if (part === undefined) {
    if (parts.size >= 10_000) parts.clear();
    part = sha256Hex(text, length);
    parts.set(text, part);
  }
  return part;
}

export function installationPart(installationId: string): string {
  return memoized(`installation:${installationId}`, 8);
}

export function devicePart(deviceUid: string): string {
  return memoized(`device:${deviceUid}`, 8);
}

/** The rule part of its markers: stable for the rule's life, the same on every device and install. */
export function rulePart(ruleUid: string): string {
  return sha256Hex(`rule:${ruleUid}`, 16);
}

function check(installationId: string, body: string): string {
  return createHmac("sha256", `vnf-marker:${installationId}`).update(body, "utf8").digest("hex").slice(0, 8);
}

/** The marker id this installation writes on this device for the rule with this uid. */
export function ruleMarker(owner: MarkerOwner, ruleUid: string): string {
  const body = `${installationPart(owner.installationId)}.${devicePart(owner.deviceUid)}.${rulePart(ruleUid)}`;
  return `${body}.${check(owner.installationId, body)}`;
}

/** The marker objects written before markers named their owner carry: the rule's uid. */
export function legacyMarker(ruleUid: string): string {
  return ruleUid;
}

/** The markers an object of this rule may carry: the current one first, then the old form. */
export function adoptableMarkers(owner: MarkerOwner, ruleUid: string): string[] {
  return [ruleMarker(owner, ruleUid), legacyMarker(ruleUid)];
}

/** deletionPolicy Orphan: the marker the object is left with (shorter than an owned one: same budget). */
export function disownedMarker(ruleUid: string): string {
  return `orphaned.${rulePart(ruleUid)}`;
}

/** A marker deletionPolicy Orphan left: the object is nobody's now. */
export function isDisowned(marker: string): boolean {
  return parseMarker(marker).form === "disowned";
}

export function parseMarker(marker: string | undefined): MarkerFacts {
  if (marker === undefined) return { form: "other" };
  const owned = OWNED.exec(marker);
  if (owned) {
    const [, installation = "", device = "", rule = "", sum = ""] = owned;
    return { form: "owned", installation, device, rule, check: sum };
  }
  if (LEGACY.test(marker)) return { form: "legacy", uid: marker };
  const disowned = DISOWNED.exec(marker);
  if (disowned) return { form: "disowned", rule: disowned[1] ?? "" };
  return { form: "other" };
}

/**
 * Whose an appliance object is, from its marker, as seen by this installation on this device:
 * - `ours`: our installation, this device, and the check verifies — `rule` says which rule;
 * - `legacy`: the old form, naming a rule uid but no installation (adoptable by that rule only);
 * - `unmanaged`: anything else — no marker, another installation's or another device's, a disowned
 *   one, one that fails its check (typed by hand). Never deleted, never modified; counted.
 */
export type Ownership =
  | { owner: "ours"; rule: string }
  | { owner: "legacy"; uid: string }
  | { owner: "unmanaged" };

export function ownershipOf(owner: MarkerOwner, marker: string | undefined): Ownership {
  const facts = parseMarker(marker);
  if (facts.form === "legacy") return { owner: "legacy", uid: facts.uid };
  if (facts.form !== "owned") return { owner: "unmanaged" };
  const body = `${facts.installation}.${facts.device}.${facts.rule}`;
  const ours =
    facts.installation === installationPart(owner.installationId) &&
    facts.device === devicePart(owner.deviceUid) &&
    facts.check === check(owner.installationId, body);
  return ours ? { owner: "ours", rule: facts.rule } : { owner: "unmanaged" };
}
