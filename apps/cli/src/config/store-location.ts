import { isAbsolute, resolve } from "node:path";
import { usageError } from "../cli-error.js";

/** The forms a store location may take, for messages. */
export const STORE_FORMS = "sqlite:<file> (or a plain file path), postgres://... (or postgresql://...), or fs:<dir>";

const KNOWN_SCHEMES = ["sqlite", "postgres", "postgresql", "fs"] as const;

/**
 * `scheme:` at the start of a location. A single letter is a Windows drive (`C:\lash.db`), not a
 * scheme, so such a location stays a path.
 */
const SCHEME = /^([a-z][a-z0-9+.-]+):/i;

/** Edit distance, for "did you mean" on a mistyped scheme (`postgress`, `sqllite`). */
function distance(left: string, right: string): number {
  let previous = Array.from({ length: right.length + 1 }, (_, index) => index);
  for (let row = 1; row <= left.length; row += 1) {
    const current = [row];
    for (let column = 1; column <= right.length; column += 1) {
      const substitution = (previous[column - 1] ?? 0) + (left[row - 1] === right[column - 1] ? 0 : 1);
      current.push(Math.min((previous[column] ?? 0) + 1, (current[column - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[right.length] ?? 0;
}

function suggestion(scheme: string): string | undefined {
  const closest = KNOWN_SCHEMES.map((known) => ({ known, cost: distance(scheme, known) })).sort((a, b) => a.cost - b.cost)[0];
  // Close enough to be a typo: one wrong letter in `fs`, two in the longer names (`my:` is no `fs:`).
  if (closest === undefined || closest.cost > Math.max(1, Math.floor(closest.known.length / 3))) return undefined;
  return closest.known === "postgres" || closest.known === "postgresql" ? `${closest.known}://` : `${closest.known}:`;
}

/** `sqlite:` and `fs:` take a path; `//` before an absolute path is allowed (`sqlite:///var/lash.db`), a host is not. */
function pathAfterScheme(raw: string, rest: string, where: string): string {
  if (rest.startsWith("//") && !rest.startsWith("///"))
    throw usageError(`${where} ${JSON.stringify(raw)} is malformed: a file location has no host`, `a store is ${STORE_FORMS}`);
  const path = rest.replace(/^\/\/(?=\/)/, "");
  if (path === "") throw usageError(`${where} ${JSON.stringify(raw)} names no file`, `a store is ${STORE_FORMS}`);
  return path;
}

/**
 * Checks a store location and resolves it against `base` (the working directory, or the config
 * file's folder): `sqlite:<file>` and a plain path are a SQLite file, `postgres://` and
 * `postgresql://` a PostgreSQL URL, `fs:<dir>` the filesystem store; schemes are case-insensitive
 * and come back in lower case. Anything else that starts like a URL (`postgress://`, `postgres:/db`,
 * `sqllite:x`) is a usage error naming `where` and the accepted forms: read as a path it would
 * silently become a SQLite file named after the URL.
 */
export function normalizeStoreLocation(raw: string, base: string, where = "the store"): string {
  if (raw.trim() === "") throw usageError(`${where} is empty`, `a store is ${STORE_FORMS}`);
  const match = SCHEME.exec(raw);
  if (match === null) return `sqlite:${isAbsolute(raw) ? raw : resolve(base, raw)}`;
  const written = match[1] ?? "";
  const scheme = written.toLowerCase();
  const rest = raw.slice(written.length + 1);
  switch (scheme) {
    case "postgres":
    case "postgresql": {
      if (!rest.startsWith("//"))
        throw usageError(
          `${where} ${JSON.stringify(raw)} is malformed: a PostgreSQL URL starts with ${scheme}://`,
          `a store is ${STORE_FORMS}`,
        );
      const location = `${scheme}:${rest}`;
      try {
        new URL(location);
      } catch {
        throw usageError(`${where} is not a valid PostgreSQL URL: ${JSON.stringify(raw)}`, `a store is ${STORE_FORMS}`);
      }
      return location;
    }
    case "sqlite": {
      if (rest === ":memory:") return "sqlite::memory:";
      const path = pathAfterScheme(raw, rest, where);
      return `sqlite:${isAbsolute(path) ? path : resolve(base, path)}`;
    }
    case "fs":
      return `fs:${resolve(base, pathAfterScheme(raw, rest, where))}`;
    default: {
      const closest = suggestion(scheme);
      throw usageError(
        `${where} ${JSON.stringify(raw)} has an unknown scheme "${written}:"; a store is ${STORE_FORMS}`,
        closest === undefined ? "a path with a colon in its first part needs ./ in front (./my:store.db)" : `did you mean ${closest}?`,
      );
    }
  }
}

/** True for a (normalized) PostgreSQL location. */
export function isPostgresLocation(location: string): boolean {
  return /^postgres(ql)?:\/\//.test(location);
}
