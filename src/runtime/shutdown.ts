// Process-level shutdown: the first SIGTERM/SIGINT starts the manager's graceful stop (stop intake →
// drain in-flight reconciles → stop informers → release the lease → close servers); a second signal
// aborts at once, as kube-rs's shutdown_on_signal does.
import type { Logger } from "./logging.ts";
import type { Manager } from "./manager.ts";

export interface SignalOptions {
  signals?: readonly NodeJS.Signals[];
  /** How to end the process; default process.exit. Tests pass a spy. */
  exit?: (code: number) => void;
  log?: Logger;
  /** Where signals come from; default process. */
  source?: Pick<NodeJS.Process, "on" | "off">;
}

/** Installs the handlers; returns a function that removes them. */
export function shutdownOnSignals(manager: Manager, options: SignalOptions = {}): () => void {
  const signals = options.signals ?? ["SIGTERM", "SIGINT"];
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const source = options.source ?? process;
  let received = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    received++;
    if (received === 1) {
      options.log?.info({ signal }, "shutdown signal received; stopping gracefully (send again to abort)");
      void manager.stop(`received ${signal}`).then((result) => exit(result.exitCode));
      return;
    }
    options.log?.warn({ signal }, "second shutdown signal; aborting now");
    manager.abort();
    exit(1);
  };
  for (const signal of signals) source.on(signal, onSignal);
  return () => {
    for (const signal of signals) source.off(signal, onSignal);
  };
}

/**
 * Starts the manager, stops it on SIGTERM/SIGINT, and resolves with the exit code once it has stopped
 * for any reason (signal, lost leadership → 1, failed controller → 1). The CLI passes it to process.exit.
 */
export async function runUntilSignal(
  manager: Manager,
  options: Omit<SignalOptions, "exit"> = {},
): Promise<number> {
  let exitWith!: (code: number) => void;
  const signalled = new Promise<number>((resolve) => {
    exitWith = resolve;
  });
  const remove = shutdownOnSignals(manager, { ...options, exit: (code) => exitWith(code) });
  try {
    try {
      await manager.start();
    } catch (error) {
      await manager.stop("start failed");
      throw error;
    }
    return await Promise.race([manager.done.then((result) => result.exitCode), signalled]);
  } finally {
    remove();
  }
}
