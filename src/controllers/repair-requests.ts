// How the drift controller asks the rule controller to repair a rule. The drift controller records
// what it found in the rule's status.drift (its own field) and leaves the request here; the rule
// controller converges the rule again (get, then update or recreate, with its usual intent/adoption
// safety) and clears the request once the outcome is recorded. One code path writes rules to
// appliances.
//
// In memory on purpose: the rule's journal fields belong to the rule controller alone (no second
// writer racing it for them), and a lost request costs nothing — a restarted or newly elected operator
// runs each device's drift check as soon as its session is ready, which finds the drift again.

export interface RepairRequest {
  /** The applied opHash the drift was found against: a spec change since makes the request moot. */
  opHash: string;
  /** The appliance object found for the rule when it moved (recreated by hand under another id). */
  vendorRef?: string;
}

export class RepairRequests {
  readonly #byUid = new Map<string, RepairRequest>();

  request(uid: string, request: RepairRequest): void {
    this.#byUid.set(uid, request);
  }

  /** The pending request for the rule with this uid and applied opHash, if any. */
  pending(uid: string, appliedOpHash: string | undefined): RepairRequest | undefined {
    const request = this.#byUid.get(uid);
    return request !== undefined && request.opHash === appliedOpHash ? request : undefined;
  }

  done(uid: string): void {
    this.#byUid.delete(uid);
  }

  get size(): number {
    return this.#byUid.size;
  }
}
