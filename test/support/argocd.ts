// Argo CD's side of a resource's health, for tests: the health script run in Argo CD's own Lua runtime
// (hack/tools/argocd-lua: gopher-lua with the library set Argo CD gives argocd-cm scripts), and a model
// of what gitops-engine (Argo CD's health aggregation) then shows for the object.
//
// gitops-engine, for a resource with a custom health script:
//   - not being deleted: the script's answer; a script error shows as Unknown with the error;
//   - being deleted (metadata.deletionTimestamp, and not held by Argo CD's own hook finalizer):
//       v3.3 (Argo CD 3.3.x): "Progressing" / "Pending deletion", without running the script at all;
//       v3.6 (Argo CD 3.6.1): the script's answer only when it sets `deletionMessage` (shown as the
//       message), else "Progressing" / "Pending deletion".
// So a script branch that reports a blocked deletion as Degraded is visible on 3.6 only, and only
// through `deletionMessage`.
import { execFile, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
const repoRoot = path.resolve(import.meta.dirname, "../..");
const TOOL_DIR = path.join(repoRoot, "hack/tools/argocd-lua");

export type ArgoHealthStatus = "Healthy" | "Progressing" | "Degraded" | "Suspended" | "Missing" | "Unknown";

/** What the script returned, as Argo CD decodes it, or the error Argo CD would report. */
export interface ScriptResult {
  status?: ArgoHealthStatus;
  message?: string;
  deletionMessage?: string;
  error?: string;
}

export interface ArgoHealth {
  status: ArgoHealthStatus;
  message: string;
}

/** The Argo CD versions whose deletion handling the model covers. */
export const ARGO_VERSIONS = ["v3.3", "v3.6"] as const;
export type ArgoVersion = (typeof ARGO_VERSIONS)[number];

const HOOK_FINALIZER = "argocd.argoproj.io/hook-finalizer";

/** gitops-engine's health for `obj`, given what the health script returned for it. */
export function argoHealth(version: ArgoVersion, obj: object, script: ScriptResult): ArgoHealth {
  const metadata = (obj as { metadata?: { deletionTimestamp?: unknown; finalizers?: unknown } }).metadata;
  const finalizers = Array.isArray(metadata?.finalizers) ? metadata.finalizers : [];
  const deleting = Boolean(metadata?.deletionTimestamp) && !finalizers.includes(HOOK_FINALIZER);
  const pending: ArgoHealth = { status: "Progressing", message: "Pending deletion" };
  if (deleting && version === "v3.3") return pending;
  if (script.error !== undefined) return deleting ? pending : { status: "Unknown", message: script.error };
  if (deleting) {
    if (!script.deletionMessage) return pending;
    return { status: script.status ?? "Unknown", message: script.deletionMessage };
  }
  return { status: script.status ?? "Unknown", message: script.message ?? "" };
}

let binary: Promise<string> | undefined;

/**
 * The runner binary, built on first use with the machine's Go from hack/tools/argocd-lua (pinned by
 * its go.sum) into a cache keyed by its sources; later runs reuse it.
 */
export function argocdLuaBinary(): Promise<string> {
  binary ??= (async () => {
    const hash = createHash("sha256");
    for (const file of ["go.mod", "go.sum", "main.go"]) hash.update(readFileSync(path.join(TOOL_DIR, file)));
    const cacheRoot =
      process.env.VNF_BIN_CACHE ??
      path.join(process.env.XDG_CACHE_HOME ?? path.join(homedir(), ".cache"), "vnf-operator/bin");
    const dir = path.join(cacheRoot, `argocd-lua-${hash.digest("hex").slice(0, 16)}`);
    const target = path.join(dir, "argocd-lua");
    if (existsSync(target)) return target;
    mkdirSync(dir, { recursive: true });
    const partial = `${target}.${process.pid}.partial`;
    await run("go", ["build", "-trimpath", "-o", partial, "."], {
      cwd: TOOL_DIR,
      env: {
        ...process.env,
        // go.sum pins the one module; the checksum database is not reachable here.
        GOSUMDB: "off",
        GOWORK: "off",
        GOTOOLCHAIN: "local",
        GOFLAGS: "-mod=mod",
        CGO_ENABLED: "0",
      },
    });
    renameSync(partial, target); // atomic: a half-built binary never looks cached
    return target;
  })();
  return binary;
}

/** Runs a health script over objects in Argo CD's Lua runtime; one result per object. */
export async function runHealthScript(script: string, objects: readonly object[]): Promise<ScriptResult[]> {
  const bin = await argocdLuaBinary();
  return new Promise((resolve, reject) => {
    const child = spawn(bin, [], { stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString("utf8");
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString("utf8");
    });
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0) reject(new Error(`argocd-lua exited with ${code}: ${stderr}`));
      else resolve(JSON.parse(stdout) as ScriptResult[]);
    });
    child.stdin.end(JSON.stringify({ script, objects }));
  });
}
