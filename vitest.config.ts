import { defineConfig } from "vitest/config";

// Three layers (DESIGN.md): pure decision functions, the engine against simulators, and integration
// against one real kube-apiserver + etcd that the integration project's globalSetup starts per run.
export default defineConfig({
  test: {
    projects: [
      { test: { name: "unit", include: ["test/unit/**/*.test.ts"] } },
      { test: { name: "engine", include: ["test/engine/**/*.test.ts"], testTimeout: 30_000 } },
      {
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          globalSetup: ["test/support/global-setup.ts"],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
