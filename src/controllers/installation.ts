// Which installation of the operator this is. The id keys the ownership markers (markers.ts): two
// installations that share an appliance (staging and production clusters, two `--namespaces` installs
// of one cluster) never take each other's objects for their own.
//
// Explicit (--installation-id, the chart's `installationId`), or derived so that it is stable for the
// life of an install and differs between installs: the uid of the cluster's kube-system namespace
// (which lives as long as the cluster), the release namespace and the release name. Reading
// kube-system needs `get` on that one namespace; an install without it (namespaced RBAC) falls back
// to the release namespace and name, which still tells two installs of one cluster apart, and says so.
import { KubeApiError, type KubeRequester } from "../runtime/kube-http.ts";
import type { Logger } from "../runtime/logging.ts";
import { CoreResources, objectPath } from "../runtime/resource.ts";
import { installationPart } from "./markers.ts";

export interface InstallationOptions {
  /** Given by the user: used as is. */
  installationId?: string;
  /** The Helm release name (default vnf-operator). */
  releaseName?: string;
  /** The namespace the operator runs in (default "default"). */
  releaseNamespace?: string;
}

export interface Installation {
  id: string;
  /** How it was chosen. */
  source: "configured" | "cluster" | "release";
}

export async function resolveInstallation(
  http: KubeRequester,
  options: InstallationOptions,
  log?: Logger,
): Promise<Installation> {
  const explicit = options.installationId?.trim();
  const installation = explicit
    ? { id: explicit, source: "configured" as const }
    : await derive(http, options.releaseNamespace ?? "default", options.releaseName ?? "vnf-operator", log);
  // The id itself keys the markers' check: log only its public part (what the markers show).
  log?.info(
    { installation: installationPart(installation.id), source: installation.source },
    "installation identity (the first part of every ownership marker this operator writes)",
  );
  return installation;
}

async function derive(
  http: KubeRequester,
  namespace: string,
  release: string,
  log?: Logger,
): Promise<Installation> {
  try {
    const kubeSystem = await http.request<{ metadata?: { uid?: string } }>({
      method: "GET",
      path: objectPath(CoreResources.namespaces, { namespace: "", name: "kube-system" }),
    });
    const uid = kubeSystem.metadata?.uid;
    if (uid) return { id: `${uid}/${namespace}/${release}`, source: "cluster" };
  } catch (error) {
    if (!(error instanceof KubeApiError) || (error.status !== 403 && error.status !== 404)) throw error;
  }
  log?.warn(
    { releaseNamespace: namespace, releaseName: release },
    "cannot read the kube-system namespace: the installation id is derived from the release namespace and name (set --installation-id, chart value installationId, to choose it)",
  );
  return { id: `${namespace}/${release}`, source: "release" };
}
