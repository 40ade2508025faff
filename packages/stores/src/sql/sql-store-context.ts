import { LashError, type SessionCommitDurability, StoreUnavailableError } from "@lash/protocol";
import { type Kysely, sql } from "kysely";
import { PostgresTextEscapePlugin } from "./postgres-text-escape-plugin.js";
import type { SqlCommitHook } from "./sql-commit-hook.js";
import { SqlSchemaNotMigratedError, toStoreError } from "./sql-errors.js";
import { type MigrationReport, migrateToLatest, readMigrationState } from "./sql-migration-runner.js";
import type { LashSqlSchema, SqlDialectName } from "./sql-schema.js";
import { retryWhileSqliteBusy, type SqliteBusyWait, sqliteTransaction } from "./sqlite-busy-wait.js";
import type { SqliteDurableLog } from "./sqlite-durable-log.js";
import { SqliteGroupCommit } from "./sqlite-group-commit.js";

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
  /** SQLite opened by the store in WAL mode: how its log is flushed and checkpointed (ADR 0038). */
  readonly sqliteDurableLog?: () => SqliteDurableLog | undefined;
  /** Called inside every commit's transaction that stores something (see `SqlCommitHook`). */
  readonly commitHook?: SqlCommitHook | undefined;
}

type Work<Result> = (database: Kysely<LashSqlSchema>) => Promise<Result>;

/**
 * The statements around a checkpoint transaction of a SQLite connection the store opened. SQLite
 * applies `pragma synchronous` when the statement is prepared, not when it runs, so they are never
 * kept prepared (see `withStatementCache` in sql-connection.ts).
 */
const RELAXED_SYNCHRONOUS = { before: "pragma synchronous = NORMAL", after: "pragma synchronous = FULL" } as const;

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
  readonly #sqliteDurableLog: () => SqliteDurableLog | undefined;
  #bound: Promise<{ database: Kysely<LashSqlSchema>; schema: string | undefined }> | undefined;
  /** Set once the database was found migrated; a negative answer is checked again next time. */
  #ready = false;
  #destroyed = false;
  #groupCommit: SqliteGroupCommit | undefined;

  constructor(options: SqlStoreContextOptions) {
    this.dialect = options.dialect;
    this.target = options.target;
    this.commitHook = options.commitHook;
    this.#root = options.kysely;
    this.#schemaOption = options.schema;
    this.#busyTimeoutMs = options.busyTimeoutMs;
    this.#ownsKysely = options.ownsKysely;
    this.#sqliteHandle = options.sqliteHandle;
    this.#sqliteDurableLog = options.sqliteDurableLog ?? (() => undefined);
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
    const database = await this.database();
    // SQLite: in a read transaction, so that a lock (another process creating the file) is waited out.
    const state =
      this.dialect === "sqlite"
        ? await sqliteTransaction(database, "begin", this.#busyWait, readMigrationState)
        : await readMigrationState(database);
    if (state.missing.length > 0 || state.unknown.length > 0) throw new SqlSchemaNotMigratedError(state.missing, state.unknown);
    this.#ready = true;
  }

  /**
   * Runs the lash migrations that have not run yet. Idempotent, and safe when several processes
   * call it at once on one database, in both dialects (see `migrateToLatest` in
   * sql-migration-runner.ts).
   */
  async migrateToLatest(): Promise<MigrationReport> {
    return this.run("migrating", async () => {
      const { database, schema } = await this.#binding();
      const report = await migrateToLatest({
        database,
        dialect: this.dialect,
        schema,
        target: this.target,
        busyTimeoutMs: this.#busyTimeoutMs,
      });
      this.#ready = true;
      return report;
    });
  }

  /** How SQLite operations wait for another connection's lock. */
  get #busyWait(): SqliteBusyWait {
    return { busyTimeoutMs: this.#busyTimeoutMs, target: this.target };
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
    if (this.dialect === "sqlite") return sqliteTransaction(database, "begin", this.#busyWait, work);
    return database.transaction().setIsolationLevel("repeatable read").setAccessMode("read only").execute(work);
  }

  /**
   * Runs `work` in a write transaction. SQLite: `BEGIN IMMEDIATE` takes the write lock up front, so
   * two writers queue instead of failing when a deferred transaction upgrades. PostgreSQL: READ
   * COMMITTED; writers of one session serialize on its head row (see `lockHead`).
   *
   * `durability` (ADR 0030, 0038): on a SQLite file the store opened in WAL mode, a `turn`
   * transaction is answered once the write-ahead log was flushed to the disk (off the event loop)
   * and a `checkpoint` one once it committed: it survives a killed process, and the next flush
   * makes it power-loss durable too. A connection the store opened without WAL (`:memory:`) runs
   * a checkpoint at `synchronous = NORMAL` and a turn at FULL. A connection the caller opened keeps
   * its own setting.
   */
  async write<Result>(work: Work<Result>, durability: SessionCommitDurability = "turn"): Promise<Result> {
    await this.ensureReady();
    const database = await this.database();
    if (this.dialect === "sqlite") {
      const durableLog = this.#sqliteDurableLog();
      const relaxed = durableLog === undefined && durability === "checkpoint" && this.#sqliteHandle !== undefined;
      const result = await sqliteTransaction(database, "begin immediate", this.#busyWait, work, relaxed ? RELAXED_SYNCHRONOUS : undefined);
      if (durableLog !== undefined) {
        durableLog.committed();
        if (durability === "turn") await durableLog.flush.flush();
      }
      return result;
    }
    return database.transaction().execute(work);
  }

  /**
   * Runs synchronous `work` in an IMMEDIATE transaction directly on the better-sqlite3 handle of a
   * connection the store opened, holding Kysely's connection lock so no other operation of this
   * database interleaves. Writes that wait at the same time share one transaction (and one flush
   * of the log), each in its own savepoint: see `SqliteGroupCommit`. Returns `undefined` when there is no such handle (a caller-built Kysely
   * instance, or PostgreSQL): the caller then uses `write`. A lock held by another connection is
   * waited out asynchronously, as in `write`. `durability`: as in `write`.
   */
  async writeSqliteDirect<Result>(
    work: (handle: import("better-sqlite3").Database) => Result,
    durability: SessionCommitDurability = "turn",
  ): Promise<{ result: Result } | undefined> {
    const sqliteHandle = this.#sqliteHandle;
    if (this.dialect !== "sqlite" || sqliteHandle === undefined) return undefined;
    await this.ensureReady();
    this.#groupCommit ??= new SqliteGroupCommit({
      withConnection: async (body) => (await this.database()).connection().execute(body),
      handle: sqliteHandle,
      busyWait: this.#busyWait,
      relaxedSynchronous: RELAXED_SYNCHRONOUS,
      durableLog: this.#sqliteDurableLog,
    });
    return this.#groupCommit.enqueue(work, durability);
  }

  /**
   * Runs one synchronous read directly on the better-sqlite3 handle of a connection the store
   * opened (a single statement reads one snapshot), holding Kysely's connection lock so it never
   * sees a transaction of this connection half-done; a `SQLITE_BUSY` is waited out as in `query`.
   * It spares a point lookup the query builder and the `begin`/`commit` around it. Returns
   * `undefined` when there is no such handle: the caller then uses `query`.
   */
  async readSqliteDirect<Result>(read: (handle: import("better-sqlite3").Database) => Result): Promise<{ result: Result } | undefined> {
    const sqliteHandle = this.#sqliteHandle;
    if (this.dialect !== "sqlite" || sqliteHandle === undefined) return undefined;
    await this.ensureReady();
    const database = await this.database();
    return retryWhileSqliteBusy(this.#busyWait, () =>
      database.connection().execute(async () => {
        const handle = sqliteHandle();
        return handle === undefined ? undefined : { result: read(handle) };
      }),
    );
  }

  /** The group commit of the synchronous SQLite path, once it was used (for tests). */
  get sqliteGroupCommit(): SqliteGroupCommit | undefined {
    return this.#groupCommit;
  }

  /**
   * PostgreSQL: runs one statement on the Kysely instance without the store's plugins (the work
   * escapes its own text and names the schema itself), with the lash schema. `undefined` in SQLite.
   */
  async postgresFunctionCall<Result>(
    work: (database: Kysely<LashSqlSchema>, schema: string) => Promise<Result>,
  ): Promise<{ result: Result } | undefined> {
    if (this.dialect !== "postgres") return undefined;
    await this.ensureReady();
    const { database, schema } = await this.#binding();
    if (schema === undefined) return undefined;
    return { result: await work(database.withoutPlugins(), schema) };
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

  /** Closes the connections this object opened; a caller-built Kysely instance stays open. */
  async destroy(): Promise<void> {
    if (this.#destroyed) return;
    this.#destroyed = true;
    await this.#sqliteDurableLog()?.close();
    if (this.#ownsKysely) await this.#root.destroy();
  }
}
