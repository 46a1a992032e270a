// Entry point of the appliance simulators: `startSimulator(vendor, options)` starts a real HTTPS server on
// loopback that behaves like the vendor's documented API, with a control API for tests (README.md).
// A new vendor = a VendorDefinition in <vendor>/simulator.ts, registered below.
import { connectSimulatorControl } from "./common/control-client.ts";
import { SimulatorHost } from "./common/host.ts";
import { simulatorCertificate } from "./common/tls.ts";
import type { CommonSimulatorOptions, SimulatorHandle } from "./common/types.ts";
import type { VendorDefinition } from "./common/vendor.ts";
import { type FortiOSSimulatorOptions, fortios } from "./fortios/simulator.ts";
import { type OPNsenseSimulatorOptions, opnsense } from "./opnsense/simulator.ts";
import { type PanOSSimulatorOptions, panos } from "./panos/simulator.ts";
import { type PfSenseSimulatorOptions, pfsense } from "./pfsense/simulator.ts";
import { type VyOSSimulatorOptions, vyos } from "./vyos/simulator.ts";

/** Vendor-specific options, by vendor name. */
export interface VendorOptions {
  pfsense: PfSenseSimulatorOptions;
  fortios: FortiOSSimulatorOptions;
  panos: PanOSSimulatorOptions;
  vyos: VyOSSimulatorOptions;
  opnsense: OPNsenseSimulatorOptions;
}

export type SimulatorVendor = keyof VendorOptions;

export type StartSimulatorOptions<V extends SimulatorVendor> = CommonSimulatorOptions & VendorOptions[V];

const registry: { [V in SimulatorVendor]: VendorDefinition<VendorOptions[V]> } = {
  pfsense,
  fortios,
  panos,
  vyos,
  opnsense,
};

export const simulatorVendors = Object.keys(registry) as SimulatorVendor[];

export function isSimulatorVendor(name: string): name is SimulatorVendor {
  return Object.hasOwn(registry, name);
}

/** Keys of the credentials Secret for a vendor, in order. */
export function credentialKeys(vendor: SimulatorVendor): string[] {
  return [...registry[vendor].credentialKeys];
}

export async function startSimulator<V extends SimulatorVendor>(
  vendor: V,
  options: StartSimulatorOptions<V> = {} as StartSimulatorOptions<V>,
): Promise<SimulatorHandle> {
  const definition = registry[vendor] as VendorDefinition<object>;
  if (definition === undefined) throw new Error(`no simulator for vendor ${vendor}`);
  const tls =
    options.tls === false
      ? undefined
      : await simulatorCertificate(vendor, options.host ?? "127.0.0.1", options.ca);
  const host = new SimulatorHost(
    definition,
    options,
    tls === undefined ? undefined : { certPem: tls.server.certPem, keyPem: tls.server.keyPem },
  );
  await host.listen();
  return {
    vendor,
    url: host.url,
    caPem: tls?.ca.certPem ?? "",
    get credentials() {
      return { ...host.vendor.credentials };
    },
    control: host.control,
    stop: () => host.stop(),
  };
}

export type { ControlClientOptions } from "./common/control-client.ts";
export type {
  ActiveFault,
  CommonSimulatorOptions,
  Fault,
  FaultAction,
  FaultKind,
  FaultScope,
  ObjectKind,
  ObjectsView,
  ObjectWriteOptions,
  RequestFilter,
  RequestLogEntry,
  RequestOutcome,
  SimulatorControl,
  SimulatorHandle,
  SimulatorStats,
  VendorObject,
} from "./common/types.ts";
export { connectSimulatorControl };
