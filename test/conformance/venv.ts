// The virtualenv holding the vendors' PyPI SDKs (requirements*.txt, pinned), created once per set of pins
// under ~/.cache/vnf-operator/venv/<hash> and reused afterwards: the hash covers the requirement files and
// the Python version, so changing a pin (or the interpreter) builds a new one. Building goes to a
// temporary directory renamed into place at the end, so an interrupted install is never reused.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
const here = import.meta.dirname;
const requirementFiles = ["requirements.txt", "requirements-pan-python.txt"];
/** pyfsense-client uses enum.StrEnum (3.11). */
const minimumPython: readonly [number, number] = [3, 11];

export interface SdkEnvironment {
  /** The virtualenv's python. */
  python: string;
  /** A directory holding the newest pan-python alone (put it first on PYTHONPATH). */
  panPythonLatest: string;
  /** Whether this call built the virtualenv (false: reused from the cache). */
  built: boolean;
  seconds: number;
}

function cacheRoot(): string {
  const base = process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache");
  return join(base, "vnf-operator", "venv");
}

async function findPython(): Promise<{ command: string; version: string }> {
  for (const command of [process.env.VNF_PYTHON, "python3", "python"].filter(
    (c): c is string => c !== undefined && c !== "",
  )) {
    try {
      const { stdout } = await run(command, ["-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"]);
      const version = stdout.trim();
      const [major = 0, minor = 0] = version.split(".").map(Number);
      if (major > minimumPython[0] || (major === minimumPython[0] && minor >= minimumPython[1])) {
        return { command, version };
      }
    } catch {
      // not this one
    }
  }
  throw new Error(
    `the conformance tests need Python >= ${minimumPython.join(".")} (python3 on PATH, or VNF_PYTHON=/path/to/python): the vendors' SDKs are Python packages`,
  );
}

/** The SDK virtualenv, built on first use; `progress` gets one line per step. */
export async function ensureSdkEnvironment(progress: (line: string) => void): Promise<SdkEnvironment> {
  const started = Date.now();
  const python = await findPython();
  const hash = createHash("sha256");
  hash.update(`python ${python.version}\n`);
  for (const file of requirementFiles) hash.update(await readFile(join(here, file)));
  const dir = join(cacheRoot(), hash.digest("hex").slice(0, 16));
  const result = (built: boolean): SdkEnvironment => ({
    python: join(dir, "bin", "python"),
    panPythonLatest: join(dir, "pan-python-latest"),
    built,
    seconds: (Date.now() - started) / 1000,
  });
  if (existsSync(join(dir, ".complete"))) return result(false);

  const tmp = `${dir}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(cacheRoot(), { recursive: true });
  progress(`creating the SDK virtualenv (Python ${python.version}) in ${dir}`);
  await run(python.command, ["-m", "venv", tmp]);
  const pip = [join(tmp, "bin", "python"), "-m", "pip", "--disable-pip-version-check", "--no-input"];
  progress("pip install -r test/conformance/requirements.txt (pinned SDKs from PyPI)");
  await pipInstall(pip, ["install", "--quiet", "-r", join(here, "requirements.txt")]);
  await pipInstall(pip, [
    "install",
    "--quiet",
    "--no-deps",
    "--target",
    join(tmp, "pan-python-latest"),
    "-r",
    join(here, "requirements-pan-python.txt"),
  ]);
  // The interpreter path inside a venv is absolute: a renamed venv keeps working for `bin/python`
  // (console scripts would not, and none is used).
  await writeFile(join(tmp, ".complete"), `${new Date().toISOString()}\n`);
  await rm(dir, { recursive: true, force: true });
  await rename(tmp, dir);
  progress(`SDK virtualenv ready in ${((Date.now() - started) / 1000).toFixed(1)}s`);
  return result(true);
}

async function pipInstall(pip: string[], args: string[]): Promise<void> {
  const [command = "", ...prefix] = pip;
  try {
    await run(command, [...prefix, ...args], { maxBuffer: 64 * 1024 * 1024 });
  } catch (error) {
    const { stderr = "", stdout = "" } = error as { stderr?: string; stdout?: string };
    throw new Error(`pip ${args.join(" ")} failed:\n${stdout}\n${stderr}`.trim());
  }
}
