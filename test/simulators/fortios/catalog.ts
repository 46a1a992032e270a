// Every CMDB table the FortiOS simulator serves, by name and by its path under /api/v2/cmdb/.
import { centralSnatTable, customServiceTable, ippoolTable } from "./nat-tables.ts";
import {
  addressTable,
  policyTable,
  type TableName,
  type TableSpec,
  type VdomTables,
  vipTable,
} from "./tables.ts";

export const tables: Record<TableName, TableSpec> = {
  policy: policyTable,
  vip: vipTable,
  address: addressTable,
  service: customServiceTable,
  ippool: ippoolTable,
  snat: centralSnatTable,
};

export const tablesByRoute: ReadonlyMap<string, TableSpec> = new Map(
  Object.values(tables).map((table) => [table.route, table]),
);

export function freshTables(): VdomTables {
  return {
    policy: tables.policy.builtins(),
    vip: tables.vip.builtins(),
    address: tables.address.builtins(),
    service: tables.service.builtins(),
    ippool: tables.ippool.builtins(),
    snat: tables.snat.builtins(),
  };
}
