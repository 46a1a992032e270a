// Annotations the operator honours on its resources (set by people, scripts or the CloudStack shim).

/**
 * On a VnfDevice: ask for a drift check now. The value is any new string (the shim writes an RFC 3339
 * time); each value not yet honoured runs one check, and that check records status.lastDriftCheckTime
 * even when it found nothing, so the requester can tell it ran. A device without spec.driftDetection
 * gets a report-only check (mode Report, unmanaged Ignore): nobody asked for repairs there.
 */
export const ANNOTATION_DRIFT_CHECK_REQUESTED = "vnf-operator.io/drift-check-requested-at";
