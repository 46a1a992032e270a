// The bound: a direct client that issues exactly the appliance calls converging the rules needs —
// one create request per rule (rendered by the same dictionary, before the clock starts), then one
// DELETE per rule — over the same HTTP client and under the same per-device limits (concurrency
// semaphore + request spacing) as the operator's sessions. Nothing else: no API server, no status,
// no retries. The operator's convergence and delete-all times are reported as ratios to this.
//
// Delete is DELETE on the object's own URL (the dictionary's `get` path), which is what FortiOS —
// the vendor this bench drives — accepts; "not found" counts as done.
import { AuthManager } from "../../src/appliance/auth.ts";
import { HttpClient } from "../../src/appliance/http.ts";
import { RateLimiter, Semaphore } from "../../src/appliance/limits.ts";
import { ApplianceSession } from "../../src/appliance/session.ts";
import type { CompiledDictionary } from "../../src/dictionary/compiled.ts";
import { VnfError } from "../../src/dictionary/errors.ts";
import { resolveParameters } from "../../src/dictionary/executor.ts";
import { applyAuth, type RenderedRequest } from "../../src/dictionary/render.ts";

export interface BoundDevice {
  url: string;
  caPem: string;
  credentials: Record<string, string>;
  maxConcurrentRequests: number;
  requestsPerSecond: number;
}

export interface BoundRule {
  spec: unknown;
  marker: string;
}

export interface BoundResult {
  createSeconds: number;
  deleteSeconds: number;
  /** Appliance requests sent (creates + deletes). */
  calls: number;
}

class DirectClient {
  readonly #http: HttpClient;
  readonly #slots: Semaphore;
  readonly #rate: RateLimiter;
  readonly #auth: AuthManager;
  readonly #renderer: ApplianceSession;
  calls = 0;

  constructor(dictionary: CompiledDictionary, device: BoundDevice) {
    this.#http = new HttpClient({
      endpoint: device.url,
      tls: { caPem: device.caPem },
      connections: device.maxConcurrentRequests,
      // Generous: on a loaded machine a slow answer is the machine, not the bound.
      connectTimeoutMs: 30_000,
      headersTimeoutMs: 120_000,
      bodyTimeoutMs: 120_000,
    });
    this.#slots = new Semaphore(device.maxConcurrentRequests);
    this.#rate = new RateLimiter(device.requestsPerSecond);
    this.#auth = new AuthManager(dictionary, device.credentials, resolveParameters(dictionary, {}));
    // Only for offline rendering (it never connects).
    this.#renderer = new ApplianceSession({
      dictionary,
      endpoint: device.url,
      credentials: device.credentials,
    });
  }

  renderCreates(rule: BoundRule): RenderedRequest[] {
    return this.#renderer.render("firewallRule", "create", { rule: rule.spec, marker: rule.marker }).requests;
  }

  renderDelete(vendorRef: string): RenderedRequest {
    const [get] = this.#renderer.render("firewallRule", "get", { vendorRef }).requests;
    if (!get) throw new Error("the dictionary's get renders no request");
    return { ...get, method: "DELETE", label: "firewallRule.delete" };
  }

  /** Sends one operation's requests in order, holding one slot (as the session does). */
  async perform(requests: RenderedRequest[]): Promise<string> {
    return this.#slots.run(async () => {
      let last = "";
      for (const request of requests) {
        const { material } = await this.#auth.material((login) => this.#http.send(login));
        const response = await this.#send(applyAuth(request, material));
        if (response.status >= 300 && !(request.method === "DELETE" && response.status === 404)) {
          throw new Error(`${request.label}: HTTP ${response.status}: ${response.text.slice(0, 300)}`);
        }
        last = response.text;
      }
      return last;
    });
  }

  /** One request; a connection the appliance reset is tried again (the operator's session does too). */
  async #send(request: RenderedRequest): Promise<{ status: number; text: string }> {
    for (let attempt = 1; ; attempt++) {
      await this.#rate.take();
      this.calls++;
      try {
        return await this.#http.send(request);
      } catch (error) {
        if (attempt >= 4 || !(error instanceof VnfError && error.retryable)) throw error;
      }
    }
  }

  close(): Promise<void> {
    return this.#http.close();
  }
}

/** Creates every rule on its device, then deletes them all; times both. rules[i] goes to devices[i]. */
export async function runBound(
  dictionary: CompiledDictionary,
  devices: BoundDevice[],
  rulesByDevice: BoundRule[][],
): Promise<BoundResult> {
  const clients = devices.map((device) => new DirectClient(dictionary, device));
  try {
    const plans = rulesByDevice.map((rules, d) => rules.map((rule) => clients[d]!.renderCreates(rule)));
    const created = Date.now();
    const refs = await Promise.all(
      plans.map((plan, d) =>
        Promise.all(
          plan.map(async (requests) =>
            String((JSON.parse(await clients[d]!.perform(requests)) as { mkey: unknown }).mkey),
          ),
        ),
      ),
    );
    const createSeconds = (Date.now() - created) / 1000;
    const deletes = refs.map((list, d) => list.map((ref) => clients[d]!.renderDelete(ref)));
    const deleted = Date.now();
    await Promise.all(deletes.map((list, d) => Promise.all(list.map((r) => clients[d]!.perform([r])))));
    const deleteSeconds = (Date.now() - deleted) / 1000;
    return { createSeconds, deleteSeconds, calls: clients.reduce((n, c) => n + c.calls, 0) };
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }
}
