// The container image the chart runs (Dockerfile), checked statically: the `run` path imports nothing
// from test/ or from devDependencies (the image installs production dependencies only), reads nothing
// outside what the image copies, and the Dockerfile's user, entrypoint and bases agree with the chart.
// image.test.ts builds the image and runs it.
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { repoRoot } from "../support/helm.ts";

const pkg = JSON.parse(readFileSync(path.join(repoRoot, "package.json"), "utf8")) as {
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const dockerfile = readFileSync(path.join(repoRoot, "Dockerfile"), "utf8");

/** Module specifiers a file loads at run time (type-only imports are erased by Node and skipped). */
function runtimeImports(source: string, followDynamic: boolean): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  const found: string[] = [];
  for (const m of code.matchAll(/^\s*(import|export)\s+(type\s+)?([^'"]*?)\bfrom\s+["']([^"']+)["']/gm)) {
    if (m[2] === undefined && m[4]) found.push(m[4]);
  }
  for (const m of code.matchAll(/^\s*import\s+["']([^"']+)["']/gm)) if (m[1]) found.push(m[1]);
  if (followDynamic)
    for (const m of code.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g)) if (m[1]) found.push(m[1]);
  return found;
}

/** Every file and package the `run` command loads, following relative imports from src/cli/main.ts. */
function runClosure(): { files: string[]; packages: Set<string> } {
  const main = path.join(repoRoot, "src/cli/main.ts");
  const run = path.join(repoRoot, "src/cli/run.ts");
  const files = new Set<string>();
  const packages = new Set<string>();
  // main.ts lazily imports every command; of those, only run.ts is on the `run` path.
  const queue: Array<[string, boolean]> = [
    [main, false],
    [run, true],
  ];
  while (queue.length > 0) {
    const [file, followDynamic] = queue.shift() as [string, boolean];
    if (files.has(file)) continue;
    files.add(file);
    for (const spec of runtimeImports(readFileSync(file, "utf8"), followDynamic)) {
      if (spec.startsWith(".")) queue.push([path.resolve(path.dirname(file), spec), true]);
      else if (spec.startsWith("node:") || builtinModules.includes(spec)) continue;
      else
        packages.add(
          spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : (spec.split("/")[0] ?? spec),
        );
    }
  }
  return { files: [...files].map((f) => path.relative(repoRoot, f)).sort(), packages };
}

describe("the image's run path", () => {
  const closure = runClosure();

  it("follows a real import graph (sanity)", () => {
    expect(closure.files).toContain("src/cli/run.ts");
    expect(closure.files).toContain("src/operator.ts");
    expect(closure.files).toContain("src/controllers/rule-controller.ts");
    expect(closure.files).toContain("src/dictionary/registry.ts");
    expect(closure.packages).toContain("undici");
    // The run path reads kubeconfigs itself: client-node's generated API client cost ~60 MiB RSS (#20).
    expect(closure.packages).not.toContain("@kubernetes/client-node");
  });

  it("loads only files under src/ that exist (no test/ helper, nothing outside the image)", () => {
    for (const file of closure.files) {
      expect(file, file).toMatch(/^src\//);
      expect(existsSync(path.join(repoRoot, file)), file).toBe(true);
    }
  });

  it("needs production dependencies only", () => {
    const dev = [...closure.packages].filter((p) => !(p in pkg.dependencies));
    expect(dev, "imported on the run path but not in dependencies").toEqual([]);
  });

  it("starts: `node src/cli/main.ts run --help` prints the run usage", async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [
      path.join(repoRoot, "src/cli/main.ts"),
      "run",
      "--help",
    ]);
    expect(stdout).toMatch(/usage: vnf-operator run/);
    expect(stdout).toMatch(/VNF_WATCH_NAMESPACES/);
  });
});

describe("Dockerfile", () => {
  const instructions = dockerfile
    .split("\n")
    .filter((line) => /^[A-Z]+\s/.test(line))
    .map((line) => line.trim());
  const stages = instructions.filter((l) => l.startsWith("FROM "));

  it("is multi-stage, its bases build arguments defaulting to the official Node 24 images", () => {
    expect(stages).toHaveLength(3);
    expect(stages[0]).toMatch(/^FROM \$\{BUILD_IMAGE\} AS deps$/);
    expect(stages[1]).toMatch(/^FROM \$\{BUILD_IMAGE\} AS build$/);
    expect(stages[2]).toMatch(/^FROM \$\{RUNTIME_IMAGE\}$/);
    expect(dockerfile).toMatch(/^ARG BUILD_IMAGE=docker\.io\/library\/node:24-[a-z0-9.-]+$/m);
    expect(dockerfile).toMatch(/^ARG RUNTIME_IMAGE=docker\.io\/library\/node:24-[a-z0-9.-]+$/m);
    // hack/image passes exactly these two to build on its own bases.
    const hackImage = readFileSync(path.join(repoRoot, "hack/image"), "utf8");
    expect(hackImage).toMatch(
      /--build-arg "BUILD_IMAGE=\$BUILD_BASE" --build-arg "RUNTIME_IMAGE=\$RUNTIME_BASE"/,
    );
  });

  it("installs production dependencies only, at the locked versions", () => {
    expect(dockerfile).toMatch(/COPY package\.json package-lock\.json/);
    expect(dockerfile).toMatch(/npm (ci|install) --omit=dev/);
    // The runtime stage takes node_modules from the production-only stage, never from the build's.
    const finalStage = dockerfile.slice(dockerfile.lastIndexOf("\nFROM "));
    expect(finalStage).not.toMatch(/--from=build \/app\/node_modules/);
  });

  it("compiles the sources with the repository's own build (npm run build → dist/)", () => {
    const buildStage = dockerfile.slice(dockerfile.indexOf(" AS build"), dockerfile.lastIndexOf("\nFROM "));
    expect(buildStage).toMatch(
      /^COPY package\.json package-lock\.json \.npmrc tsconfig\.json tsconfig\.build\.json \.\/$/m,
    );
    expect(buildStage).toMatch(/^COPY src \.\/src$/m);
    expect(buildStage).toMatch(/^RUN npm run build$/m);
    const tsconfig = JSON.parse(readFileSync(path.join(repoRoot, "tsconfig.build.json"), "utf8")) as {
      compilerOptions: { rootDir: string; outDir: string };
    };
    // src/cli/main.ts → dist/cli/main.js, and dist/cli/../../dictionaries is /app/dictionaries.
    expect(tsconfig.compilerOptions).toMatchObject({ rootDir: "src", outDir: "dist" });
    expect(pkg.scripts.build).toBe("tsc -p tsconfig.build.json");
  });

  it("copies what the run path and its dictionaries need, and runs the compiled `main.js run` as a numeric non-root user", () => {
    const finalStage = dockerfile.slice(dockerfile.lastIndexOf("\nFROM "));
    expect(finalStage).toMatch(/^COPY --from=build \/app\/dist \.\/dist$/m);
    expect(finalStage).not.toMatch(/^COPY src /m);
    expect(finalStage).toMatch(/^COPY dictionaries \.\/dictionaries$/m);
    expect(finalStage).toMatch(/^COPY --from=deps \/app\/node_modules \.\/node_modules$/m);
    expect(finalStage).toMatch(/^WORKDIR \/app$/m);
    expect(finalStage).toMatch(/^ENTRYPOINT \["node", "--optimize-for-size", "dist\/cli\/main\.js"\]$/m);
    expect(finalStage).toMatch(/^CMD \["run"\]$/m);
    const user = /^USER (\d+):(\d+)$/m.exec(finalStage);
    expect(user, "USER uid:gid").not.toBeNull();
    expect(Number(user?.[1])).toBeGreaterThan(0);
    // The chart runs the same uid and loads the built-in dictionaries from where the image has them.
    const values = parse(readFileSync(path.join(repoRoot, "charts/vnf-operator/values.yaml"), "utf8")) as {
      podSecurityContext: { runAsUser: number };
      builtinDictionaryDir: string;
    };
    expect(values.podSecurityContext.runAsUser).toBe(Number(user?.[1]));
    expect(values.builtinDictionaryDir).toBe("/app/dictionaries");
  });

  it(".dockerignore lets in only what the Dockerfile copies", () => {
    const lines = readFileSync(path.join(repoRoot, ".dockerignore"), "utf8")
      .split("\n")
      .filter((l) => l.trim() && !l.startsWith("#"));
    expect(lines[0]).toBe("*");
    expect(lines.slice(1).sort()).toEqual([
      "!.npmrc",
      "!dictionaries",
      "!package-lock.json",
      "!package.json",
      "!src",
      "!tsconfig.build.json",
      "!tsconfig.json",
    ]);
  });
});
