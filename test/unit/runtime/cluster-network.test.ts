// Discovery of the cluster's own addresses for the endpoint policy, against a fake API (no network).
import { KubeConfig } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { discoverClusterNetwork } from "../../../src/runtime/cluster-network.ts";
import { KubeApiError, type KubeRequest } from "../../../src/runtime/kube-http.ts";

function kubeConfig(server: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: "c", server }],
    users: [{ name: "u" }],
    contexts: [{ name: "x", cluster: "c", user: "u" }],
    currentContext: "x",
  });
  return kc;
}

const SSAR = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews";

/** Answers by path; `allowed` are the resources the fake RBAC grants (default: all). */
function fakeApi(answers: Record<string, unknown>, allowed = ["endpointslices", "servicecidrs"]) {
  const paths: string[] = [];
  return {
    paths,
    http: {
      request: async <T>(req: KubeRequest): Promise<T> => {
        paths.push(req.path);
        if (req.path === SSAR) {
          const resource = (req.body as { spec: { resourceAttributes: { resource: string } } }).spec
            .resourceAttributes.resource;
          return { status: { allowed: allowed.includes(resource) } } as T;
        }
        const answer = answers[req.path];
        if (answer instanceof Error) throw answer;
        if (answer === undefined) throw new KubeApiError(404, "NotFound", "not found");
        return answer as T;
      },
    },
  };
}

const lookup = ((host: string, _o: unknown, cb: (...a: unknown[]) => void) =>
  host === "api.cluster.example"
    ? cb(null, [
        { address: "192.0.2.7", family: 4 },
        { address: "2001:db8::7", family: 6 },
      ])
    : cb(Object.assign(new Error("ENOTFOUND"), { code: "ENOTFOUND" }))) as never;

const SLICE = "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/kubernetes";
const CIDRS = "/apis/networking.k8s.io/v1/servicecidrs";

describe("discoverClusterNetwork", () => {
  it("collects the server's addresses, KUBERNETES_SERVICE_HOST, the EndpointSlice and the ServiceCIDRs", async () => {
    const api = fakeApi({
      [SLICE]: { endpoints: [{ addresses: ["172.18.0.2"] }] },
      [CIDRS]: { items: [{ spec: { cidrs: ["10.96.0.0/12", "fd00:10:96::/112"] } }] },
    });
    const network = await discoverClusterNetwork(api.http, kubeConfig("https://api.cluster.example:6443"), {
      lookup,
      env: { KUBERNETES_SERVICE_HOST: "10.96.0.1" },
    });
    expect(network.apiServerAddresses.sort()).toEqual([
      "10.96.0.1",
      "172.18.0.2",
      "192.0.2.7",
      "2001:db8::7",
    ]);
    expect(network.serviceCidrs).toEqual(["10.96.0.0/12", "fd00:10:96::/112"]);
    expect(network.notes).toEqual([]);
  });

  it("uses the configured service range instead of asking, and an IP server as is", async () => {
    const api = fakeApi({});
    const network = await discoverClusterNetwork(api.http, kubeConfig("https://[2001:db8::1]:6443"), {
      serviceCidrs: ["10.0.0.0/24"],
      env: {},
    });
    expect(network.apiServerAddresses).toEqual(["2001:db8::1"]);
    expect(network.serviceCidrs).toEqual(["10.0.0.0/24"]);
    expect(api.paths).not.toContain(CIDRS);
    expect(network.notes).toEqual([]); // a missing EndpointSlice (404) is normal
  });

  it("asks before reading: a namespaced install (no such RBAC) makes no refused request", async () => {
    const api = fakeApi({}, []);
    const network = await discoverClusterNetwork(api.http, kubeConfig("https://192.0.2.1"), { env: {} });
    expect(api.paths.filter((p) => p !== SSAR)).toEqual([]);
    expect(network.apiServerAddresses).toEqual(["192.0.2.1"]);
    expect(network.notes.join("\n")).toMatch(/not allowed to list ServiceCIDRs: set --service-cidrs/);
    expect(network.notes.join("\n")).not.toMatch(/forbidden|403/i);
  });

  it("says what it could not read, and what to do", async () => {
    const api = fakeApi({
      [SLICE]: new KubeApiError(403, "Forbidden", "forbidden"),
      [CIDRS]: new KubeApiError(403, "Forbidden", "forbidden"),
    });
    const network = await discoverClusterNetwork(api.http, kubeConfig("https://nowhere.invalid"), {
      lookup,
      env: {},
    });
    expect(network.apiServerAddresses).toEqual([]);
    expect(network.notes.join("\n")).toMatch(/cannot resolve the API server host nowhere\.invalid/);
    expect(network.notes.join("\n")).toMatch(
      /cannot read the EndpointSlice default\/kubernetes \(HTTP 403\)/,
    );
    expect(network.notes.join("\n")).toMatch(/cannot list ServiceCIDRs \(HTTP 403\): set --service-cidrs/);
  });
});
