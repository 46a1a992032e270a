// The shim's API server calls: find the devices for a CloudStack VNF instance or network id (by label,
// only in the configured namespaces), read/apply/delete/list rules, and ask for a drift check (one
// annotation on a device). Rule writes are server-side apply under the shim's own field manager,
// forced: the shim owns the fields it writes and nobody else should.
import { API_VERSION, GROUP, VERSION, VNF_DEVICE, VNF_FIREWALL_RULE, VNF_NAT_RULE } from "../api/group.ts";
import type { VnfDevice } from "../api/types.ts";
import { isNotFound, KubeHttp } from "../runtime/kube-http.ts";
import type { KubeConfigSource } from "../runtime/kubeconfig.ts";
import { FIELD_MANAGER, LABEL_NETWORK_ID, LABEL_VNF_INSTANCE, type ShimRuleKind } from "./names.ts";
import type { RuleLike } from "./outcome.ts";

export interface ShimRule extends RuleLike {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    generation?: number;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    deletionTimestamp?: string;
    creationTimestamp?: string;
  };
  spec: Record<string, unknown> & { deviceRef: { name: string }; ruleId?: string };
}

export function resourceOf(kind: ShimRuleKind) {
  return kind === "firewall" ? VNF_FIREWALL_RULE : VNF_NAT_RULE;
}

const base = (namespace: string, plural: string) =>
  `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${plural}`;

export class ShimKube {
  readonly http: KubeHttp;
  readonly namespaces: readonly string[];

  constructor(kubeConfig: KubeConfigSource, namespaces: readonly string[]) {
    this.http = KubeHttp.for(kubeConfig);
    this.namespaces = namespaces;
  }

  /** The devices labelled with this VNF instance id, across the configured namespaces. */
  devicesFor(instanceId: string): Promise<VnfDevice[]> {
    return this.#devices(`${LABEL_VNF_INSTANCE}=${instanceId}`);
  }

  /** The devices labelled with this CloudStack network id, across the configured namespaces. */
  devicesOfNetwork(networkId: string): Promise<VnfDevice[]> {
    return this.#devices(`${LABEL_NETWORK_ID}=${networkId}`);
  }

  async #devices(labelSelector: string): Promise<VnfDevice[]> {
    const lists = await Promise.all(
      this.namespaces.map((ns) =>
        this.http.request<{ items: VnfDevice[] }>({
          method: "GET",
          path: base(ns, VNF_DEVICE.plural),
          query: { labelSelector },
        }),
      ),
    );
    return lists.flatMap((l) => l.items);
  }

  async getDevice(namespace: string, name: string): Promise<VnfDevice | undefined> {
    try {
      return await this.http.request<VnfDevice>({
        method: "GET",
        path: `${base(namespace, VNF_DEVICE.plural)}/${name}`,
      });
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  /** Sets one annotation on a device (a JSON merge patch of metadata.annotations, nothing else). */
  async annotateDevice(namespace: string, name: string, key: string, value: string): Promise<void> {
    await this.http.request({
      method: "PATCH",
      path: `${base(namespace, VNF_DEVICE.plural)}/${name}`,
      contentType: "application/merge-patch+json",
      body: { metadata: { annotations: { [key]: value } } },
    });
  }

  /** Every rule of a kind in one namespace (the caller picks a device's). */
  async rulesIn(kind: ShimRuleKind, namespace: string): Promise<ShimRule[]> {
    const list = await this.http.request<{ items: ShimRule[] }>({
      method: "GET",
      path: base(namespace, resourceOf(kind).plural),
    });
    return list.items;
  }

  async getRule(kind: ShimRuleKind, namespace: string, name: string): Promise<ShimRule | undefined> {
    try {
      return await this.http.request<ShimRule>({
        method: "GET",
        path: `${base(namespace, resourceOf(kind).plural)}/${name}`,
      });
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async applyRule(
    kind: ShimRuleKind,
    namespace: string,
    manifest: Omit<ShimRule, "apiVersion" | "kind">,
  ): Promise<ShimRule> {
    const resource = resourceOf(kind);
    return this.http.request<ShimRule>({
      method: "PATCH",
      path: `${base(namespace, resource.plural)}/${manifest.metadata.name}`,
      query: { fieldManager: FIELD_MANAGER, force: true },
      contentType: "application/apply-patch+yaml",
      body: { apiVersion: API_VERSION, kind: resource.kind, ...manifest },
    });
  }

  /** Deletes a rule; false when it did not exist. */
  async deleteRule(kind: ShimRuleKind, namespace: string, name: string): Promise<boolean> {
    try {
      await this.http.request({
        method: "DELETE",
        path: `${base(namespace, resourceOf(kind).plural)}/${name}`,
        body: { kind: "DeleteOptions", apiVersion: "v1", propagationPolicy: "Background" },
      });
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }

  async listRules(kind: ShimRuleKind, labelSelector: string): Promise<ShimRule[]> {
    const lists = await Promise.all(
      this.namespaces.map((ns) =>
        this.http.request<{ items: ShimRule[] }>({
          method: "GET",
          path: base(ns, resourceOf(kind).plural),
          query: { labelSelector },
        }),
      ),
    );
    return lists.flatMap((l) => l.items);
  }

  /** /health: the API server answers and serves the vnf-operator.io group. */
  async ping(): Promise<void> {
    await this.http.request({ method: "GET", path: `/apis/${GROUP}/${VERSION}`, timeoutMs: 3_000 });
  }
}
