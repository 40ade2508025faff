import { setTimeout as sleep } from "node:timers/promises";
import { LashError, StoreUnavailableError } from "@lash/protocol";
import { type Kysely, sql } from "kysely";
import { Migrator } from "kysely/migration";
import { PostgresTextEscapePlugin } from "./postgres-text-escape-plugin.js";
import type { SqlCommitHook } from "./sql-commit-hook.js";
import { isMissingTable, isSqliteBusy, isUnreachableError, SqlSchemaNotMigratedError, toStoreError } from "./sql-errors.js";
import { createLashMigrationProvider, LASH_MIGRATION_LOCK_TABLE, LASH_MIGRATION_TABLE, lashMigrationNames } from "./sql-migrations.js";
import type { LashSqlSchema, SqlDialectName } from "./sql-schema.js";

/** What `migrateToLatest()` did. */
export interface MigrationReport {
  /** The migrations this call ran, oldest first (empty when the database was already up to date). */
  readonly appliedMigrations: readonly string[];
  /** The latest migration this version of `@lash/stores` knows; the database is now at it. */
  readonly latestMigration: string;
}

export interface SqlStoreContextOptions {
  readonly kysely: Kysely<LashSqlSchema>;
  readonly dialect: SqlDialectName;
  /** PostgreSQL: the schema of the lash tables; `undefined` = the connection's current schema. */
  readonly schema: string | undefined;
  /** SQLite: how long a transaction waits for another connection's write lock. */
  readonly busyTimeoutMs: number;
  /** How the database is named in messages (never with a password). */
  readonly target: string;
  /** Whether `destroy()` closes the Kysely instance (false for a caller-built one). */
  readonly ownsKysely: boolean;
  /** SQLite opened by the store: its better-sqlite3 handle, once the connection is open. */
  readonly sqliteHandle?: () => import("better-sqlite3").Database | undefined;
  /** Called inside every commit's transaction that stores something (see `SqlCommitHook`). */
  readonly commitHook?: SqlCommitHook | undefined;
}

type Work<Result> = (database: Kysely<LashSqlSchema>) => Promise<Result>;

interface MigrationState {
  readonly missing: string[];
  readonly unknown: string[];
}

/**
 * The state every store of one database shares: the Kysely instance (bound to the lash schema in
 * PostgreSQL), the cached answer to "is this database migrated?", and the transactions the
 * operations run in. One per `SqlSessionDatabase`.
 */
export class SqlStoreContext {
  readonly dialect: SqlDialectName;
  readonly target: string;
  /** The `onCommit` option: when set, commits take the Kysely path, which can await it. */
  readonly commitHook: SqlCommitHook | undefined;
  readonly #root: Kysely<LashSqlSchema>;
  readonly #schemaOption: string | undefined;
  readonly #busyTimeoutMs: number;
  readonly #ownsKysely: boolean;
  readonly #sqliteHandle: (() => import("better-sqlite3").Database | undefined) | undefined;
  #bound: Promise<{ database: Kysely<LashSqlSchema>; schema: string | undefined }> | undefined;
  /** Set once the database was found migrated; a negative answer is checked again next time. */
  #ready = false;
  #destroyed = false;

  constructor(options: SqlStoreContextOptions) {
    this.dialect = options.dialect;
    this.target = options.target;
    this.commitHook = options.commitHook;
    this.#root = options.kysely;
    this.#schemaOption = options.schema;
    this.#busyTimeoutMs = options.busyTimeoutMs;
    this.#ownsKysely = options.ownsKysely;
    this.#sqliteHandle = options.sqliteHandle;
  }

  /**
   * Runs one store operation, turning driver failures into `StoreUnavailableError` (lash errors pass
   * through unchanged).
   */
  async run<Result>(operation: string, body: () => Promise<Result>): Promise<Result> {
    try {
      return await body();
    } catch (error) {
      throw toStoreError(error, this.target, operation);
    }
  }

  /**
   * The Kysely instance the store queries through. In PostgreSQL it is bound with `withSchema` to
   * the lash schema, resolved once (the option, else `current_schema()` of the connection), and
   * escapes the one character PostgreSQL text cannot hold (see `PostgresTextEscapePlugin`).
   */
  async database(): Promise<Kysely<LashSqlSchema>> {
    return (await this.#binding()).database;
  }

  #binding(): Promise<{ database: Kysely<LashSqlSchema>; schema: string | undefined }> {
    if (this.#destroyed) {
      return Promise.reject(
        new StoreUnavailableError(`the session database ${this.target} was destroyed; create a new database object to use it again`),
      );
    }
    if (this.#bound === undefined) {
      const bound = this.#resolveBinding();
      this.#bound = bound;
      // A failed resolution (server down) is retried by the next operation.
      bound.catch(() => {
        if (this.#bound === bound) this.#bound = undefined;
      });
    }
    return this.#bound;
  }

  async #resolveBinding(): Promise<{ database: Kysely<LashSqlSchema>; schema: string | undefined }> {
    if (this.dialect === "sqlite") return { database: this.#root, schema: undefined };
    let schema = this.#schemaOption;
    if (schema === undefined) {
      const result = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(this.#root);
      schema = result.rows[0]?.schema ?? undefined;
      if (schema === undefined) {
        throw new LashError(
          "invalid_configuration",
          `the PostgreSQL connection ${this.target} has no current schema (its search_path names no existing schema): pass the \`schema\` option`,
        );
      }
    }
    return { database: this.#root.withSchema(schema).withPlugin(new PostgresTextEscapePlugin()), schema };
  }

  /**
   * Fails with `SqlSchemaNotMigratedError` unless the database ran exactly the migrations this
   * version knows. A positive answer is cached for the life of this object; a negative one is not,
   * so a database migrated meanwhile (by another process) becomes usable without reopening.
   */
  async ensureReady(): Promise<void> {
    if (this.#ready) return;
    const state = await this.#migrationState(await this.database());
    if (state.missing.length > 0 || state.unknown.length > 0) throw new SqlSchemaNotMigratedError(state.missing, state.unknown);
    this.#ready = true;
  }

  async #migrationState(database: Kysely<LashSqlSchema>): Promise<MigrationState> {
    let applied: string[];
    try {
      const rows = await database
        .withTables<{ [LASH_MIGRATION_TABLE]: { name: string } }>()
        .selectFrom(LASH_MIGRATION_TABLE)
        .select("name")
        .execute();
      applied = rows.map((row) => row.name);
    } catch (error) {
      if (!isMissingTable(error)) throw error;
      applied = [];
    }
    const known = lashMigrationNames();
    return {
      missing: known.filter((name) => !applied.includes(name)),
      unknown: applied.filter((name) => !known.includes(name)),
    };
  }

  /**
   * Runs the lash migrations that have not run yet (Kysely's `Migrator`, in-code provider, lash's
   * own bookkeeping tables). Idempotent; safe to call from several processes in PostgreSQL (the
   * migrator takes an advisory lock), and from one process at a time in SQLite.
   */
  async migrateToLatest(): Promise<MigrationReport> {
    return this.run("migrating", async () => {
      const { database, schema } = await this.#binding();
      const state = await this.#migrationState(database);
      if (state.unknown.length > 0) throw new SqlSchemaNotMigratedError(state.missing, state.unknown);
      const migrator = new Migrator({
        db: database,
        provider: createLashMigrationProvider(this.dialect),
        migrationTableName: LASH_MIGRATION_TABLE,
        migrationLockTableName: LASH_MIGRATION_LOCK_TABLE,
        // Without it, Kysely looks for its bookkeeping table in every schema and can find another
        // schema's copy.
        ...(schema === undefined ? {} : { migrationTableSchema: schema }),
      });
      let outcome = await migrator.migrateToLatest();
      // Kysely's PostgreSQL introspector scans the tables of every schema of the database; a schema
      // another client drops during that scan fails it with `invalid_schema_name` (3F000) naming that
      // other schema. Nothing was migrated then, so the run is simply repeated.
      for (let attempt = 1; attempt < MIGRATION_ATTEMPTS && isInvalidSchemaName(outcome.error); attempt += 1) {
        await new Promise((resolve) => setTimeout(resolve, 20 * attempt));
        outcome = await migrator.migrateToLatest();
      }
      const { error, results } = outcome;
      if (error !== undefined) {
        if (LashError.isInstance(error) || isUnreachableError(error)) throw error;
        const failed = results?.find((result) => result.status === "Error")?.migrationName;
        throw new LashError(
          "invalid_configuration",
          `the lash SQL migration${failed === undefined ? "" : ` \`${failed}\``} failed on ${this.target}: ${error instanceof Error ? error.message : String(error)}`,
          { cause: error },
        );
      }
      this.#ready = true;
      const known = lashMigrationNames();
      return {
        appliedMigrations: (results ?? []).filter((result) => result.status === "Success").map((result) => result.migrationName),
        latestMigration: known[known.length - 1] ?? "",
      };
    });
  }

  /**
   * Runs one read statement. PostgreSQL runs it on its own; SQLite wraps it in a (cheap, deferred)
   * read transaction so that a rare `SQLITE_BUSY` is waited out like any other. Writes go through
   * `write`, even single statements: only a write transaction waits for another connection's lock.
   */
  async query<Result>(work: Work<Result>): Promise<Result> {
    if (this.dialect === "sqlite") return this.read(work);
    await this.ensureReady();
    return work(await this.database());
  }

  /** Runs `work` in a read transaction: every query sees the same snapshot of the database. */
  async read<Result>(work: Work<Result>): Promise<Result> {
    await this.ensureReady();
    const database = await this.database();
    if (this.dialect === "sqlite") return this.#sqliteTransaction(database, "begin", work);
    return database.transaction().setIsolationLevel("repeatable read").setAccessMode("read only").execute(work);
  }

  /**
   * Runs `work` in a write transaction. SQLite: `BEGIN IMMEDIATE` takes the write lock up front, so
   * two writers queue instead of failing when a deferred transaction upgrades. PostgreSQL: READ
   * COMMITTED; writers of one session serialize on its head row (see `lockHead`).
   */
  async write<Result>(work: Work<Result>): Promise<Result> {
    await this.ensureReady();
    const database = await this.database();
    if (this.dialect === "sqlite") return this.#sqliteTransaction(database, "begin immediate", work);
    return database.transaction().execute(work);
  }

  /**
   * Runs synchronous `work` in an IMMEDIATE transaction directly on the better-sqlite3 handle of a
   * connection the store opened, holding Kysely's connection lock so no other operation of this
   * database interleaves. Returns `undefined` when there is no such handle (a caller-built Kysely
   * instance, or PostgreSQL): the caller then uses `write`. A lock held by another connection is
   * waited out asynchronously, as in `write`.
   */
  async writeSqliteDirect<Result>(work: (handle: import("better-sqlite3").Database) => Result): Promise<{ result: Result } | undefined> {
    if (this.dialect !== "sqlite" || this.#sqliteHandle === undefined) return undefined;
    await this.ensureReady();
    const database = await this.database();
    const deadline = Date.now() + this.#busyTimeoutMs;
    let delayMs = 2;
    for (;;) {
      try {
        return await database.connection().execute(async () => {
          const handle = this.#sqliteHandle?.();
          if (handle === undefined) return undefined;
          return { result: handle.transaction(() => work(handle)).immediate() };
        });
      } catch (error) {
        if (!isSqliteBusy(error)) throw error;
        if (Date.now() >= deadline) {
          throw new StoreUnavailableError(
            `the SQLite database ${this.target} stayed locked by another connection for more than ${this.#busyTimeoutMs} ms`,
            { cause: error },
          );
        }
        await sleep(delayMs + Math.floor(Math.random() * delayMs));
        delayMs = Math.min(delayMs * 2, 50);
      }
    }
  }

  /**
   * PostgreSQL: locks the session's head row for the rest of the transaction, so maintenance
   * (tombstones, vacuum, gc) and commits of one session take their locks in the same order and
   * never see each other half-done. SQLite needs nothing: a write transaction locks the database.
   */
  async lockHead(database: Kysely<LashSqlSchema>, sessionId: string): Promise<void> {
    if (this.dialect !== "postgres") return;
    await database.selectFrom("lash_heads").select("session_id").where("session_id", "=", sessionId).forUpdate().execute();
  }

  /**
   * A SQLite transaction on the instance's single connection. A lock held by another connection
   * (`SQLITE_BUSY`) is waited out here, asynchronously with backoff, up to `busyTimeoutMs`;
   * retrying is safe because the failed attempt was rolled back whole.
   */
  async #sqliteTransaction<Result>(
    database: Kysely<LashSqlSchema>,
    begin: "begin" | "begin immediate",
    work: Work<Result>,
  ): Promise<Result> {
    const deadline = Date.now() + this.#busyTimeoutMs;
    let delayMs = 2;
    for (;;) {
      try {
        return await database.connection().execute(async (connection) => {
          await sql.raw(begin).execute(connection);
          try {
            const result = await work(connection);
            await sql.raw("commit").execute(connection);
            return result;
          } catch (error) {
            // SQLite rolls back by itself after some errors; then there is nothing left to roll back.
            await sql
              .raw("rollback")
              .execute(connection)
              .catch(() => undefined);
            throw error;
          }
        });
      } catch (error) {
        if (!isSqliteBusy(error)) throw error;
        if (Date.now() >= deadline) {
          throw new StoreUnavailableError(
            `the SQLite database ${this.target} stayed locked by another connection for more than ${this.#busyTimeoutMs} ms`,
            { cause: error },
          );
        }
        await sleep(delayMs + Math.floor(Math.random() * delayMs));
        delayMs = Math.min(delayMs * 2, 50);
      }
    }
  }

  /** Closes the connections this object opened; a caller-built Kysely instance stays open. */
  async destroy(): Promise<void> {
    if (this.#destroyed) return;
    this.#destroyed = true;
    if (this.#ownsKysely) await this.#root.destroy();
  }
}

/** How often `migrateToLatest` runs the migrator when a concurrent schema drop disturbed it. */
const MIGRATION_ATTEMPTS = 5;

/** PostgreSQL's `invalid_schema_name`: a schema named by the statement does not exist (any more). */
function isInvalidSchemaName(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === "3F000";
}
