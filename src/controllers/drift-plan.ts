// One drift check of one device and one rule kind, as a pure function: compare what the appliance
// holds (one bulk list) with the managed rules that are in sync, find our objects whose resource is
// gone (orphans), and list the objects that are not ours. The drift controller performs the result.
//
// Whose an object is comes from its marker only (markers.ts): an orphan must carry a marker naming
// THIS installation and THIS device, with a check that verifies, and a rule part no known rule has.
// Everything else — no marker, another installation's or device's, an old-form marker, a disowned
// one, one typed by hand — is unmanaged: never deleted, never modified, counted and listed.
import type { Ownership } from "./markers.ts";
import type { ObservedObject } from "./ports.ts";

export interface ManagedRule {
  /** namespace/name, for the effects. */
  key: string;
  /** The markers its object may carry (its own, then the old form). */
  markers: readonly string[];
  vendorRef: string;
  /** Fields on which an appliance object differs from this rule (the session's comparison). */
  differences: (object: ObservedObject) => string[];
}

export interface DriftInput {
  /** Rules of this device that the appliance should hold as recorded (Ready, nothing pending). */
  rules: ManagedRule[];
  /** Whose an object is, for this installation and this device (markers.ts ownershipOf). */
  ownership: (marker: string | undefined) => Ownership;
  /**
   * Every rule the operator knows, on any device, by rule part and by uid: their objects are never
   * orphans (a rule applied meanwhile, a rule on its way).
   */
  knownRules: ReadonlySet<string>;
  objects: ObservedObject[];
}

export interface Drifted {
  key: string;
  /** "missing" when the object is gone from the appliance. */
  fields: string[];
  /** The appliance's object, when it still exists (it may carry another vendorRef after a recreate). */
  vendorRef?: string;
}

export interface DriftPlan {
  drifted: Drifted[];
  /** Objects carrying our marker (this installation, this device) whose resource no longer exists. */
  orphans: ObservedObject[];
  /** Objects that are not ours (never touched): how many. */
  unmanaged: number;
  /** Those objects, in the order the appliance listed them. */
  unmanagedObjects: ObservedObject[];
}

export function planDrift(input: DriftInput): DriftPlan {
  const byVendorRef = new Map(input.objects.map((o) => [o.vendorRef, o]));
  const byMarker = new Map<string, ObservedObject>();
  for (const object of input.objects) if (object.marker) byMarker.set(object.marker, object);

  const drifted: Drifted[] = [];
  for (const rule of input.rules) {
    // Identity first by vendorRef; the marker finds an object whose vendorRef moved (recreated by hand).
    const object =
      byVendorRef.get(rule.vendorRef) ??
      rule.markers.map((m) => byMarker.get(m)).find((o) => o !== undefined);
    if (!object) {
      drifted.push({ key: rule.key, fields: ["missing"] });
      continue;
    }
    const fields = rule.differences(object);
    if (fields.length > 0 || object.vendorRef !== rule.vendorRef) {
      drifted.push({
        key: rule.key,
        fields: fields.length > 0 ? fields : ["vendorRef"],
        vendorRef: object.vendorRef,
      });
    }
  }

  const orphans: ObservedObject[] = [];
  const unmanagedObjects: ObservedObject[] = [];
  for (const object of input.objects) {
    const whose = input.ownership(object.marker);
    if (whose.owner === "ours") {
      if (!input.knownRules.has(whose.rule)) orphans.push(object);
    } else if (whose.owner === "legacy") {
      // An old-form marker names a rule but no installation: its rule's, or nobody's we may touch.
      if (!input.knownRules.has(whose.uid)) unmanagedObjects.push(object);
    } else {
      unmanagedObjects.push(object);
    }
  }
  return { drifted, orphans, unmanaged: unmanagedObjects.length, unmanagedObjects };
}
