import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "vite";
import type { TestProject } from "vitest/node";
import { bundleServerCli } from "../../server/test/bundle-server.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** The console built from the current sources, for `LASH_CONSOLE_DIR`. */
    consoleBuild: string;
    /** The `lash-server` command bundled into one file, run with `node <bundle>`. */
    consoleServerBundle: string;
  }
}

const consoleRoot = fileURLToPath(new URL("..", import.meta.url));

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

  const server = await bundleServerCli("lash-console-server-");
  project.provide("consoleBuild", consoleBuild);
  project.provide("consoleServerBundle", server.outfile);
  return async () => {
    await rm(consoleBuild, { recursive: true, force: true });
    await server.remove();
  };
}
