import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createSqlSessionDatabase, type SqlSessionDatabase } from "../src/sql/index.js";

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
