// The runtime's public surface, for the reconcilers and the CLI.
export { Backoff, type BackoffOptions } from "./backoff.ts";
export { stripManagedFields } from "./cache-transforms.ts";
export { type Clock, sleep, systemClock, type TimerHandle } from "./clock.ts";
export {
  Controller,
  type ControllerOptions,
  isPanic,
  isTerminalError,
  type MapFunc,
  type ReconcileContext,
  type ReconcileResult,
  type Reconciler,
  TerminalError,
  type WatchOptions,
} from "./controller.ts";
export { type Correlation, EventCorrelator, scrubSecrets } from "./event-correlator.ts";
export { EventRecorder, type EventRecorderOptions, type EventSink, type EventType } from "./events.ts";
export { FakeClock, flushMicrotasks } from "./fake-clock.ts";
export {
  type EventHandler,
  Informer,
  type InformerOptions,
  type InformerStats,
  type ObjectCache,
} from "./informer.ts";
export {
  addFinalizer,
  addFinalizerPatch,
  hasFinalizer,
  JSON_PATCH,
  type JsonPatchOp,
  MERGE_PATCH,
  type ObjectReference,
  removeFinalizer,
  removeFinalizerPatch,
} from "./kube.ts";
export {
  isConflict,
  isGone,
  isNotFound,
  KubeApiError,
  type KubeClient,
  KubeHttp,
  type KubeRequest,
  type KubeRequester,
} from "./kube-http.ts";
export { type LeaderCallbacks, type LeaderElectionOptions, LeaderElector } from "./leader-election.ts";
export {
  createLogger,
  type Logger,
  type LoggerOptions,
  REDACT_PATHS,
  resolveLogLevel,
  silentLogger,
} from "./logging.ts";
export {
  type InformerSelection,
  Manager,
  type ManagerExit,
  type ManagerOptions,
  type Runnable,
} from "./manager.ts";
export { RECONCILE_RESULTS, RuntimeMetrics } from "./metrics.ts";
export { type Check, evaluateChecks, ProbeServer, parseAddress } from "./probes.ts";
export {
  defaultControllerRateLimiter,
  ItemExponentialRateLimiter,
  MaxOfRateLimiter,
  type RateLimiter,
  TokenBucketRateLimiter,
} from "./rate-limiter.ts";
export {
  apiVersionOf,
  CoreResources,
  collectionPath,
  formatKey,
  type KubeObject,
  keyOf,
  type ObjectKey,
  type ObjectMeta,
  objectPath,
  parseKey,
  type ResourceType,
} from "./resource.ts";
export { runUntilSignal, type SignalOptions, shutdownOnSignals } from "./shutdown.ts";
export {
  APPLY_PATCH,
  deepEqual,
  type StatusOwnership,
  StatusWriter,
  type StatusWriterOptions,
  type WriteOptions,
} from "./status-writer.ts";
export { Store, type StoreDelta } from "./store.ts";
export { type AddOptions, Priority, WorkQueue, type WorkQueueOptions } from "./workqueue.ts";
