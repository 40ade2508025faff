import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    /** The `lash` command bundled into one file, run with `node <bundle>`. */
    cliBundle: string;
  }
}

const packageRoot = fileURLToPath(new URL("..", import.meta.url));

/**
 * Bundles `src/cli.ts` once per test run: the tests start the command many times, and loading the
 * TypeScript sources of every workspace package through a transpiler each time would dominate.
 * The drivers stay external and resolve from this package's node_modules, as they would installed.
 * (The same build as `bundleForChildProcess` of `@lash/test-infrastructure/child-process`, written out here:
 * a vitest global setup is loaded without the `@lash/source` condition, so it cannot import a
 * workspace package's sources.)
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const cache = join(packageRoot, "node_modules", ".cache");
  await mkdir(cache, { recursive: true });
  const directory = await mkdtemp(join(cache, "lash-cli-"));
  const outfile = join(directory, "cli.mjs");
  await build({
    entryPoints: [join(packageRoot, "src", "cli.ts")],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    conditions: ["@lash/source"],
    external: ["better-sqlite3", "pg", "pg-native"],
    // `pg` and a few bundled dependencies are CommonJS: give the bundle a `require`.
    banner: { js: "import { createRequire as lashCreateRequire } from 'node:module'; const require = lashCreateRequire(import.meta.url);" },
    logLevel: "error",
  });
  project.provide("cliBundle", outfile);
  return async () => {
    await rm(directory, { recursive: true, force: true });
  };
}
