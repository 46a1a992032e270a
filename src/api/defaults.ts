// Defaults the CRD descriptions promise but the schema cannot apply itself (a schema default would
// also appear where the field is not allowed). Keep in line with the descriptions in crds/.

/** activation.batchWindow when activation.mode is Batched and no window is given. */
export const DEFAULT_BATCH_WINDOW = "5s";
