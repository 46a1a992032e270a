// A scripted KubeClient for informer and leader-election unit tests: requests are answered by a
// handler, watches are streams the test feeds line by line.
import { KubeApiError, type KubeClient, type KubeRequest } from "../../../src/runtime/kube-http.ts";

export class FakeWatchStream implements AsyncIterable<Buffer> {
  readonly request: KubeRequest;
  #chunks: Buffer[] = [];
  #ended = false;
  #error: Error | undefined;
  #wake: (() => void) | undefined;
  destroyed = false;

  constructor(request: KubeRequest) {
    this.request = request;
    request.signal?.addEventListener("abort", () => this.fail(new Error("aborted")), { once: true });
  }

  send(event: unknown): void {
    this.#chunks.push(Buffer.from(`${JSON.stringify(event)}\n`));
    this.#wake?.();
  }

  end(): void {
    this.#ended = true;
    this.#wake?.();
  }

  fail(error: Error): void {
    this.#error ??= error;
    this.#wake?.();
  }

  destroy(): void {
    this.destroyed = true;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Buffer> {
    for (;;) {
      const chunk = this.#chunks.shift();
      if (chunk) {
        yield chunk;
        continue;
      }
      if (this.#error) throw this.#error;
      if (this.#ended) return;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
      this.#wake = undefined;
    }
  }
}

type Answer = unknown | KubeApiError;

export class FakeKubeClient implements KubeClient {
  readonly requests: KubeRequest[] = [];
  readonly watches: FakeWatchStream[] = [];
  /** Answers non-watch requests; default 404. */
  onRequest: (req: KubeRequest) => Answer | Promise<Answer> = () =>
    new KubeApiError(404, "NotFound", "not found");
  /** Fails the next watch opening with this error, if set (then cleared). */
  watchOpenError: KubeApiError | undefined;

  async request<T = unknown>(req: KubeRequest): Promise<T> {
    this.requests.push(req);
    const answer = await this.onRequest(req);
    if (answer instanceof Error) throw answer;
    return structuredClone(answer) as T;
  }

  async stream(
    req: KubeRequest,
  ): Promise<{ body: AsyncIterable<Buffer> & { destroy(error?: Error): void } }> {
    this.requests.push(req);
    if (this.watchOpenError) {
      const error = this.watchOpenError;
      this.watchOpenError = undefined;
      throw error;
    }
    const stream = new FakeWatchStream(req);
    this.watches.push(stream);
    return { body: stream };
  }

  lastWatch(): FakeWatchStream {
    const watch = this.watches.at(-1);
    if (!watch) throw new Error("no watch opened");
    return watch;
  }
}

export function configMap(
  namespace: string,
  name: string,
  resourceVersion: string,
  data: Record<string, string> = {},
) {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { namespace, name, resourceVersion, managedFields: [{ manager: "kubectl" }] },
    data,
  };
}
