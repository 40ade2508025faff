import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Database } from "better-sqlite3";
import { createSqlSessionDatabase, type SqlSessionDatabase } from "../src/sql/index.js";
import { createOwnedKysely, parseSqlConnectionString } from "../src/sql/sql-connection.js";
import { SqlStoreContext } from "../src/sql/sql-store-context.js";
import { SqliteDurableLog } from "../src/sql/sqlite-durable-log.js";
import type { DataSync } from "../src/sql/sqlite-wal-flush.js";

/** A temporary folder for SQLite files, removed by `remove()`. */
export interface SqliteTestFolder {
  readonly path: string;
  /** The connection string of a database file in the folder. */
  connection(fileName?: string): string;
  remove(): Promise<void>;
}

export async function createSqliteTestFolder(): Promise<SqliteTestFolder> {
  const path = await mkdtemp(join(tmpdir(), "lash-sql-test-"));
  return {
    path,
    connection: (fileName = "lash.db") => `sqlite:${join(path, fileName)}`,
    remove: () => rm(path, { recursive: true, force: true }),
  };
}

/** A migrated SQLite database file in a fresh temporary folder. */
export async function createMigratedSqliteDatabase(): Promise<{
  database: SqlSessionDatabase;
  folder: SqliteTestFolder;
  close(): Promise<void>;
}> {
  const folder = await createSqliteTestFolder();
  const database = createSqlSessionDatabase({ connection: folder.connection() });
  await database.migrateToLatest();
  return {
    database,
    folder,
    async close() {
      await database.destroy();
      await folder.remove();
    },
  };
}

/** A migrated store context over a SQLite connection string, built as the store builds its own, with the pieces tests read. */
export interface SqliteTestContext {
  readonly context: SqlStoreContext;
  /** The better-sqlite3 handle (throws before the connection opened). */
  handle(): Database;
  /** The connection's durable log (`undefined` for `:memory:`). */
  durableLog(): SqliteDurableLog | undefined;
}

/**
 * Opens `connection` as `createSqlSessionDatabase` does and migrates it. `datasync` stands in for
 * the disk's flush of the log (its durable log is built with it in place of the store's own).
 * Destroy `context` when done.
 */
export async function openSqliteTestContext(
  connection: string,
  options: { readonly datasync?: DataSync } = {},
): Promise<SqliteTestContext> {
  const target = parseSqlConnectionString(connection);
  let opened: Database | undefined;
  let durableLog: SqliteDurableLog | undefined;
  const kysely = createOwnedKysely(target, { busyTimeoutMs: 1000, maxConnections: 1, connectTimeoutMs: 1000 }, (handle, log) => {
    opened = handle;
    durableLog = log;
    if (log !== undefined && options.datasync !== undefined && target.dialect === "sqlite") {
      void log.close();
      durableLog = new SqliteDurableLog(handle, target.filename, { datasync: options.datasync });
    }
  });
  const context = new SqlStoreContext({
    kysely,
    dialect: "sqlite",
    schema: undefined,
    busyTimeoutMs: 1000,
    target: "test",
    ownsKysely: true,
    sqliteHandle: () => opened,
    sqliteDurableLog: () => durableLog,
  });
  await context.migrateToLatest();
  return {
    context,
    handle: () => {
      if (opened === undefined) throw new Error("the store opened no connection");
      return opened;
    },
    durableLog: () => durableLog,
  };
}
