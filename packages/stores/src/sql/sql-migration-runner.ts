import { LashError } from "@lash/protocol";
import type { Kysely } from "kysely";
import { type MigrationResult, type MigrationResultSet, Migrator } from "kysely/migration";
import { isMissingTable, isSqliteLockError, isUnreachableError, SqlSchemaNotMigratedError } from "./sql-errors.js";
import { createLashMigrationProvider, LASH_MIGRATION_LOCK_TABLE, LASH_MIGRATION_TABLE, lashMigrationNames } from "./sql-migrations.js";
import type { LashSqlSchema, SqlDialectName } from "./sql-schema.js";
import { type SqliteBusyWait, sqliteTransaction } from "./sqlite-busy-wait.js";

/** What `migrateToLatest()` did. */
export interface MigrationReport {
  /** The migrations this call ran, oldest first (empty when the database was already up to date). */
  readonly appliedMigrations: readonly string[];
  /** The latest migration this version of `@lash/stores` knows; the database is now at it. */
  readonly latestMigration: string;
}

/** How the database's migration history compares with this version's migrations. */
export interface MigrationState {
  /** Known here, not run on the database. */
  readonly missing: string[];
  /** Run on the database, unknown here (a newer version ran them). */
  readonly unknown: string[];
}

/** Reads the database's migration history (none when the bookkeeping table does not exist yet). */
export async function readMigrationState(database: Kysely<LashSqlSchema>): Promise<MigrationState> {
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

/** What the runner needs to know about the database. */
export interface MigrationTarget {
  /** The database, bound to the lash schema in PostgreSQL. */
  readonly database: Kysely<LashSqlSchema>;
  readonly dialect: SqlDialectName;
  /** PostgreSQL: the lash schema (where Kysely's bookkeeping tables go). */
  readonly schema: string | undefined;
  /** How the database is named in messages. */
  readonly target: string;
  /** SQLite: how long to wait for another connection's lock. */
  readonly busyTimeoutMs: number;
}

/** How often the PostgreSQL migrator runs when a concurrent schema drop disturbed it. */
const MIGRATION_ATTEMPTS = 5;

/**
 * Runs the lash migrations that have not run yet (Kysely's `Migrator`, in-code provider, lash's own
 * bookkeeping tables). Idempotent, and safe when several processes call it at once on one database:
 * - PostgreSQL: the migrator runs in a transaction under an advisory lock and reads the history
 *   after taking it.
 * - SQLite: Kysely's SQLite migrator takes no lock and runs outside a transaction, so the store runs
 *   it inside its own `BEGIN IMMEDIATE` transaction (waiting for other writers asynchronously, up to
 *   `busyTimeoutMs`) and reads the history again once it holds the lock: a process that arrives
 *   after another one migrated finds nothing to do. A lock that is never released fails with
 *   `SqliteDatabaseBusyError`, never with an error that reads like an unwritable file.
 */
export async function migrateToLatest(target: MigrationTarget): Promise<MigrationReport> {
  const known = lashMigrationNames();
  const applied = target.dialect === "sqlite" ? await migrateSqlite(target) : await migratePostgres(target);
  return { appliedMigrations: applied, latestMigration: known[known.length - 1] ?? "" };
}

/** Kysely's migrator of the lash migrations on `database` (the runner's, and tests' that stop at an older migration). */
export function createMigrator(target: Pick<MigrationTarget, "dialect" | "schema">, database: Kysely<LashSqlSchema>): Migrator {
  return new Migrator({
    db: database,
    provider: createLashMigrationProvider(target.dialect, { schema: target.schema }),
    migrationTableName: LASH_MIGRATION_TABLE,
    migrationLockTableName: LASH_MIGRATION_LOCK_TABLE,
    // Without it, Kysely looks for its bookkeeping table in every schema and can find another
    // schema's copy.
    ...(target.schema === undefined ? {} : { migrationTableSchema: target.schema }),
  });
}

function refuseUnknown(state: MigrationState): void {
  if (state.unknown.length > 0) throw new SqlSchemaNotMigratedError(state.missing, state.unknown);
}

function succeeded(results: readonly MigrationResult[] | undefined): string[] {
  return (results ?? []).filter((result) => result.status === "Success").map((result) => result.migrationName);
}

/** A migration that failed for a reason of its own (not a lock, not an unreachable database). */
function migrationFailed(target: MigrationTarget, error: unknown, results: readonly MigrationResult[] | undefined): LashError {
  const failed = results?.find((result) => result.status === "Error")?.migrationName;
  return new LashError(
    "invalid_configuration",
    `the lash SQL migration${failed === undefined ? "" : ` \`${failed}\``} failed on ${target.target}: ${error instanceof Error ? error.message : String(error)}`,
    { cause: error },
  );
}

async function migrateSqlite(target: MigrationTarget): Promise<string[]> {
  const wait: SqliteBusyWait = { busyTimeoutMs: target.busyTimeoutMs, target: target.target, operation: "migrating" };
  // The common case, a database already migrated, only reads (readers never wait for a writer in WAL).
  const before = await sqliteTransaction(target.database, "begin", wait, readMigrationState);
  refuseUnknown(before);
  if (before.missing.length === 0) return [];
  return sqliteTransaction(target.database, "begin immediate", wait, async (connection) => {
    // Read again under the write lock: another process may have migrated since the first read.
    const state = await readMigrationState(connection);
    refuseUnknown(state);
    if (state.missing.length === 0) return [];
    const { error, results } = await createMigrator(target, connection).migrateToLatest();
    if (error !== undefined) {
      // Thrown as is, a lock is waited out by the transaction (repeated whole); anything else rolls
      // the transaction back, so a failed migration leaves no half-made table behind.
      if (LashError.isInstance(error) || isSqliteLockError(error) || isUnreachableError(error)) throw error;
      throw migrationFailed(target, error, results);
    }
    return succeeded(results);
  });
}

async function migratePostgres(target: MigrationTarget): Promise<string[]> {
  refuseUnknown(await readMigrationState(target.database));
  const migrator = createMigrator(target, target.database);
  const { error, results } = await rerunWhileDisturbed(() => migrator.migrateToLatest());
  if (error !== undefined) {
    if (LashError.isInstance(error) || isUnreachableError(error)) throw error;
    throw migrationFailed(target, error, results);
  }
  return succeeded(results);
}

/**
 * Runs `run` (a run of the PostgreSQL migrator) again, a few times, while it fails on an object
 * another client dropped during its introspection (see `isDisturbedIntrospection`).
 */
export async function rerunWhileDisturbed(run: () => Promise<MigrationResultSet>): Promise<MigrationResultSet> {
  let outcome = await run();
  // Kysely's PostgreSQL introspector scans the tables of every schema of the database; a schema or
  // table another client drops during that scan fails it (`invalid_schema_name` 3F000, or
  // `undefined_table` 42P01 / `undefined_column` 42703 for a table that vanished between two of its
  // queries), naming that other client's objects. That happens before any migration runs (no
  // result names a failed migration), so nothing was migrated and the run is simply repeated.
  for (let attempt = 1; attempt < MIGRATION_ATTEMPTS && isDisturbedIntrospection(outcome); attempt += 1) {
    await new Promise((resolve) => setTimeout(resolve, 20 * attempt));
    outcome = await run();
  }
  return outcome;
}

/** Codes of a statement that named a schema, table or column another client dropped meanwhile. */
const VANISHED_OBJECT_CODES: ReadonlySet<unknown> = new Set(["3F000", "42P01", "42703"]);

/** The migrator failed before running any migration, on an object that vanished during its introspection. */
function isDisturbedIntrospection(outcome: { error?: unknown; results?: readonly MigrationResult[] }): boolean {
  const { error, results } = outcome;
  if (typeof error !== "object" || error === null || !VANISHED_OBJECT_CODES.has((error as { code?: unknown }).code)) return false;
  return !(results ?? []).some((result) => result.status === "Error");
}
