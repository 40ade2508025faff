import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    /** The `lash-server` command bundled into one file, run with `node <bundle>`. */
    serverBundle: string;
  }
}

const packageRoot = fileURLToPath(new URL("..", import.meta.url));

/**
 * Bundles `src/server-cli.ts` into a new folder of this package's cache (named after `prefix`), so
 * child-process tests start the real command without a TypeScript loader. The drivers stay external
 * and resolve from this package's node_modules, as they would installed. (The build of
 * `bundleForChildProcess` from `@lash/test-infrastructure/child-process`, written out: a vitest
 * global setup is loaded without the `@lash/source` condition, so it cannot import a workspace
 * package's sources.) The console's browser tests bundle the server through this too.
 */
export async function bundleServerCli(prefix: string): Promise<{ readonly outfile: string; remove(): Promise<void> }> {
  const cache = join(packageRoot, "node_modules", ".cache");
  await mkdir(cache, { recursive: true });
  const directory = await mkdtemp(join(cache, prefix));
  const outfile = join(directory, "server-cli.mjs");
  await build({
    entryPoints: [join(packageRoot, "src", "server-cli.ts")],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node22",
    conditions: ["@lash/source"],
    external: ["better-sqlite3", "pg", "pg-native"],
    // `pg` and a few bundled dependencies are CommonJS: give the bundle a `require`.
    banner: { js: "import { createRequire as lashCreateRequire } from 'node:module'; const require = lashCreateRequire(import.meta.url);" },
    logLevel: "error",
  });
  return { outfile, remove: () => rm(directory, { recursive: true, force: true }) };
}

/** Bundles the server once per test run of this package. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const bundled = await bundleServerCli("lash-server-");
  project.provide("serverBundle", bundled.outfile);
  return bundled.remove;
}
