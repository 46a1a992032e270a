// The cluster's own addresses, which no appliance endpoint should resolve to: the API server (the
// kubeconfig's server host, KUBERNETES_SERVICE_HOST, the `kubernetes` EndpointSlice) and the service
// range (given, or read from the ServiceCIDR objects of Kubernetes >= 1.33). Discovery is best effort:
// what cannot be read (RBAC, an older cluster) is reported as a note for the startup log.
import { lookup as dnsLookup } from "node:dns";
import { isIP, type LookupFunction } from "node:net";
import { KubeApiError, type KubeRequester } from "./kube-http.ts";
import type { KubeConfigSource } from "./kubeconfig.ts";

export interface ClusterNetwork {
  apiServerAddresses: string[];
  serviceCidrs: string[];
  /** What could not be discovered, and what to do about it. */
  notes: string[];
}

export interface DiscoverOptions {
  /** Service range(s) given by the operator's configuration (skips the ServiceCIDR lookup). */
  serviceCidrs?: readonly string[];
  lookup?: LookupFunction;
  env?: Record<string, string | undefined>;
}

function resolveAll(host: string, lookup: LookupFunction): Promise<string[]> {
  return new Promise((resolve, reject) => {
    lookup(host, { all: true }, ((error: Error | null, addresses: Array<{ address: string }>) => {
      if (error) reject(error);
      else resolve(addresses.map((a) => a.address));
    }) as never);
  });
}

function why(error: unknown): string {
  if (error instanceof KubeApiError) return `HTTP ${error.status}`;
  return error instanceof Error ? error.message : String(error);
}

interface Access {
  group: string;
  resource: string;
  verb: string;
  namespace?: string;
  name?: string;
}

/** A SelfSubjectAccessReview (every authenticated user may ask); errors count as "not allowed". */
async function allowed(http: KubeRequester, access: Access): Promise<boolean> {
  try {
    const review = await http.request<{ status?: { allowed?: boolean } }>({
      method: "POST",
      path: "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
      body: {
        apiVersion: "authorization.k8s.io/v1",
        kind: "SelfSubjectAccessReview",
        spec: { resourceAttributes: access },
      },
      timeoutMs: 10_000,
    });
    return review.status?.allowed === true;
  } catch {
    return false;
  }
}

/** The API server's endpoints (pod-network addresses); asked first, so that a namespaced install
 * (without that RBAC) does not fill its log with refusals. */
async function sliceAddresses(http: KubeRequester, notes: string[]): Promise<string[]> {
  const slice = {
    group: "discovery.k8s.io",
    resource: "endpointslices",
    namespace: "default",
    name: "kubernetes",
  };
  if (!(await allowed(http, { ...slice, verb: "get" }))) {
    notes.push(
      "not allowed to read the EndpointSlice default/kubernetes: the API server's pod-network addresses are refused only if listed in --endpoint-deny-cidrs",
    );
    return [];
  }
  try {
    const found = await http.request<{ endpoints?: Array<{ addresses?: string[] }> }>({
      method: "GET",
      path: "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/kubernetes",
      timeoutMs: 10_000,
    });
    return (found.endpoints ?? []).flatMap((endpoint) => endpoint.addresses ?? []);
  } catch (error) {
    // 404: a control plane without an endpoint reconciler; the server host is its address.
    if (!(error instanceof KubeApiError && error.status === 404))
      notes.push(`cannot read the EndpointSlice default/kubernetes (${why(error)})`);
    return [];
  }
}

export async function discoverClusterNetwork(
  http: KubeRequester,
  kubeConfig: KubeConfigSource,
  options: DiscoverOptions = {},
): Promise<ClusterNetwork> {
  const env = options.env ?? process.env;
  const lookup = options.lookup ?? (dnsLookup as unknown as LookupFunction);
  const api = new Set<string>();
  const notes: string[] = [];

  const server = kubeConfig.getCurrentCluster()?.server;
  if (server) {
    const host = new URL(server).hostname.replace(/^\[(.*)\]$/, "$1");
    if (isIP(host)) api.add(host);
    else {
      try {
        for (const address of await resolveAll(host, lookup)) api.add(address);
      } catch (error) {
        notes.push(`cannot resolve the API server host ${host}: ${why(error)}`);
      }
    }
  }
  const serviceHost = env.KUBERNETES_SERVICE_HOST;
  if (serviceHost && isIP(serviceHost)) api.add(serviceHost);
  for (const address of await sliceAddresses(http, notes)) api.add(address);

  let serviceCidrs = [...(options.serviceCidrs ?? [])];
  if (
    serviceCidrs.length === 0 &&
    !(await allowed(http, { group: "networking.k8s.io", resource: "servicecidrs", verb: "list" }))
  ) {
    notes.push(
      "not allowed to list ServiceCIDRs: set --service-cidrs (VNF_SERVICE_CIDRS, chart value endpointPolicy.serviceCidrs) so that endpoints in the cluster's service range are refused",
    );
  } else if (serviceCidrs.length === 0) {
    try {
      const list = await http.request<{ items?: Array<{ spec?: { cidrs?: string[] } }> }>({
        method: "GET",
        path: "/apis/networking.k8s.io/v1/servicecidrs",
        timeoutMs: 10_000,
      });
      serviceCidrs = (list.items ?? []).flatMap((item) => item.spec?.cidrs ?? []);
    } catch (error) {
      notes.push(
        `cannot list ServiceCIDRs (${why(error)}): set --service-cidrs (VNF_SERVICE_CIDRS, chart value endpointPolicy.serviceCidrs) so that endpoints in the cluster's service range are refused`,
      );
    }
  }
  return { apiServerAddresses: [...api], serviceCidrs, notes };
}
