import { join } from "node:path";
import {
  dropSchema,
  freshSchemaName,
  POSTGRES_REQUIRED,
  POSTGRES_URL,
  postgresUnavailableReason,
} from "@lash/test-infrastructure/postgres";
import Database from "better-sqlite3";
import { Kysely, PostgresDialect, SqliteDialect } from "kysely";
import type { Migrator } from "kysely/migration";
import pg from "pg";
import { createSqlSessionDatabase, type LashSqlSchema, type SqlCommitHook, type SqlSessionDatabase } from "../src/sql/index.js";
import { createMigrator, rerunWhileDisturbed } from "../src/sql/sql-migration-runner.js";
import { createSqliteTestFolder } from "./sqlite.js";

/** Fresh, empty storage on one backend: a database file, or a PostgreSQL schema of its own. */
export interface SqlTestStorage {
  /** PostgreSQL: the schema of its own; SQLite: none. */
  readonly schema: string | undefined;
  /**
   * A new database object over this storage, with connections of its own (opened by the store, so
   * SQLite may take its synchronous commit path); migrated unless told; with `onCommit` when given.
   */
  open(options?: { migrate?: boolean; onCommit?: SqlCommitHook }): Promise<SqlSessionDatabase>;
  /** A caller-built Kysely instance on this storage (closed by `remove`). */
  kysely(): Kysely<LashSqlSchema>;
  /** The options that reach this storage through a caller-built Kysely instance. */
  kyselyOptions(): { kysely: Kysely<LashSqlSchema>; dialect: "sqlite" | "postgres"; schema?: string };
  /** Destroys every object opened here and deletes the storage. */
  remove(): Promise<void>;
}

export interface SqlTestBackend {
  readonly name: "sqlite" | "postgres";
  /** Set when the backend's tests skip (PostgreSQL unreachable outside CI); shown in the titles. */
  readonly skipReason: string | undefined;
  createStorage(): Promise<SqlTestStorage>;
}

const sqliteBackend: SqlTestBackend = {
  name: "sqlite",
  skipReason: undefined,
  async createStorage() {
    const folder = await createSqliteTestFolder();
    const opened: SqlSessionDatabase[] = [];
    const instances: Kysely<LashSqlSchema>[] = [];
    const kysely = (): Kysely<LashSqlSchema> => {
      const database = new Database(join(folder.path, "lash.db"));
      // Tests drive two connections of one process; waits belong to the store, not the driver.
      database.pragma("busy_timeout = 0");
      const instance = new Kysely<LashSqlSchema>({ dialect: new SqliteDialect({ database }) });
      instances.push(instance);
      return instance;
    };
    return {
      schema: undefined,
      async open(options = {}) {
        const database = createSqlSessionDatabase({
          connection: folder.connection(),
          ...(options.onCommit === undefined ? {} : { onCommit: options.onCommit }),
        });
        opened.push(database);
        if (options.migrate !== false) await database.migrateToLatest();
        return database;
      },
      kysely,
      kyselyOptions: () => ({ kysely: kysely(), dialect: "sqlite" }),
      async remove() {
        for (const database of opened) await database.destroy();
        for (const instance of instances) await instance.destroy();
        await folder.remove();
      },
    };
  },
};

const postgresSkipReason = await postgresUnavailableReason();

const postgresBackend: SqlTestBackend = {
  name: "postgres",
  // Under CI an unreachable server must fail the tests, so they run (and fail) instead of skipping.
  skipReason: POSTGRES_REQUIRED ? undefined : postgresSkipReason,
  async createStorage() {
    const schema = freshSchemaName();
    const opened: SqlSessionDatabase[] = [];
    const instances: Kysely<LashSqlSchema>[] = [];
    const kysely = (): Kysely<LashSqlSchema> => {
      const pool = new pg.Pool({ connectionString: POSTGRES_URL, max: 4 });
      pool.on("error", () => undefined);
      const instance = new Kysely<LashSqlSchema>({ dialect: new PostgresDialect({ pool }) });
      instances.push(instance);
      return instance;
    };
    return {
      schema,
      async open(options = {}) {
        const database = createSqlSessionDatabase({
          connection: POSTGRES_URL,
          schema,
          maxConnections: 4,
          ...(options.onCommit === undefined ? {} : { onCommit: options.onCommit }),
        });
        opened.push(database);
        if (options.migrate !== false) await database.migrateToLatest();
        return database;
      },
      kysely: () => kysely().withSchema(schema),
      kyselyOptions: () => ({ kysely: kysely(), dialect: "postgres", schema }),
      async remove() {
        for (const database of opened) await database.destroy();
        for (const instance of instances) await instance.destroy();
        await dropSchema(schema);
      },
    };
  },
};

/** Every SQL backend, the way Kysely's own tests loop over dialects. */
export const SQL_TEST_BACKENDS: readonly SqlTestBackend[] = [sqliteBackend, postgresBackend];

/** The describe title of a backend, naming why it skips. */
export function backendTitle(backend: SqlTestBackend, subject: string): string {
  return backend.skipReason === undefined ? `${backend.name}: ${subject}` : `${backend.name}: ${subject} (skipped: ${backend.skipReason})`;
}

/**
 * A Kysely migrator of the lash migrations on `storage`'s own Kysely instance, to stop at an older
 * migration (`migrateTo`). On PostgreSQL, Kysely's introspection scans every schema of the
 * database, so a schema another test file drops at that moment fails the run before any migration
 * ran; `migrateTo` then runs it again, as the store's `migrateToLatest` does (the same check).
 */
export function lashMigratorOn(
  storage: SqlTestStorage,
  dialect: "sqlite" | "postgres",
): { kysely: Kysely<LashSqlSchema>; migrator: Pick<Migrator, "migrateTo"> } {
  const kysely = storage.kysely();
  const migrator = createMigrator({ dialect, schema: storage.schema }, kysely);
  return {
    kysely,
    migrator: {
      migrateTo: (target) => rerunWhileDisturbed(() => migrator.migrateTo(target)),
    },
  };
}
