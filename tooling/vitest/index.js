import { defineProject } from "vitest/config";

/**
 * Workspace packages resolve through their "@lash/source" export condition, so tests always run
 * the TypeScript sources and never a stale `dist`. Vite applies `resolve.conditions` to client
 * code and `ssr.resolve.conditions` to the Node code tests run as; both get the condition.
 */
const conditions = ["@lash/source", "module", "node", "development|production"];

/** The shared per-package test project. */
export function lashProject(name, overrides = {}) {
  return defineProject({
    resolve: { conditions },
    ssr: { resolve: { conditions } },
    ...overrides,
    test: {
      name,
      environment: "node",
      restoreMocks: true,
      // A timeout only catches a hang. Tests talk to a real PostgreSQL and start child processes on
      // shared two-core machines, where a healthy test can take several seconds.
      testTimeout: 20_000,
      hookTimeout: 30_000,
      include: ["src/**/*.test.ts", "test/**/*.test.ts", "*.test.mjs", "scripts/**/*.test.mjs"],
      ...overrides.test,
    },
  });
}
