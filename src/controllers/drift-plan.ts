// One drift check of one device and one rule kind, as a pure function: compare what the appliance
// holds (one bulk list) with the managed rules that are in sync, find our objects whose resource is
// gone (orphans), and count the objects that are not ours. The drift controller performs the result.
import { isDisowned } from "./markers.ts";
import type { ObservedObject } from "./ports.ts";

export interface ManagedRule {
  /** namespace/name, for the effects. */
  key: string;
  /** The ownership marker id (the rule's uid). */
  marker: string;
  vendorRef: string;
  /** Fields on which an appliance object differs from this rule (the session's comparison). */
  differences: (object: ObservedObject) => string[];
}

export interface DriftInput {
  /** Rules of this device that the appliance should hold as recorded (Ready, nothing pending). */
  rules: ManagedRule[];
  /** Markers of every rule the operator knows, on any device: never treat those objects as orphans. */
  knownMarkers: ReadonlySet<string>;
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
  /** Objects carrying a marker of ours whose resource no longer exists. */
  orphans: ObservedObject[];
  /** Objects without our marker (or with a disowned one). */
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
    const object = byVendorRef.get(rule.vendorRef) ?? byMarker.get(rule.marker);
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

  // A disowned marker (deletionPolicy Orphan) makes the object unmanaged, never an orphan of ours.
  const ours = (o: ObservedObject) => o.marker !== undefined && !isDisowned(o.marker);
  const orphans = input.objects.filter((o) => ours(o) && !input.knownMarkers.has(o.marker ?? ""));
  const unmanagedObjects = input.objects.filter((o) => !ours(o));
  return { drifted, orphans, unmanaged: unmanagedObjects.length, unmanagedObjects };
}
