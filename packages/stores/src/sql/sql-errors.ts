import { LashError, type LashErrorOptions, markerFor, StoreUnavailableError } from "@lash/protocol";

const notMigratedMarker = markerFor("SqlSchemaNotMigratedError");
const notMigratedSymbol = Symbol.for(notMigratedMarker);

/**
 * The database does not hold the lash tables this version expects: `migrateToLatest()` was never
 * run on it (or an older version ran), or a newer version of `@lash/stores` migrated it further.
 * Nothing was read or written. Code `invalid_configuration`: the host runs migrations, explicitly.
 */
export class SqlSchemaNotMigratedError extends LashError {
  readonly [notMigratedSymbol] = true;
  /** Migrations this version knows that the database has not run. */
  readonly missingMigrations: readonly string[];
  /** Migrations the database has run that this version does not know (a newer version ran them). */
  readonly unknownMigrations: readonly string[];

  constructor(missingMigrations: readonly string[], unknownMigrations: readonly string[], options: LashErrorOptions = {}) {
    super(
      "invalid_configuration",
      unknownMigrations.length > 0
        ? `the lash SQL schema was migrated by a newer version of @lash/stores (unknown migrations: ${unknownMigrations.join(", ")}); upgrade @lash/stores to use this database`
        : `the lash SQL schema is not migrated to the latest version (missing migrations: ${missingMigrations.join(", ")}); run \`await database.migrateToLatest()\` once before using the store`,
      options,
    );
    this.name = "SqlSchemaNotMigratedError";
    this.missingMigrations = [...missingMigrations];
    this.unknownMigrations = [...unknownMigrations];
  }

  static override isInstance(error: unknown): error is SqlSchemaNotMigratedError {
    return LashError.hasMarker(error, notMigratedMarker);
  }
}

const commitHookMarker = markerFor("SqlCommitHookError");
const commitHookSymbol = Symbol.for(commitHookMarker);

/**
 * The database's `onCommit` hook failed (it threw, or one of its statements failed even though the
 * hook went on), so the commit's transaction was rolled back: nothing of the commit was stored and
 * nothing the hook wrote either. The hook's error is the `cause`. Re-sending the same commit runs the
 * hook again. Code `store_commit_failed`.
 */
export class SqlCommitHookError extends LashError {
  readonly [commitHookSymbol] = true;
  readonly sessionId: string;
  readonly commitId: string;

  constructor(sessionId: string, commitId: string, detail: string, options: LashErrorOptions = {}) {
    super(
      "store_commit_failed",
      `the onCommit hook failed for commit \`${commitId}\` of session \`${sessionId}\`, so nothing of the commit was stored: ${detail}`,
      options,
    );
    this.name = "SqlCommitHookError";
    this.sessionId = sessionId;
    this.commitId = commitId;
  }

  static override isInstance(error: unknown): error is SqlCommitHookError {
    return LashError.hasMarker(error, commitHookMarker);
  }
}

const busyMarker = markerFor("SqliteDatabaseBusyError");
const busySymbol = Symbol.for(busyMarker);

/**
 * Another connection (usually another process: a writer, or one migrating a new file) held the
 * SQLite database's lock for longer than the store waits (`busyTimeoutMs`). Nothing was written.
 * The file exists and is writable: the operation may simply be retried. A `StoreUnavailableError`
 * (code `store_unavailable`) whose message says "database is locked", so that no caller mistakes it
 * for a missing or unwritable folder; the driver's `SQLITE_BUSY` error is the `cause`.
 */
export class SqliteDatabaseBusyError extends StoreUnavailableError {
  readonly [busySymbol] = true;
  /** The database, as named in messages (`sqlite:/path/to/lash.db`). */
  readonly target: string;
  /** What the store was doing (`migrating`, `committing`, ...), when known. */
  readonly operation: string | undefined;
  /** How long the store waited for the lock, in milliseconds. */
  readonly waitedMs: number;

  constructor(target: string, operation: string | undefined, waitedMs: number, options: LashErrorOptions = {}) {
    const held = waitedMs > 0 ? `held by another connection for more than ${waitedMs} ms` : "held by another connection";
    super(
      `database is locked (SQLITE_BUSY): the lock of the SQLite database ${target} was ${held}${operation === undefined ? "" : ` while ${operation}`}; nothing was written, and the operation may be retried`,
      options,
    );
    this.name = "SqliteDatabaseBusyError";
    this.target = target;
    this.operation = operation;
    this.waitedMs = waitedMs;
  }

  static override isInstance(error: unknown): error is SqliteDatabaseBusyError {
    return LashError.hasMarker(error, busyMarker);
  }
}

/** The driver error code (`pg`: SQLSTATE or a Node socket code; better-sqlite3: `SQLITE_*`). */
export function driverErrorCode(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string") return code;
  // `pg` reports a refused connection to a host with several addresses as an AggregateError.
  const inner = (error as { errors?: unknown }).errors;
  if (Array.isArray(inner)) {
    for (const entry of inner) {
      const innerCode = driverErrorCode(entry);
      if (innerCode !== undefined) return innerCode;
    }
  }
  return undefined;
}

/** SQLite refused a lock another connection holds (`SQLITE_BUSY` and its extended codes): wait and retry. */
export function isSqliteBusy(error: unknown): boolean {
  const code = driverErrorCode(error);
  return code === "SQLITE_BUSY" || code?.startsWith("SQLITE_BUSY_") === true;
}

/**
 * A lock refused the statement: `SQLITE_BUSY` (another connection) or `SQLITE_LOCKED` (a conflict
 * within one connection). Either means "the database is locked", never "the file cannot be written".
 */
export function isSqliteLockError(error: unknown): boolean {
  const code = driverErrorCode(error);
  return isSqliteBusy(error) || code === "SQLITE_LOCKED" || code?.startsWith("SQLITE_LOCKED_") === true;
}

/** A primary key or unique constraint rejected a row. */
export function isUniqueViolation(error: unknown): boolean {
  const code = driverErrorCode(error);
  return code === "23505" || code === "SQLITE_CONSTRAINT_PRIMARYKEY" || code === "SQLITE_CONSTRAINT_UNIQUE";
}

/** A query named a table that does not exist (in PostgreSQL, also a schema that does not exist). */
export function isMissingTable(error: unknown): boolean {
  const code = driverErrorCode(error);
  if (code === "42P01" || code === "3F000") return true;
  return code === "SQLITE_ERROR" && error instanceof Error && /no such table/i.test(error.message);
}

/** Socket-level and server-side codes that mean "the database cannot be reached or used right now". */
const UNREACHABLE_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOTFOUND",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
  "EPIPE",
  // invalid_catalog_name: the database named in the URL does not exist
  "3D000",
  // invalid_authorization_specification, invalid_password
  "28000",
  "28P01",
  // too_many_connections, admin_shutdown, crash_shutdown, cannot_connect_now
  "53300",
  "57P01",
  "57P02",
  "57P03",
  "SQLITE_CANTOPEN",
  "SQLITE_FULL",
  "SQLITE_READONLY",
  "SQLITE_IOERR",
  "SQLITE_NOTADB",
  "SQLITE_CORRUPT",
]);

/** The error means the database could not be reached or used (not that a query was wrong). */
export function isUnreachableError(error: unknown): boolean {
  return isUnreachable(driverErrorCode(error));
}

function isUnreachable(code: string | undefined): boolean {
  if (code === undefined) return false;
  // SQLSTATE class 08: connection exceptions.
  if (/^08[0-9A-Z]{3}$/.test(code)) return true;
  const base = code.startsWith("SQLITE_") ? (code.match(/^SQLITE_[A-Z]+/)?.[0] ?? code) : code;
  return UNREACHABLE_CODES.has(base);
}

function messageOf(error: unknown): string {
  if (error instanceof Error && error.message !== "") return error.message;
  if (error instanceof AggregateError) return error.errors.map(messageOf).join("; ");
  return String(error);
}

/**
 * Turns anything a driver throws into a `LashError`: lash errors pass through; a SQLite lock is a
 * `SqliteDatabaseBusyError`; everything else is a `StoreUnavailableError` (the contract's "the
 * backend cannot be reached or failed") that keeps the driver error as its `cause`.
 *
 * @param target - what the database is, for the message (a redacted URL or a file path).
 * @param operation - what the store was doing, for the message.
 */
export function toStoreError(error: unknown, target: string, operation: string): LashError {
  if (LashError.isInstance(error)) return error;
  // A lock that was not waited out (the store waits for locks in its transactions; this one came
  // from elsewhere, such as opening the file) is named as such, not as an unreachable database.
  if (isSqliteLockError(error)) return new SqliteDatabaseBusyError(target, operation, 0, { cause: error });
  const code = driverErrorCode(error);
  const detail = `${messageOf(error)}${code === undefined ? "" : ` (${code})`}`;
  const message = isUnreachable(code)
    ? `cannot reach the session database ${target} while ${operation}: ${detail}`
    : `the session database ${target} failed while ${operation}: ${detail}`;
  return new StoreUnavailableError(message, { cause: error });
}
