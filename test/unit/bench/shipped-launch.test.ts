// How the scale bench starts the operator "as shipped": the image's ENTRYPOINT node flags and ENV, the
// chart's NODE_OPTIONS with a memory share resolved against the chart's limit. Read from the real
// Dockerfile and values.yaml too, so that the bench cannot drift from what users run.
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import {
  imageEnv,
  imageNodeFlags,
  memoryQuantityBytes,
  podNodeOptions,
  shippedLaunch,
} from "../../../bench/scale/operator.ts";

const root = path.resolve(import.meta.dirname, "../../..");

describe("the image's node flags and environment", () => {
  const dockerfile = [
    "FROM base AS deps",
    "ENV MALLOC_ARENA_MAX=8",
    'ENTRYPOINT ["node", "--early", "x.js"]',
    "FROM runtime",
    "ENV NODE_ENV=production",
    "ENV MALLOC_ARENA_MAX=2",
    'ENTRYPOINT ["node", "--optimize-for-size", "dist/cli/main.js"]',
  ].join("\n");
  it("reads the final stage's ENTRYPOINT flags (between node and the script)", () => {
    expect(imageNodeFlags(dockerfile)).toEqual(["--optimize-for-size"]);
  });
  it("reads the final stage's ENV only", () => {
    expect(imageEnv(dockerfile)).toEqual({ NODE_ENV: "production", MALLOC_ARENA_MAX: "2" });
  });
  it("refuses an ENTRYPOINT that does not start node", () => {
    expect(() => imageNodeFlags('FROM x\nENTRYPOINT ["sh", "-c", "run"]')).toThrow(/does not start node/);
  });
});

describe("the chart's NODE_OPTIONS as the pod resolves them", () => {
  it.each([
    ["512Mi", 512 * 2 ** 20],
    ["1Gi", 2 ** 30],
    ["500M", 500e6],
    ["268435456", 268435456],
  ])("%s is %i bytes", (quantity, bytes) => {
    expect(memoryQuantityBytes(quantity)).toBe(bytes);
  });
  it("resolves --max-old-space-size-percentage against the memory limit, keeps the rest", () => {
    expect(podNodeOptions("--max-semi-space-size=1 --max-old-space-size-percentage=50", "512Mi")).toEqual([
      "--max-semi-space-size=1",
      "--max-old-space-size=256",
    ]);
    expect(() => podNodeOptions("--max-old-space-size-percentage=50", undefined)).toThrow(/limits.memory/);
  });
});

describe("shippedLaunch, from this repository's Dockerfile and chart", () => {
  it("is the ENTRYPOINT's flags then the chart's NODE_OPTIONS, with the image's MALLOC_ARENA_MAX", () => {
    const dockerfile = readFileSync(path.join(root, "Dockerfile"), "utf8");
    const values = parse(readFileSync(path.join(root, "charts/vnf-operator/values.yaml"), "utf8")) as {
      nodeOptions: string;
    };
    const launch = shippedLaunch();
    expect(launch.nodeArgs.slice(0, imageNodeFlags(dockerfile).length)).toEqual(imageNodeFlags(dockerfile));
    expect(launch.nodeArgs.length).toBe(
      imageNodeFlags(dockerfile).length + values.nodeOptions.split(" ").filter(Boolean).length,
    );
    const arenas = imageEnv(dockerfile).MALLOC_ARENA_MAX;
    expect(launch.env).toEqual(arenas === undefined ? {} : { MALLOC_ARENA_MAX: arenas });
  });
});
