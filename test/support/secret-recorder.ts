// Records every Secret the API server holds during the test run (values included) to a file in the
// scan directory, so that the secrets scan after the suite also knows values that a test rotated away
// or deleted since. Runs in vitest's main process (global-setup.ts), not in a test worker.
import { appendFileSync } from "node:fs";
import { KubeConfig, type V1Secret, Watch } from "@kubernetes/client-node";

export const RECORD_FILE = "secrets.jsonl";

export interface SecretRecorder {
  stop(): void;
}

export function recordSecrets(kubeconfigPath: string, file: string): SecretRecorder {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  const watch = new Watch(kc);
  let stopped = false;
  let abort: AbortController | undefined;
  const record = (secret: V1Secret) => {
    if (!secret.data) return;
    const { namespace, name } = secret.metadata ?? {};
    appendFileSync(
      file,
      `${JSON.stringify({ metadata: { namespace, name }, type: secret.type, data: secret.data })}\n`,
    );
  };
  // No resourceVersion: every (re)start begins with the current Secrets as ADDED events.
  const start = () => {
    if (stopped) return;
    watch
      .watch(
        "/api/v1/secrets",
        {},
        (phase, secret: V1Secret) => {
          if (phase === "ADDED" || phase === "MODIFIED") record(secret);
        },
        () => {
          if (!stopped) setTimeout(start, 500).unref();
        },
      )
      .then((controller) => {
        abort = controller;
        if (stopped) controller.abort();
      })
      .catch(() => {
        if (!stopped) setTimeout(start, 500).unref();
      });
  };
  start();
  return {
    stop: () => {
      stopped = true;
      abort?.abort();
    },
  };
}
