import { mkdir } from "node:fs/promises";
import { dirname, isAbsolute, resolve } from "node:path";
import { InMemorySessionDatabase } from "@lash/core";
import { createFileSessionDatabase } from "@lash/stores/fs";
import { createSqlSessionDatabase, redactConnectionString } from "@lash/stores/sql";
import { createMemoryAccessStore } from "./access-store.js";
import { createFileAccessStore } from "./fs-access-store.js";
import type { ServerStore } from "./server-store.js";
import { createSqlAccessStore } from "./sql-access-store.js";

/** The forms a store location may take, for messages. */
export const STORE_FORMS = "sqlite:<file> (or a plain file path), postgres://... (or postgresql://...), fs:<dir>, or memory:";

/** A store location the server cannot use; the bin reports it as a usage error. */
export class StoreLocationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StoreLocationError";
  }
}

const SCHEME = /^([a-z][a-z0-9+.-]+):/i;

/**
 * Checks a store location and resolves relative paths against `base`, with the `lash` command's
 * rules: `sqlite:<file>` or a plain path is a SQLite file, `postgres://` and `postgresql://` a
 * PostgreSQL URL (`?schema=` picks a schema), `fs:<dir>` the filesystem store; schemes are
 * case-insensitive. `memory:` (the server's own) keeps sessions in the process, for trials and
 * benchmarks. Anything else that starts like a URL is refused rather than read as a file name.
 */
export function normalizeStoreLocation(raw: string, base: string): string {
  if (raw.trim() === "") throw new StoreLocationError(`the store location is empty; a store is ${STORE_FORMS}`);
  const match = SCHEME.exec(raw);
  if (match === null) return `sqlite:${isAbsolute(raw) ? raw : resolve(base, raw)}`;
  const written = match[1] ?? "";
  const rest = raw.slice(written.length + 1);
  const pathAfterScheme = (): string => {
    const path = rest.replace(/^\/\/(?=\/)/, "");
    if (path === "" || path.startsWith("//"))
      throw new StoreLocationError(`the store ${JSON.stringify(raw)} names no file; a store is ${STORE_FORMS}`);
    return resolve(base, path);
  };
  switch (written.toLowerCase()) {
    case "postgres":
    case "postgresql": {
      try {
        if (!rest.startsWith("//")) throw new Error("no //");
        new URL(raw);
      } catch {
        throw new StoreLocationError(`the store ${JSON.stringify(redactConnectionString(raw))} is not a valid PostgreSQL URL`);
      }
      return `${written.toLowerCase()}:${rest}`;
    }
    case "sqlite":
      return rest === ":memory:" ? "sqlite::memory:" : `sqlite:${pathAfterScheme()}`;
    case "fs":
      return `fs:${pathAfterScheme()}`;
    case "memory":
      if (rest !== "") throw new StoreLocationError(`the in-memory store takes no path: use memory:`);
      return "memory:";
    default:
      throw new StoreLocationError(`the store ${JSON.stringify(raw)} has an unknown scheme "${written}:"; a store is ${STORE_FORMS}`);
  }
}

/** Splits an optional `schema` query parameter off a PostgreSQL URL (the driver does not know it). */
function splitPostgresSchema(location: string): { connection: string; schema: string | undefined } {
  const url = new URL(location);
  const schema = url.searchParams.get("schema") ?? undefined;
  url.searchParams.delete("schema");
  return { connection: url.toString(), schema: schema === "" ? undefined : schema };
}

/** Options of `openServerStore`. */
export interface OpenServerStoreOptions {
  /**
   * Create or update a PostgreSQL database's tables first, the session store's (as `lash db
   * migrate`) and the server's own (API keys, session owners). A SQLite file is always migrated
   * on open, as the command does.
   */
  readonly migrate?: boolean;
}

/**
 * Opens the store at a normalized location (see `normalizeStoreLocation`). A SQLite file and its
 * folder are created and migrated on first use; a PostgreSQL database must be migrated (with
 * `migrate: true` or `lash-server --migrate`; `lash db migrate` creates the session tables only).
 * The server's own records go where the sessions are: tables in the same SQL database (and
 * schema), files under `<root>/server/` of a filesystem store, the process's memory for `memory:`.
 */
export async function openServerStore(location: string, options: OpenServerStoreOptions = {}): Promise<ServerStore> {
  if (location === "memory:") {
    const database = new InMemorySessionDatabase();
    return {
      description: "memory:",
      factory: database,
      openSession: (sessionId) => database.openSession(sessionId),
      listSessions: async (query) => database.listSessions(query),
      access: createMemoryAccessStore(),
      checkReady: async () => undefined,
      close: async () => undefined,
    };
  }
  if (location.startsWith("fs:")) {
    const root = location.slice("fs:".length);
    const database = createFileSessionDatabase({ root });
    return {
      description: location,
      factory: database,
      openSession: (sessionId) => database.openSession(sessionId),
      listSessions: (query) => database.listSessions(query),
      access: createFileAccessStore(root),
      checkReady: async () => {
        await database.listSessions({ limit: 1 });
      },
      close: () => database.close(),
    };
  }
  let database: ReturnType<typeof createSqlSessionDatabase>;
  let description: string;
  let access: ServerStore["access"];
  let postgres: ServerStore["postgres"];
  if (/^postgres(ql)?:\/\//.test(location)) {
    const { connection, schema } = splitPostgresSchema(location);
    postgres = { connectionString: connection, schema };
    database = createSqlSessionDatabase({ connection, ...(schema === undefined ? {} : { schema }) });
    description = redactConnectionString(location);
    const sqlAccess = createSqlAccessStore({ dialect: "postgres", connectionString: connection, schema }, description);
    access = sqlAccess;
    try {
      if (options.migrate === true) {
        await database.migrateToLatest();
        await sqlAccess.migrate();
      } else {
        // Fail at open, naming the flag, rather than at the first request that needs a key.
        await sqlAccess.checkMigrated();
      }
    } catch (error) {
      await Promise.all([database.destroy(), sqlAccess.close()]).catch(() => undefined);
      throw error;
    }
  } else {
    const file = location.slice("sqlite:".length);
    if (file !== ":memory:") await mkdir(dirname(file), { recursive: true });
    database = createSqlSessionDatabase({ connection: location });
    description = location;
    // A second connection to `:memory:` would be another, empty database: its records stay in the process.
    const sqlAccess = file === ":memory:" ? undefined : createSqlAccessStore({ dialect: "sqlite", filename: file }, description);
    access = sqlAccess ?? createMemoryAccessStore();
    try {
      await database.migrateToLatest();
      await sqlAccess?.migrate();
    } catch (error) {
      await Promise.all([database.destroy(), access.close()]).catch(() => undefined);
      throw error;
    }
  }
  return {
    description,
    factory: database,
    openSession: (sessionId) => database.openSession(sessionId),
    listSessions: (query) => database.listSessions(query),
    access,
    checkReady: async () => {
      await database.listSessions({ limit: 1 });
    },
    close: async () => {
      await Promise.all([database.destroy(), access.close()]);
    },
    ...(postgres === undefined ? {} : { postgres }),
  };
}
