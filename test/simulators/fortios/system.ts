// The read-only system endpoints SDKs call around their real work: the VDOM table (fortigate-api's
// `cmdb.system.vdom`, fortiosapi's `get("system", "vdom")`) and the license status fortiosapi's login()
// reads. Their answers use the same envelope as every other endpoint (envelope.ts).
import type { Json } from "../common/vendor.ts";

/** `GET /api/v2/cmdb/system/vdom`: one entry per VDOM, mkey `name`. */
export function vdomEntries(vdoms: readonly string[]): Json[] {
  return vdoms.map((name, index) => ({
    name,
    q_origin_key: name,
    "short-name": name,
    "vcluster-id": 0,
    flag: index === 0 ? 0 : 1,
  }));
}

/** `GET /api/v2/monitor/license/status`: a registered VM with valid licenses. */
export function licenseStatus(): Json {
  const valid = { type: "licensed", status: "licensed", expires: 1893456000 };
  return {
    fortiguard: { has_connected: true, connected: true, ...valid },
    forticare: { registration_status: "registered", status: "registered", support: {} },
    antivirus: valid,
    ips: valid,
    web_filtering: valid,
    vm: { type: "licensed", status: "valid", cpu_max: 2, mem_max: 2048 },
  };
}
