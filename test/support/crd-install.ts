// Installs the CRDs of crds/ into the test cluster and waits until they are served. Any integration
// test that needs the vnf-operator kinds calls `await installCrds(kc)` in its beforeAll.
//
// Safe to call from many test files at once: each file is applied with server-side apply (create or
// update in one idempotent request, forced under one field manager, so concurrent identical applies
// agree), and calls within one module instance share a single in-flight installation.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import {
  ApiextensionsV1Api,
  CustomObjectsApi,
  type KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  type V1CustomResourceDefinition,
} from "@kubernetes/client-node";
import { parse } from "yaml";
import { waitUntil } from "./kube.ts";

export const CRD_DIR = path.resolve(import.meta.dirname, "../../crds");
const FIELD_MANAGER = "vnf-operator-tests";

const inFlight = new Map<string, Promise<string[]>>();

/** Applies every crds/*.yaml and resolves with the CRD names once all are Established and served. */
export function installCrds(kc: KubeConfig, options: { timeoutMs?: number } = {}): Promise<string[]> {
  const key = kc.getCurrentCluster()?.server ?? kc.currentContext;
  let install = inFlight.get(key);
  if (!install) {
    install = applyCrds(kc, options.timeoutMs);
    inFlight.set(key, install);
    // A failed attempt must not poison later calls.
    install.catch(() => inFlight.delete(key));
  }
  return install;
}

export function readCrdManifests(dir: string = CRD_DIR): V1CustomResourceDefinition[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".yaml"))
    .sort()
    .map((f) => parse(readFileSync(path.join(dir, f), "utf8")) as V1CustomResourceDefinition);
}

/** The uncached installation: apply every CRD, then wait until each is Established and served. */
export async function applyCrds(kc: KubeConfig, timeoutMs = 60_000): Promise<string[]> {
  const api = kc.makeApiClient(ApiextensionsV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const crds = readCrdManifests();
  await Promise.all(crds.map((crd) => apply(api, crd, timeoutMs)));
  await Promise.all(
    crds.map(async (crd) => {
      const name = crd.metadata!.name!;
      await waitUntil(
        `CRD ${name} Established`,
        async () => {
          const got = await api.readCustomResourceDefinition({ name });
          const conditions = got.status?.conditions ?? [];
          const isTrue = (type: string) => conditions.some((c) => c.type === type && c.status === "True");
          return isTrue("Established") && isTrue("NamesAccepted");
        },
        timeoutMs,
      );
      // Established can run a moment ahead of the handler serving the new kind.
      const version = crd.spec.versions.find((v) => v.storage)!.name;
      await waitUntil(
        `${crd.spec.names.plural}.${crd.spec.group} served`,
        async () => {
          await custom.listClusterCustomObject({
            group: crd.spec.group,
            version,
            plural: crd.spec.names.plural,
          });
          return true;
        },
        timeoutMs,
      );
    }),
  );
  return crds.map((crd) => crd.metadata!.name!);
}

async function apply(
  api: ApiextensionsV1Api,
  crd: V1CustomResourceDefinition,
  timeoutMs: number,
): Promise<void> {
  const name = crd.metadata!.name!;
  // Conflicts between concurrent appliers are retried; anything else (an invalid CRD) fails at once.
  let refused: unknown;
  await waitUntil(
    `CRD ${name} applied`,
    async () => {
      try {
        await api.patchCustomResourceDefinition(
          { name, body: crd, fieldManager: FIELD_MANAGER, force: true },
          setHeaderOptions("Content-Type", PatchStrategy.ServerSideApply),
        );
        return true;
      } catch (error) {
        if ((error as { code?: number }).code === 409) throw error;
        refused = error;
        return true;
      }
    },
    timeoutMs,
    200,
  );
  if (refused !== undefined) {
    const body = (refused as { body?: unknown }).body;
    throw new Error(`applying CRD ${name} failed: ${typeof body === "string" ? body : String(refused)}`);
  }
}
