import { mkdir, mkdtemp } from "node:fs/promises";
import { join } from "node:path";
import { build } from "esbuild";

/** What to bundle for a child process. */
export interface ChildProcessBundleOptions {
  /** The TypeScript entry point. */
  readonly entry: string;
  /**
   * The package whose `node_modules` the external drivers resolve from: the bundle is written to
   * `<packageRoot>/node_modules/.cache/`, as the package would load them once installed.
   */
  readonly packageRoot: string;
  /** Packages left out of the bundle (native or CommonJS drivers: `better-sqlite3`, `pg`, ...). */
  readonly external?: readonly string[];
}

/**
 * Bundles a TypeScript entry into one ESM file for `node <file>`, reading workspace packages from
 * their sources (the `@lash/source` condition). Tests that start many child processes (crash loops,
 * worker processes, a command-line program) use it: loading hundreds of TypeScript files through a
 * transpiler at every start would dominate the run. `esbuild` is an optional peer of `@lash/testkit`,
 * needed only by this entry. Returns the bundle's path.
 */
export async function bundleForChildProcess(options: ChildProcessBundleOptions): Promise<string> {
  const cache = join(options.packageRoot, "node_modules", ".cache");
  await mkdir(cache, { recursive: true });
  const name = options.entry.split(/[\\/]/).at(-1)?.replace(/\.ts$/, "") ?? "bundle";
  const outfile = join(await mkdtemp(join(cache, `lash-${name}-`)), `${name}.mjs`);
  await build({
    entryPoints: [options.entry],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    conditions: ["@lash/source"],
    external: [...(options.external ?? [])],
    // Drivers such as `pg` are CommonJS: give the bundle a `require` for them.
    banner: { js: "import { createRequire as lashCreateRequire } from 'node:module'; const require = lashCreateRequire(import.meta.url);" },
    logLevel: "error",
  });
  return outfile;
}
