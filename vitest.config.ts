import { defineConfig } from "vitest/config";

// Globs name config files, not folders: vitest turns every matched folder into a project even
// without a config, and such a project would miss the "@lash/source" condition of @lash/vitest-config.
export default defineConfig({
  test: {
    projects: [
      "packages/*/vitest.config.ts",
      "packages/adapters/*/vitest.config.ts",
      "apps/*/vitest.config.ts",
      "examples/vitest.config.ts",
      "tooling/*/vitest.config.mjs",
    ],
  },
});
