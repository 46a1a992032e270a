import { defineConfig } from "vitest/config";

// Layers (docs/design.md): pure decision functions, reconcilers against fakes, the engine against
// simulators, the vendors' own SDKs against the simulators (conformance), and integration against one
// real kube-apiserver + etcd that the integration project's globalSetup starts per run.
export default defineConfig({
  test: {
    projects: [
      // groupOrder: the conformance layer runs after the others (its Python SDK processes would compete
      // for the CPUs with the timing-sensitive tests). Every project sets one: with one worker (2 CPUs),
      // vitest puts the files of projects left at groupOrder 0 in a sequential group it runs last.
      { test: { name: "unit", include: ["test/unit/**/*.test.ts"], sequence: { groupOrder: 1 } } },
      // Reconcilers against a fake API (test/controllers/fakes): seconds, no API server.
      {
        test: {
          name: "controllers",
          include: ["test/controllers/**/*.test.ts"],
          sequence: { groupOrder: 1 },
        },
      },
      {
        test: {
          name: "engine",
          include: ["test/engine/**/*.test.ts"],
          testTimeout: 30_000,
          sequence: { groupOrder: 1 },
        },
      },
      {
        test: {
          name: "conformance",
          include: ["test/conformance/**/*.test.ts"],
          globalSetup: ["test/conformance/global-setup.ts"],
          sequence: { groupOrder: 2 },
          testTimeout: 120_000,
          hookTimeout: 600_000,
        },
      },
      {
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          globalSetup: ["test/support/global-setup.ts"],
          sequence: { groupOrder: 1 },
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      // The permanent secrets scan (test/scan): after the integration project, on the same control
      // plane (global-setup.ts shares it), it searches every operator's logs, Events, statuses and
      // /metrics for every credential value the run's Secrets held.
      {
        test: {
          name: "scan",
          include: ["test/scan/**/*.test.ts"],
          globalSetup: ["test/support/global-setup.ts"],
          sequence: { groupOrder: 3 },
          testTimeout: 120_000,
        },
      },
    ],
  },
});
