// `vnf-operator import`: read an appliance's rules once (the bulk list the drift check uses) and print
// VnfFirewallRule / VnfNatRule manifests for the ones nobody manages, each with the adopt annotation,
// so `kubectl apply` brings them under the operator without a second copy (src/import/plan.ts).
import path from "node:path";
import { parseArgs } from "node:util";
import { resourceTypes } from "../api/group.ts";
import type { VnfDevice, VnfRule } from "../api/types.ts";
import { EndpointPolicy } from "../appliance/endpoint-policy.ts";
import type { EndpointGuard } from "../appliance/guarded-connect.ts";
import { ApplianceSession } from "../appliance/session.ts";
import { isDisowned } from "../controllers/markers.ts";
import type { CompiledDictionary } from "../dictionary/compiled.ts";
import { loadDictionaryDirectories } from "../dictionary/registry.ts";
import type { ResourceKind } from "../dictionary/rule-input.ts";
import { type ListedObject, planImport } from "../import/plan.ts";
import { manifestsText, type OutputFormat, reportText } from "../import/print.ts";
import { discoverClusterNetwork } from "../runtime/cluster-network.ts";
import { KubeHttp, type KubeRequester } from "../runtime/kube-http.ts";
import { CoreResources, collectionPath, objectPath, parseKey } from "../runtime/resource.ts";
import { commaList, loadKubeConfig } from "./common.ts";

const builtinDictionaries = path.resolve(import.meta.dirname, "../../dictionaries");

const HELP = `usage: vnf-operator import --device NAMESPACE/NAME [flags]

Reads the appliance of a VnfDevice once and prints VnfFirewallRule / VnfNatRule manifests for the rules
nobody manages, each annotated vnf-operator.io/adopt: <appliance id>. kubectl apply them: the operator
adopts each object in place (writes its ownership marker; creates nothing). Priorities follow the
appliance's order, so applying the manifests moves no rule. Objects the dictionary cannot express are
listed on stderr with the reason.

flags:
  --device NS/NAME          the VnfDevice whose appliance to read (required)
  --kubeconfig PATH         kubeconfig [KUBECONFIG]; default: in-cluster service account
  --dictionaries DIR,DIR    dictionary directories [VNF_DICTIONARY_DIRS]; default: the built-in ones
  --name-prefix PREFIX      prefix every manifest name (e.g. the device's name)
  -o, --output yaml|json    yaml (default: one document per rule) or json (a List)
  --include-unsupported     also print the objects that cannot be imported, as commented YAML

endpoint policy: the device's credentials go only where the operator would send them (the same
defaults: loopback, link-local, cloud metadata, multicast, the API server and the service range are
refused), so a VnfDevice pointed elsewhere cannot make an administrator's import leak them.
  --endpoint-allow-cidrs A,B  CIDRs that override those default denials [VNF_ENDPOINT_ALLOW_CIDRS]
  --endpoint-deny-cidrs A,B   CIDRs always refused [VNF_ENDPOINT_DENY_CIDRS]
  --service-cidrs A,B         the cluster's service range [VNF_SERVICE_CIDRS]; default: discovered
`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      device: { type: "string" },
      kubeconfig: { type: "string" },
      dictionaries: { type: "string" },
      "name-prefix": { type: "string" },
      output: { type: "string", short: "o" },
      "include-unsupported": { type: "boolean" },
      "endpoint-allow-cidrs": { type: "string" },
      "endpoint-deny-cidrs": { type: "string" },
      "service-cidrs": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const format = (values.output ?? "yaml") as OutputFormat;
  if (format !== "yaml" && format !== "json") {
    process.stderr.write(
      `vnf-operator import: -o must be yaml or json, got ${JSON.stringify(values.output)}\n`,
    );
    return 2;
  }
  if (format === "json" && values["include-unsupported"]) {
    process.stderr.write(
      "vnf-operator import: --include-unsupported prints commented YAML: use it with -o yaml\n",
    );
    return 2;
  }
  const deviceKey = values.device ? parseKey(values.device) : undefined;
  if (!deviceKey?.namespace || !deviceKey.name) {
    process.stderr.write(`vnf-operator import: --device NAMESPACE/NAME is required\n\n${HELP}`);
    return 2;
  }
  const started = performance.now();
  const env = process.env;
  const kubeConfig = loadKubeConfig(values.kubeconfig ?? env.KUBECONFIG);
  const http = KubeHttp.for(kubeConfig);
  const serviceCidrs = commaList(values["service-cidrs"] ?? env.VNF_SERVICE_CIDRS);
  const network = await discoverClusterNetwork(
    http,
    kubeConfig,
    serviceCidrs.length > 0 ? { serviceCidrs } : {},
  );
  const endpointGuard: EndpointGuard = {
    policy: new EndpointPolicy({
      allowCidrs: commaList(values["endpoint-allow-cidrs"] ?? env.VNF_ENDPOINT_ALLOW_CIDRS),
      denyCidrs: commaList(values["endpoint-deny-cidrs"] ?? env.VNF_ENDPOINT_DENY_CIDRS),
      apiServerAddresses: network.apiServerAddresses,
      serviceCidrs: network.serviceCidrs,
    }),
  };
  const directories = commaList(values.dictionaries ?? process.env.VNF_DICTIONARY_DIRS);
  const { registry, errors } = await loadDictionaryDirectories(
    directories.length > 0 ? directories : [builtinDictionaries],
  );
  for (const error of errors) process.stderr.write(`warning: ${error.message}\n`);

  const device = await http.request<VnfDevice>({
    method: "GET",
    path: objectPath(resourceTypes.device, deviceKey),
  });
  const session = await sessionFor(http, device, endpointGuard, (name, version) =>
    registry.resolve({
      vendor: device.spec.vendor,
      ...(name ? { name } : {}),
      ...(version ? { firmwareVersion: version } : {}),
    }),
  );
  try {
    const lists: Partial<Record<ResourceKind, ListedObject[]>> = {};
    for (const kind of ["firewallRule", "natRule"] as const) {
      if (!session.dictionary.resources[kind]) continue;
      const objects = await session.list(kind);
      lists[kind] = objects.map((object) => {
        const listed: ListedObject = {
          vendorRef: object.vendorRef,
          reversed: session.reverse(kind, object),
          normalized: object.normalized,
        };
        // Where the dictionary says how the appliance orders rules (scope, number), keep it.
        const ordering = object as { scope?: unknown; number?: unknown };
        if (typeof ordering.scope === "string") listed.scope = ordering.scope;
        if (typeof ordering.number === "number") listed.number = ordering.number;
        if (object.marker !== undefined && !isDisowned(object.marker)) {
          listed.managedBy = `carries the ownership marker [vnf:${object.marker}]: a vnf-operator manages it`;
        }
        return listed;
      });
    }
    const plan = planImport({
      device: deviceKey,
      lists,
      recorded: await recordedVendorRefs(http, deviceKey),
      ...(values["name-prefix"] ? { namePrefix: values["name-prefix"] } : {}),
      ...(device.spec.ruleOrder?.placement ? { placement: device.spec.ruleOrder.placement } : {}),
    });
    process.stdout.write(manifestsText(plan, format, values["include-unsupported"] === true));
    const listed = Object.values(lists).reduce((n, list) => n + list.length, 0);
    process.stderr.write(reportText(plan, `${deviceKey.namespace}/${deviceKey.name}`));
    process.stderr.write(
      `read ${listed} appliance objects with dictionary ${session.dictionary.name} in ${Math.round(performance.now() - started)} ms\n`,
    );
    return 0;
  } finally {
    await session.close();
  }
}

/** The device's session, as the operator would build it (credentials and CA from labelled Secrets). */
async function sessionFor(
  http: KubeRequester,
  device: VnfDevice,
  endpointGuard: EndpointGuard,
  resolve: (name: string | undefined, version: string | undefined) => CompiledDictionary,
): Promise<ApplianceSession> {
  const namespace = device.metadata.namespace ?? "";
  const readSecret = async (name: string) => {
    const secret = await http.request<{ data?: Record<string, string> }>({
      method: "GET",
      path: objectPath(CoreResources.secrets, { namespace, name }),
    });
    return Object.fromEntries(
      Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, "base64").toString("utf8")]),
    );
  };
  const credentials = await readSecret(device.spec.credentialsSecretRef.name);
  const caRef = device.spec.tls?.caSecretRef;
  const caPem = caRef ? (await readSecret(caRef.name))[caRef.key ?? "ca.crt"] : undefined;
  const tls = device.spec.tls
    ? {
        ...(caPem ? { caPem } : {}),
        ...(device.spec.tls.insecureSkipVerify ? { insecureSkipVerify: true } : {}),
        ...(device.spec.tls.serverName ? { serverName: device.spec.tls.serverName } : {}),
      }
    : undefined;
  const open = (dictionary: CompiledDictionary) =>
    new ApplianceSession({
      dictionary,
      endpoint: device.spec.endpoint,
      credentials,
      parameters: device.spec.parameters ?? {},
      endpointGuard,
      ...(tls ? { tls } : {}),
    });
  // The dictionary the operator uses (status), else the pinned one, else chosen from the firmware.
  const named = device.status?.dictionary ?? device.spec.dictionary;
  if (named) return open(resolve(named, undefined));
  const probe = open(resolve(undefined, undefined));
  const health = await probe.health().finally(() => probe.close());
  return open(resolve(undefined, health.version));
}

/** `kind/vendorRef` of every object a rule of this device records in its status. */
async function recordedVendorRefs(
  http: KubeRequester,
  device: { namespace: string; name: string },
): Promise<Set<string>> {
  const out = new Set<string>();
  for (const kind of ["firewallRule", "natRule"] as const) {
    const list = await http.request<{ items: VnfRule[] }>({
      method: "GET",
      path: collectionPath(resourceTypes[kind], device.namespace),
    });
    for (const rule of list.items) {
      if (rule.spec.deviceRef.name === device.name && rule.status?.vendorRef) {
        out.add(`${kind}/${rule.status.vendorRef}`);
      }
    }
  }
  return out;
}
