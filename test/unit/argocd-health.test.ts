// The Argo CD health checks (deploy/argocd/health.lua, shipped in deploy/argocd/argocd-cm.yaml) run
// for real in a Lua VM (fengari) against sample objects, table-driven. Argo CD embeds gopher-lua
// (Lua 5.1); fengari is Lua 5.3, so the script is also held to the 5.1 subset below, and numbers are
// handed over as 5.1 would print them (whole numbers without ".0").
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

type LuaState = unknown;
interface Fengari {
  lua: {
    LUA_OK: number;
    lua_pushnil(L: LuaState): void;
    lua_pushboolean(L: LuaState, b: boolean): void;
    lua_pushinteger(L: LuaState, n: number): void;
    lua_pushnumber(L: LuaState, n: number): void;
    lua_pushstring(L: LuaState, s: Uint8Array): void;
    lua_createtable(L: LuaState, narr: number, nrec: number): void;
    lua_rawseti(L: LuaState, index: number, i: number): void;
    lua_setfield(L: LuaState, index: number, k: Uint8Array): void;
    lua_getfield(L: LuaState, index: number, k: Uint8Array): number;
    lua_setglobal(L: LuaState, name: Uint8Array): void;
    lua_pcall(L: LuaState, nargs: number, nresults: number, errfunc: number): number;
    lua_istable(L: LuaState, index: number): boolean;
    lua_tojsstring(L: LuaState, index: number): string | null;
    lua_pop(L: LuaState, n: number): void;
  };
  lauxlib: {
    luaL_newstate(): LuaState;
    luaL_loadstring(L: LuaState, s: Uint8Array): number;
  };
  lualib: { luaL_openlibs(L: LuaState): void };
  to_luastring(s: string): Uint8Array;
}

const fengari = createRequire(import.meta.url)("fengari") as Fengari;
const { lua, lauxlib, lualib, to_luastring } = fengari;

const root = path.resolve(import.meta.dirname, "../..");
const script = readFileSync(path.join(root, "deploy/argocd/health.lua"), "utf8");
const argocdCm = parse(readFileSync(path.join(root, "deploy/argocd/argocd-cm.yaml"), "utf8")) as {
  data: Record<string, string>;
};
const KINDS = ["VnfDevice", "VnfFirewallRule", "VnfNatRule"] as const;

function pushValue(L: LuaState, value: unknown): void {
  if (value === null || value === undefined) lua.lua_pushnil(L);
  else if (typeof value === "boolean") lua.lua_pushboolean(L, value);
  else if (typeof value === "number") {
    if (Number.isInteger(value)) lua.lua_pushinteger(L, value);
    else lua.lua_pushnumber(L, value);
  } else if (typeof value === "string") lua.lua_pushstring(L, to_luastring(value));
  else if (Array.isArray(value)) {
    lua.lua_createtable(L, value.length, 0);
    value.forEach((item, i) => {
      pushValue(L, item);
      lua.lua_rawseti(L, -2, i + 1);
    });
  } else if (typeof value === "object") {
    const entries = Object.entries(value);
    lua.lua_createtable(L, 0, entries.length);
    for (const [key, item] of entries) {
      pushValue(L, item);
      lua.lua_setfield(L, -2, to_luastring(key));
    }
  } else throw new Error(`cannot hand ${typeof value} to Lua`);
}

/** Runs a health script as Argo CD does: global `obj`, the script returns {status, message}. */
function runHealth(source: string, obj: object): { status: string; message: string } {
  const L = lauxlib.luaL_newstate();
  lualib.luaL_openlibs(L);
  pushValue(L, obj);
  lua.lua_setglobal(L, to_luastring("obj"));
  if (lauxlib.luaL_loadstring(L, to_luastring(source)) !== lua.LUA_OK)
    throw new Error(`Lua syntax error: ${lua.lua_tojsstring(L, -1)}`);
  if (lua.lua_pcall(L, 0, 1, 0) !== lua.LUA_OK) throw new Error(`Lua error: ${lua.lua_tojsstring(L, -1)}`);
  if (!lua.lua_istable(L, -1)) throw new Error("the health script did not return a table");
  lua.lua_getfield(L, -1, to_luastring("status"));
  const status = lua.lua_tojsstring(L, -1) ?? "";
  lua.lua_pop(L, 1);
  lua.lua_getfield(L, -1, to_luastring("message"));
  const message = lua.lua_tojsstring(L, -1) ?? "";
  return { status, message };
}

// ---- sample objects -------------------------------------------------------------------------------

interface Cond {
  type: string;
  status: "True" | "False" | "Unknown";
  reason: string;
  message?: string;
  observedGeneration?: number;
}

function sample(
  kind: string,
  generation: number,
  conditions: Cond[] | undefined,
  extra: { deleting?: boolean; observedGeneration?: number } = {},
): object {
  return {
    apiVersion: "vnf-operator.io/v1alpha1",
    kind,
    metadata: {
      name: "allow-https",
      namespace: "edge",
      generation,
      ...(extra.deleting
        ? { deletionTimestamp: "2026-11-23T10:00:00Z", finalizers: ["vnf-operator.io/appliance"] }
        : {}),
    },
    spec: { deviceRef: { name: "edge-fw" } },
    ...(conditions === undefined
      ? {}
      : {
          status: {
            ...(extra.observedGeneration !== undefined
              ? { observedGeneration: extra.observedGeneration }
              : {}),
            conditions: conditions.map((c) => ({
              lastTransitionTime: "2026-11-23T09:00:00Z",
              message: "",
              ...c,
            })),
          },
        }),
  };
}

const ready = (status: Cond["status"], reason: string, observedGeneration: number, message = ""): Cond => ({
  type: "Ready",
  status,
  reason,
  message,
  observedGeneration,
});
const abnormal = (
  type: "Reconciling" | "Stalled",
  reason: string,
  observedGeneration: number,
  message = "",
) => ({
  type,
  status: "True" as const,
  reason,
  message,
  observedGeneration,
});

interface Row {
  name: string;
  generation: number;
  conditions: Cond[] | undefined;
  extra?: { deleting?: boolean; observedGeneration?: number };
  status: "Healthy" | "Progressing" | "Degraded" | "Suspended";
  message: RegExp;
}

const TABLE: Row[] = [
  {
    name: "no status yet",
    generation: 1,
    conditions: undefined,
    status: "Progressing",
    message: /report status/,
  },
  {
    name: "status without conditions",
    generation: 1,
    conditions: [],
    status: "Progressing",
    message: /report/,
  },
  {
    name: "Ready=True, observedGeneration current",
    generation: 3,
    conditions: [ready("True", "Applied", 3, "on the appliance")],
    extra: { observedGeneration: 3 },
    status: "Healthy",
    message: /^Applied: on the appliance$/,
  },
  {
    name: "Ready=True, generation ahead of the condition",
    generation: 4,
    conditions: [ready("True", "Applied", 3)],
    status: "Progressing",
    message: /^Waiting for the operator to observe generation 4$/,
  },
  {
    name: "Ready=True current, status.observedGeneration behind",
    generation: 4,
    conditions: [ready("True", "Applied", 4)],
    extra: { observedGeneration: 3 },
    status: "Progressing",
    message: /generation 4$/,
  },
  {
    name: "Reconciling",
    generation: 2,
    conditions: [ready("False", "Applying", 2), abnormal("Reconciling", "Applying", 2, "creating the rule")],
    status: "Progressing",
    message: /^Applying: creating the rule$/,
  },
  {
    name: "Reconciling while still Ready (drift repair)",
    generation: 2,
    conditions: [ready("True", "Applied", 2), abnormal("Reconciling", "ApplianceDiffers", 2)],
    status: "Progressing",
    message: /ApplianceDiffers/,
  },
  {
    name: "Stalled",
    generation: 2,
    conditions: [
      ready("False", "VNF_INVALID", 2),
      abnormal("Stalled", "VNF_INVALID", 2, "port out of range"),
    ],
    status: "Degraded",
    message: /^VNF_INVALID: port out of range$/,
  },
  {
    name: "Stalled for an older generation (a new spec may help)",
    generation: 3,
    conditions: [ready("False", "VNF_INVALID", 2), abnormal("Stalled", "VNF_INVALID", 2)],
    status: "Progressing",
    message: /generation 3/,
  },
  {
    name: "Ready=False DeviceNotReady (transient)",
    generation: 1,
    conditions: [ready("False", "DeviceNotReady", 1, "device edge-fw is not Ready")],
    status: "Progressing",
    message: /^DeviceNotReady: device edge-fw is not Ready$/,
  },
  {
    name: "Ready=False VNF_UNREACHABLE (transient)",
    generation: 1,
    conditions: [ready("False", "VNF_UNREACHABLE", 1)],
    status: "Progressing",
    message: /^VNF_UNREACHABLE$/,
  },
  {
    name: "Ready=False CredentialsInvalid (needs a person)",
    generation: 1,
    conditions: [ready("False", "CredentialsInvalid", 1, "401 from the appliance")],
    status: "Degraded",
    message: /^CredentialsInvalid: 401/,
  },
  {
    name: "Ready=False VNF_CONFLICT (needs a person)",
    generation: 5,
    conditions: [ready("False", "VNF_CONFLICT", 5)],
    status: "Degraded",
    message: /VNF_CONFLICT/,
  },
  {
    name: "Ready=Unknown",
    generation: 1,
    conditions: [ready("Unknown", "Pending", 1)],
    status: "Progressing",
    message: /Pending/,
  },
  {
    name: "Ready=False DeviceSuspended",
    generation: 1,
    conditions: [ready("False", "DeviceSuspended", 1)],
    status: "Suspended",
    message: /DeviceSuspended/,
  },
  {
    name: "deleting",
    generation: 2,
    conditions: [ready("True", "Applied", 2)],
    extra: { deleting: true },
    status: "Progressing",
    message: /^Deleting/,
  },
  {
    name: "deleting without status",
    generation: 1,
    conditions: undefined,
    extra: { deleting: true },
    status: "Progressing",
    message: /^Deleting/,
  },
  {
    name: "deleting but Stalled",
    generation: 2,
    conditions: [ready("False", "VNF_AUTH", 2), abnormal("Stalled", "VNF_AUTH", 2, "credentials refused")],
    extra: { deleting: true },
    status: "Degraded",
    message: /^Deletion blocked: VNF_AUTH/,
  },
];

describe("Argo CD health Lua (run in fengari)", () => {
  it("argocd-cm ships the same script for each of the three kinds", () => {
    for (const kind of KINDS) {
      expect(argocdCm.data[`resource.customizations.health.vnf-operator.io_${kind}`]).toBe(script);
    }
    expect(Object.keys(argocdCm.data)).toHaveLength(KINDS.length);
  });

  it("uses only Lua 5.1 syntax and library (what Argo CD's gopher-lua runs)", () => {
    const code = script.replace(/--.*$/gm, "").replace(/"(?:[^"\\]|\\.)*"/g, '""');
    const newer = [
      /\bgoto\b/,
      /::\w+::/,
      /\/\//,
      /[&|]/,
      /~(?!=)/,
      /<<|>>/,
      /\butf8\./,
      /\bmath\.(type|tointeger|maxinteger|mininteger)\b/,
      /\btable\.(move|pack|unpack)\b/,
      /\bstring\.(pack|unpack)\b/,
    ];
    for (const pattern of newer) expect(code, `Lua 5.2+ construct ${pattern}`).not.toMatch(pattern);
  });

  for (const kind of KINDS) {
    describe(kind, () => {
      const source = argocdCm.data[`resource.customizations.health.vnf-operator.io_${kind}`] ?? "";
      it.each(TABLE)("$name → $status", (row) => {
        const health = runHealth(source, sample(kind, row.generation, row.conditions, row.extra ?? {}));
        expect(health.status).toBe(row.status);
        expect(health.message).toMatch(row.message);
      });
    });
  }

  it("a script error surfaces (the harness really runs Lua)", () => {
    expect(() => runHealth("error('boom')", {})).toThrow(/boom/);
    expect(() => runHealth("return {", {})).toThrow(/syntax/);
  });
});
