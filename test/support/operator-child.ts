// The operator in a child process, for tests that need a real crash (SIGKILL) or two replicas: the
// same createOperator as `vnf-operator run`. Config: JSON in argv[2] (ChildOperatorConfig). Logs go to
// stderr (level from VNF_TEST_LOG_LEVEL, silent by default); stdout carries one `@@{json}` line per
// event: started, leading, stopped. SIGTERM stops it gracefully (the lease is released).
// Imports only src/ and node modules: this runs outside vitest.
import { pino } from "pino";
import { loadKubeConfig } from "../../src/cli/common.ts";
import { createOperator } from "../../src/operator.ts";
import { createLogger } from "../../src/runtime/logging.ts";

export interface ChildOperatorConfig {
  kubeconfig: string;
  namespaces: string[];
  dictionaryDirectories: string[];
  healthIntervalMs?: number;
  maxRetryDelayMs?: number;
  /** Rules per kind reconciled at once (the operator's default when absent). */
  concurrency?: number;
  /** ":port" / "host:port" for the metrics endpoint (the benches scrape it); off by default. */
  metricsAddress?: string;
  identity?: string;
  /** Where to write every log level (the secrets scan reads it after the suite). */
  logFile?: string;
  /** Default ["127.0.0.1/32"]: the simulators' address, refused by the endpoint policy otherwise. */
  endpointAllowCidrs?: string[];
  installationId?: string;
  leaderElection?: {
    namespace: string;
    name: string;
    leaseDurationMs: number;
    renewDeadlineMs: number;
    retryPeriodMs: number;
  };
}

function emit(event: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(`@@${JSON.stringify({ event, at: Date.now(), ...fields })}\n`);
}

const config = JSON.parse(process.argv[2] ?? "{}") as ChildOperatorConfig;

/** Every level to config.logFile (synchronous: a SIGKILL must not lose lines), VNF_TEST_LOG_LEVEL to stderr. */
function childLogger() {
  const streams: pino.StreamEntry[] = [];
  if (config.logFile)
    streams.push({ level: "trace", stream: pino.destination({ dest: config.logFile, sync: true }) });
  const level = process.env.VNF_TEST_LOG_LEVEL;
  if (level && level !== "silent") streams.push({ level: level as pino.Level, stream: process.stderr });
  if (streams.length === 0) return createLogger({ level: "silent" });
  return createLogger({ level: "trace", destination: pino.multistream(streams) });
}
// As `vnf-operator run` loads it (not client-node's KubeConfig: the child's memory is measured).
const kubeConfig = loadKubeConfig(config.kubeconfig);
const operator = await createOperator({
  kubeConfig,
  namespaces: config.namespaces,
  dictionaryDirectories: config.dictionaryDirectories,
  logger: childLogger(),
  probeAddress: "0",
  metricsAddress: config.metricsAddress ?? "0",
  endpointPolicy: { allowCidrs: config.endpointAllowCidrs ?? ["127.0.0.1/32"] },
  ...(config.concurrency !== undefined ? { concurrency: config.concurrency } : {}),
  healthIntervalMs: config.healthIntervalMs ?? 60_000,
  maxRetryDelayMs: config.maxRetryDelayMs ?? 2_000,
  ...(config.identity ? { instance: config.identity } : {}),
  ...(config.installationId ? { installationId: config.installationId } : {}),
  ...(config.leaderElection
    ? {
        leaderElection: {
          ...config.leaderElection,
          ...(config.identity ? { identity: config.identity } : {}),
        },
      }
    : {}),
});
await operator.manager.start();
emit("started", { identity: operator.manager.identity });
void operator.manager.elected().then(() => emit("leading"));
process.once("SIGTERM", () => {
  void operator.stop().then(() => {
    emit("stopped");
    process.exit(0);
  });
});
