// The dictionary engine's public surface.
export type { CompiledDictionary, OperationName } from "./compiled.ts";
export { ERROR_CODE_TABLE, ERROR_CODES, type ErrorCode, isRetryable, VnfError } from "./errors.ts";
export {
  DictionaryLoadError,
  type DictionaryProblem,
  formatProblem,
  loadDictionaryFile,
  loadDictionaryText,
} from "./loader.ts";
export { type ApplianceObject, diffCanonical } from "./normalize.ts";
export { opHash } from "./op-hash.ts";
export {
  DictionaryRegistry,
  DictionaryResolutionError,
  type LoadDirectoriesResult,
  loadDictionaryDirectories,
  type ResolveRequest,
} from "./registry.ts";
export { formatRequest, type RenderedRequest, redactRequest, requestUrl } from "./render.ts";
export { canonicalRule, markerToken, type ResourceKind, type RuleSpec } from "./rule-input.ts";
