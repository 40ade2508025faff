import { isAbsolute, resolve } from "node:path";
import { LashError, StoreUnavailableError } from "@lash/protocol";
import { Kysely, PostgresDialect, type SqliteDatabase, SqliteDialect } from "kysely";
import type { Pool } from "pg";
import { isSqliteBusy } from "./sql-errors.js";
import type { LashSqlSchema } from "./sql-schema.js";
import { SqliteDurableLog } from "./sqlite-durable-log.js";

/** Where a connection string points. */
export type SqlConnectionTarget =
  /** `filename` is an absolute path, or `:memory:` for a private in-memory database. */
  { readonly dialect: "sqlite"; readonly filename: string } | { readonly dialect: "postgres"; readonly connectionString: string };

/** The in-memory SQLite filename. */
export const SQLITE_MEMORY = ":memory:";

/**
 * Hides the password of a database URL (in the user-info part and in a `password=` parameter), so
 * that a connection string can be named in an error message or a log.
 */
export function redactConnectionString(connection: string): string {
  return connection.replace(/(\/\/[^/@:]*:)[^/@]*@/, "$1***@").replace(/([?&]password=)[^&]*/gi, "$1***");
}

/**
 * Parses a connection string:
 * - `sqlite:./relative/path.db` (resolved against `cwd`), `sqlite:/absolute/path.db`,
 *   `sqlite:///absolute/path.db`, `sqlite::memory:`;
 * - `postgres://...` or `postgresql://...` (passed to `pg` as is).
 *
 * @throws LashError `invalid_configuration` naming the (redacted) value for anything else.
 */
export function parseSqlConnectionString(connection: string, cwd: string = process.cwd()): SqlConnectionTarget {
  if (typeof connection !== "string" || connection.trim() === "") {
    throw new LashError(
      "invalid_configuration",
      `the SQL connection string must be a non-empty string, got ${JSON.stringify(connection) ?? String(connection)}`,
    );
  }
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(connection)?.[1]?.toLowerCase();
  if (scheme === "sqlite") {
    let path = connection.slice("sqlite:".length);
    // `sqlite:///abs/x.db` is the URL spelling of `sqlite:/abs/x.db`.
    if (path.startsWith("//")) path = path.slice(2);
    if (path === SQLITE_MEMORY) return { dialect: "sqlite", filename: SQLITE_MEMORY };
    if (path === "") {
      throw new LashError(
        "invalid_configuration",
        `the SQLite connection string \`${connection}\` names no file: use \`sqlite:./path/to/lash.db\`, \`sqlite:/absolute/path.db\` or \`sqlite::memory:\``,
      );
    }
    return { dialect: "sqlite", filename: isAbsolute(path) ? path : resolve(cwd, path) };
  }
  if (scheme === "postgres" || scheme === "postgresql") {
    if (!URL.canParse(connection)) {
      throw new LashError(
        "invalid_configuration",
        `the PostgreSQL connection string \`${redactConnectionString(connection)}\` is not a valid URL`,
      );
    }
    return { dialect: "postgres", connectionString: connection };
  }
  throw new LashError(
    "invalid_configuration",
    `unsupported SQL connection string \`${redactConnectionString(connection)}\`${scheme === undefined ? " (no scheme)" : ` (scheme \`${scheme}:\`)`}: use \`sqlite:<path>\`, \`sqlite::memory:\` or \`postgres://...\``,
  );
}

/** How a database is named in error messages: a path, or a URL without its password. */
export function describeTarget(target: SqlConnectionTarget): string {
  return target.dialect === "sqlite" ? `sqlite:${target.filename}` : redactConnectionString(target.connectionString);
}

function isMissingPackage(error: unknown, packageName: string): boolean {
  const code = typeof error === "object" && error !== null ? (error as { code?: unknown }).code : undefined;
  return (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") && error instanceof Error && error.message.includes(packageName);
}

/**
 * Imports an optional peer driver. Drivers are loaded on first use, never at import time, so that a
 * SQLite user never needs `pg` and a PostgreSQL user never needs `better-sqlite3`; a missing one
 * is an `invalid_configuration` error that names the package to install.
 */
export async function importOptionalDriver<Module>(packageName: string, scheme: string, load: () => Promise<Module>): Promise<Module> {
  try {
    return await load();
  } catch (error) {
    if (!isMissingPackage(error, packageName)) throw error;
    throw new LashError(
      "invalid_configuration",
      `a \`${scheme}\` connection needs the optional peer dependency \`${packageName}\`, which is not installed: add it next to @lash/stores (\`npm install ${packageName}\`)`,
      { cause: error },
    );
  }
}

/** Options of a SQLite database the store opens itself. */
export interface SqliteOpenOptions {
  /** How long to wait for a lock while switching a file to WAL (other waits are the store's). */
  readonly busyTimeoutMs: number;
}

/**
 * Opens a better-sqlite3 database (imported here, on first use, so that PostgreSQL users never need
 * it). Files use WAL (readers never wait for a writer) at `synchronous = NORMAL`, with the log
 * flushed and checkpointed off the event loop by a `SqliteDurableLog` (ADR 0038), handed to
 * `onOpen`; a database that is not in WAL mode (`:memory:`) stays at `synchronous = FULL`.
 * Temporary data (the savepoint journal of a group commit) stays in memory. `busy_timeout` ends
 * at 0: better-sqlite3 is synchronous, so its own busy wait would block the event loop, and a lock
 * held by another connection of this process could never be released while it waits; the store
 * waits for locks asynchronously instead.
 */
export async function openSqliteDatabase(
  filename: string,
  options: SqliteOpenOptions,
  onOpen?: (handle: import("better-sqlite3").Database, durableLog: SqliteDurableLog | undefined) => void,
): Promise<SqliteDatabase> {
  const { default: BetterSqlite3 } = await importOptionalDriver("better-sqlite3", "sqlite:", () => import("better-sqlite3"));
  let database: import("better-sqlite3").Database;
  let durableLog: SqliteDurableLog | undefined;
  try {
    database = new BetterSqlite3(filename);
  } catch (error) {
    throw new StoreUnavailableError(
      `cannot open the SQLite database sqlite:${filename}: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  try {
    database.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs))}`);
    const journalMode = filename === SQLITE_MEMORY ? "memory" : String(database.pragma("journal_mode = WAL", { simple: true }));
    database.pragma("temp_store = MEMORY");
    database.pragma("busy_timeout = 0");
    // The durable log sets `synchronous = NORMAL` for itself.
    if (journalMode.toLowerCase() === "wal") durableLog = new SqliteDurableLog(database, filename);
    else database.pragma("synchronous = FULL");
  } catch (error) {
    void durableLog?.close();
    database.close();
    // Another process holding the file's lock (creating or migrating it) is not a broken file: the
    // driver's SQLITE_BUSY goes on as it is, so that the store waits and retries the open, and names
    // the lock if it never ends (`SqliteDatabaseBusyError`).
    if (isSqliteBusy(error)) throw error;
    throw new StoreUnavailableError(
      `cannot prepare the SQLite database sqlite:${filename}: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  onOpen?.(database, durableLog);
  return withStatementCache(database, durableLog);
}

/** How many prepared statements a SQLite connection keeps: far more than the store's distinct queries. */
const STATEMENT_CACHE_SIZE = 256;

/**
 * Kysely's SQLite driver prepares every query anew; a commit runs about a dozen statements, and
 * preparing them is a large share of its cost. The store's queries repeat with new parameters, so
 * the connection keeps its prepared statements by SQL text (least recently used dropped first).
 * Pragmas are never kept: some (`synchronous`) take effect when prepared, not when run again.
 */
function withStatementCache(database: import("better-sqlite3").Database, durableLog: SqliteDurableLog | undefined): SqliteDatabase {
  const cache = new Map<string, import("better-sqlite3").Statement>();
  return {
    close: () => {
      // The store closes the durable log first and waits for it (`SqlStoreContext.destroy`); this
      // only covers a Kysely instance destroyed some other way.
      void durableLog?.close();
      cache.clear();
      database.close();
    },
    prepare: (text: string) => {
      if (/^\s*pragma\b/i.test(text)) return database.prepare(text);
      let statement = cache.get(text);
      if (statement) {
        cache.delete(text);
      } else {
        statement = database.prepare(text);
        if (cache.size >= STATEMENT_CACHE_SIZE) {
          const oldest = cache.keys().next().value;
          if (oldest !== undefined) cache.delete(oldest);
        }
      }
      cache.set(text, statement);
      return statement;
    },
  };
}

/** Options of a PostgreSQL pool the store opens itself. */
export interface PostgresPoolOptions {
  readonly maxConnections: number;
  readonly connectTimeoutMs: number;
}

/** Opens a `pg` pool (imported here, on first use, so that SQLite users never need it). */
export async function openPostgresPool(connectionString: string, options: PostgresPoolOptions): Promise<Pool> {
  const { default: pg } = await importOptionalDriver("pg", "postgres:", () => import("pg"));
  const pool = new pg.Pool({
    connectionString,
    max: options.maxConnections,
    connectionTimeoutMillis: options.connectTimeoutMs,
  });
  // An idle client that loses its server emits `error` on the pool; unhandled, that event would end
  // the process. The next query that needs a connection fails and reports it instead.
  pool.on("error", () => undefined);
  return pool;
}

/** Connection options of a database the store opens itself. */
export interface OwnedKyselyOptions {
  readonly busyTimeoutMs: number;
  readonly maxConnections: number;
  readonly connectTimeoutMs: number;
}

/**
 * A Kysely instance over `target`. Nothing connects yet: the driver is imported and the connection
 * opened on the first query, so a bad path or an unreachable server surfaces from the first store
 * operation (as `StoreUnavailableError`), and a missing driver as `invalid_configuration`.
 */
export function createOwnedKysely(
  target: SqlConnectionTarget,
  options: OwnedKyselyOptions,
  onSqliteOpen?: (handle: import("better-sqlite3").Database, durableLog: SqliteDurableLog | undefined) => void,
): Kysely<LashSqlSchema> {
  if (target.dialect === "sqlite") {
    return new Kysely<LashSqlSchema>({
      dialect: new SqliteDialect({
        database: () => openSqliteDatabase(target.filename, { busyTimeoutMs: options.busyTimeoutMs }, onSqliteOpen),
      }),
    });
  }
  return new Kysely<LashSqlSchema>({
    dialect: new PostgresDialect({
      pool: () =>
        openPostgresPool(target.connectionString, { maxConnections: options.maxConnections, connectTimeoutMs: options.connectTimeoutMs }),
    }),
  });
}
