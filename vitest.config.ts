import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";

// Globs name config files, not folders: vitest turns every matched folder into a project even
// without a config, and such a project would miss the "@lash/source" condition of @lash/vitest-config.
export default defineConfig({
  test: {
    // Most test files wait: on child processes, PostgreSQL, sockets and a browser. vitest's default
    // of one worker per core but one leaves a two-core machine running one file at a time, one core
    // idle through every wait; two files at once there took the run from 13.5 to 9.5 minutes.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    projects: [
      "packages/*/vitest.config.ts",
      "packages/adapters/*/vitest.config.ts",
      "apps/*/vitest.config.ts",
      "examples/vitest.config.ts",
      "tooling/*/vitest.config.mjs",
    ],
  },
});
