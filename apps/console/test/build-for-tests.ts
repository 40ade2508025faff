import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build as bundle } from "esbuild";
import { build } from "vite";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    /** The console built from the current sources, for `LASH_CONSOLE_DIR`. */
    consoleBuild: string;
    /** The `lash-server` command bundled into one file, run with `node <bundle>`. */
    consoleServerBundle: string;
  }
}

const consoleRoot = fileURLToPath(new URL("..", import.meta.url));
const serverRoot = join(consoleRoot, "..", "server");

/**
 * Builds the console from its sources into a folder of this run (never `dist`, which the build step
 * of the test command owns), and bundles `lash-server` once, so the browser tests drive the real
 * command with the console of this checkout. The bundle sits in the server package's own cache
 * folder: its external drivers (better-sqlite3, pg) resolve from the server's node_modules, as
 * they would installed.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const consoleCache = join(consoleRoot, "node_modules", ".cache");
  await mkdir(consoleCache, { recursive: true });
  const consoleBuild = await mkdtemp(join(consoleCache, "lash-console-build-"));
  await build({ root: consoleRoot, logLevel: "error", build: { outDir: consoleBuild, emptyOutDir: true } });

  const serverCache = join(serverRoot, "node_modules", ".cache");
  await mkdir(serverCache, { recursive: true });
  const serverDirectory = await mkdtemp(join(serverCache, "lash-console-server-"));
  const outfile = join(serverDirectory, "server-cli.mjs");
  await bundle({
    entryPoints: [join(serverRoot, "src", "server-cli.ts")],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node22",
    conditions: ["@lash/source"],
    external: ["better-sqlite3", "pg", "pg-native"],
    banner: { js: "import { createRequire as lashCreateRequire } from 'node:module'; const require = lashCreateRequire(import.meta.url);" },
    logLevel: "error",
  });
  project.provide("consoleBuild", consoleBuild);
  project.provide("consoleServerBundle", outfile);
  return async () => {
    await rm(consoleBuild, { recursive: true, force: true });
    await rm(serverDirectory, { recursive: true, force: true });
  };
}
