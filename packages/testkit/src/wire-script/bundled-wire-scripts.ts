import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

/**
 * The folder of the provider wire scripts that ship with `@lash/testkit` (verbatim copies of the
 * public lash project's scripts), for `loadWireScripts`. Works from the sources and from the built
 * package (whose `dist` bundle sits next to `src`).
 */
export function bundledWireScriptsDirectory(): string {
  const candidates = [new URL("./fixtures/", import.meta.url), new URL("../src/wire-script/fixtures/", import.meta.url)];
  for (const candidate of candidates) {
    const path = fileURLToPath(candidate);
    if (existsSync(path)) return path;
  }
  throw new Error(
    `the provider wire scripts of @lash/testkit are missing (looked in ${candidates.map((candidate) => fileURLToPath(candidate)).join(" and ")})`,
  );
}
