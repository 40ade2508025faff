import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, join, parse } from "node:path";
import { fileURLToPath } from "node:url";

/** The file every console page starts from. */
const INDEX = "index.html";

/** Content types of the files a console build holds; any other file is not served. */
const CONTENT_TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
  ".json": "application/json",
};

/** A built asset's name: one path segment, no dot first (Vite's `name-hash.ext`). */
const ASSET_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}$/;

function hasIndex(directory: string): boolean {
  return existsSync(join(directory, INDEX));
}

/**
 * Where the built console is: `configured` when given (`LASH_CONSOLE_DIR` for the commands); else a
 * `console` folder beside this module (a package that ships the console in its `dist`); else, from
 * this module's folder upwards, the first `apps/console/dist` of a checkout of the repository (the
 * server from source, its bundle, or `lash serve` run with `pnpm lash`). `undefined` when none
 * holds an `index.html`.
 */
export function findConsoleDirectory(configured?: string, from: string = dirname(fileURLToPath(import.meta.url))): string | undefined {
  if (configured !== undefined) return hasIndex(configured) ? configured : undefined;
  const beside = join(from, "console");
  if (hasIndex(beside)) return beside;
  let directory = from;
  for (;;) {
    const candidate = join(directory, "apps", "console", "dist");
    if (hasIndex(candidate)) return candidate;
    const parent = dirname(directory);
    if (parent === directory || directory === parse(directory).root) return undefined;
    directory = parent;
  }
}

/** A file of the console, ready to serve. */
export interface ConsoleFile {
  readonly body: Uint8Array;
  readonly contentType: string;
}

/** Reads `index.html` (`name` undefined) or one file of `assets/`; `undefined` for a name that is not a built asset. */
export async function readConsoleFile(directory: string, name?: string): Promise<ConsoleFile | undefined> {
  if (name !== undefined && !ASSET_NAME.test(name)) return undefined;
  const path = name === undefined ? join(directory, INDEX) : join(directory, "assets", name);
  const contentType = CONTENT_TYPES[parse(path).ext.toLowerCase()];
  if (contentType === undefined) return undefined;
  try {
    return { body: new Uint8Array(await readFile(path)), contentType };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT" || (error as NodeJS.ErrnoException).code === "EISDIR") return undefined;
    throw error;
  }
}
