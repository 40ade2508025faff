import { dirname } from "node:path";
import type { AttachmentStore, SessionListPage, SessionListQuery, SessionStore, SessionStoreFactory } from "@lash/protocol";
import { InvalidPersistedDataError, LashError } from "@lash/protocol";
import { createFileSessionDatabase } from "@lash/stores/fs";
import type { MigrationReport } from "@lash/stores/sql";
import { createSqlSessionDatabase, redactConnectionString, SqliteDatabaseBusyError, SqlSchemaNotMigratedError } from "@lash/stores/sql";
import { CliError, usageError } from "../cli-error.js";
import { NUMERIC_LIMITS, parseLimit, secondsToMs } from "../config/numeric-limits.js";
import { EXIT_CODES } from "../exit-codes.js";
import { prepareDirectory } from "./prepare-directory.js";

/** The session database a command works on, whatever its backend. */
export interface CliStore {
  readonly kind: "sqlite" | "postgres" | "fs";
  /** The location for messages, with any password redacted. */
  readonly description: string;
  /** Hands child sessions their stores (and writes their meta). */
  readonly factory: SessionStoreFactory;
  openSession(sessionId: string): SessionStore;
  /** The images of the sessions' messages (the store's own attachment store). */
  readonly attachments: AttachmentStore;
  listSessions(query?: SessionListQuery): Promise<SessionListPage>;
  /**
   * The damaged sessions, found without loading them (SQLite: a check of the stored rows in the
   * database); absent, or `undefined`, when the store can only find damage by loading each session.
   */
  findDamagedSessions?(): Promise<ReadonlyMap<string, { readonly field: string; readonly message: string }> | undefined>;
  /** Where a PostgreSQL store lives (the durable task host uses the same database). */
  readonly postgres?: { readonly connection: string; readonly schema: string | undefined };
  /** Creates or updates the tables (SQL only). */
  migrate(): Promise<MigrationReport | undefined>;
  close(): Promise<void>;
}

/** Splits an optional `schema` query parameter off a PostgreSQL URL (the driver does not know it). */
export function splitPostgresSchema(location: string): { connection: string; schema: string | undefined } {
  const url = new URL(location);
  const schema = url.searchParams.get("schema") ?? undefined;
  url.searchParams.delete("schema");
  return { connection: url.toString(), schema: schema === "" ? undefined : schema };
}

function unwritable(description: string, error: unknown): CliError {
  return new CliError(`the store ${description} cannot be used: ${(error as Error).message}`, {
    exitCode: EXIT_CODES.usage,
    hint: "set LASH_HOME to a writable folder, or pass --store sqlite:<file>, --store fs:<dir> or --store postgres://...",
    cause: error,
  });
}

/** How long a SQLite store waits for another process's lock when `LASH_SQLITE_BUSY_TIMEOUT` is not set. */
const DEFAULT_SQLITE_BUSY_TIMEOUT_SECONDS = 15;

/**
 * The store was locked by another process for longer than the command waits: nothing is wrong with
 * the file or its folder, so the hint says to retry, not to move the store.
 */
function lockedStore(busy: SqliteDatabaseBusyError, cause: unknown): CliError {
  return new CliError(`the store ${busy.target} is locked by another process: ${busy.message}`, {
    exitCode: EXIT_CODES.failed,
    hint: `another lash process (or another program) is writing to it; retry when it is done (LASH_SQLITE_BUSY_TIMEOUT sets how many seconds lash waits for the lock, default ${DEFAULT_SQLITE_BUSY_TIMEOUT_SECONDS})`,
    cause,
  });
}

/** SQLite and file system codes that mean the file or its folder cannot be opened or written (`SQLITE_READONLY_*` too). */
const PATH_PROBLEM_CODES = [
  "SQLITE_CANTOPEN",
  "SQLITE_READONLY",
  "SQLITE_PERM",
  "SQLITE_IOERR",
  "SQLITE_FULL",
  "EACCES",
  "EPERM",
  "EROFS",
  "ENOENT",
  "ENOTDIR",
  "EISDIR",
  "ENOSPC",
];

function isPathProblem(entry: unknown): boolean {
  const code = typeof entry === "object" && entry !== null ? (entry as { code?: unknown }).code : undefined;
  return typeof code === "string" && PATH_PROBLEM_CODES.some((known) => code === known || code.startsWith(`${known}_`));
}

/**
 * Why the first migration of a SQLite file failed, for a person: a lock another process holds
 * (retry), a file or folder that cannot be opened or written (move the store), or anything else
 * (the store's own message, and how to use another store).
 */
function migrationFailure(description: string, error: unknown): CliError {
  const chain = causeChain(error);
  const busy = chain.find((entry) => SqliteDatabaseBusyError.isInstance(entry));
  if (busy !== undefined) return lockedStore(busy as SqliteDatabaseBusyError, error);
  if (chain.some(isPathProblem)) return unwritable(description, error);
  return new CliError(`the store ${description} cannot be used: ${(error as Error).message}`, {
    exitCode: EXIT_CODES.usage,
    hint: "pass --store sqlite:<file>, --store fs:<dir> or --store postgres://... to use another store",
    cause: error,
  });
}

/**
 * `LASH_SQLITE_BUSY_TIMEOUT`: how long a SQLite store waits for another process's lock, in
 * milliseconds; `undefined` (the store's default) when the variable is not set.
 */
export function sqliteBusyTimeoutMs(env: NodeJS.ProcessEnv): number | undefined {
  const raw = env.LASH_SQLITE_BUSY_TIMEOUT;
  if (raw === undefined || raw === "") return undefined;
  // The range of every duration the command takes (`--timeout`): 1 ms up to what a timer holds.
  return secondsToMs(parseLimit(NUMERIC_LIMITS.timeoutSeconds, raw, "LASH_SQLITE_BUSY_TIMEOUT"));
}

/**
 * Opens the store at `location` (`sqlite:<file>`, `postgres://...`, `fs:<dir>`; see
 * `normalizeStoreLocation`). A SQLite file and its folder are created and migrated on first use; a
 * PostgreSQL database must have been migrated with `lash db migrate` (the error says so).
 */
export async function openCliStore(
  location: string,
  options: {
    readonly migrateSqlite?: boolean;
    /** Where `LASH_SQLITE_BUSY_TIMEOUT` is read (the command's environment). */
    readonly env?: NodeJS.ProcessEnv;
  } = {},
): Promise<CliStore> {
  const busyTimeoutMs = options.env === undefined ? undefined : sqliteBusyTimeoutMs(options.env);
  if (location.startsWith("fs:")) {
    const root = location.slice(3);
    await prepareDirectory(root).catch((error: unknown) => {
      throw unwritable(location, error);
    });
    const database = createFileSessionDatabase({ root });
    return {
      kind: "fs",
      description: location,
      factory: database,
      openSession: (sessionId) => database.openSession(sessionId),
      attachments: database.attachments,
      listSessions: (query) => database.listSessions(query),
      migrate: async () => undefined,
      close: () => database.close(),
    };
  }
  if (/^postgres(ql)?:\/\//.test(location)) {
    const { connection, schema } = splitPostgresSchema(location);
    const database = createSqlSessionDatabase({ connection, ...(schema === undefined ? {} : { schema }) });
    return { ...sqlStore("postgres", redactConnectionString(location), database), postgres: { connection, schema } };
  }
  if (!location.startsWith("sqlite:"))
    throw usageError(`unknown store ${JSON.stringify(location)}`, "use sqlite:<file>, postgres://... or fs:<dir>");
  const file = location.slice("sqlite:".length);
  if (file !== ":memory:") {
    await prepareDirectory(dirname(file)).catch((error: unknown) => {
      throw unwritable(location, error);
    });
  }
  const database = createSqlSessionDatabase({ connection: location, ...(busyTimeoutMs === undefined ? {} : { busyTimeoutMs }) });
  const store = sqlStore("sqlite", location, database);
  if (options.migrateSqlite !== false) {
    try {
      await database.migrateToLatest();
    } catch (error) {
      await database.destroy().catch(() => undefined);
      throw migrationFailure(location, error);
    }
  }
  return store;
}

function sqlStore(kind: "sqlite" | "postgres", description: string, database: ReturnType<typeof createSqlSessionDatabase>): CliStore {
  return {
    kind,
    description,
    factory: database,
    openSession: (sessionId) => database.openSession(sessionId),
    attachments: database.attachments,
    listSessions: (query) => database.listSessions(query),
    findDamagedSessions: () => database.findDamagedSessions(),
    migrate: () => database.migrateToLatest(),
    close: () => database.destroy(),
  };
}

/** The error and its causes, outermost first. */
export function causeChain(error: unknown): unknown[] {
  const chain: unknown[] = [];
  for (
    let current: unknown = error;
    current !== undefined && chain.length < 10;
    current = current instanceof Error ? current.cause : undefined
  )
    chain.push(current);
  return chain;
}

/**
 * What is wrong with damaged stored data, from the message of an `InvalidPersistedDataError`
 * (`invalid persisted data for session `x` at `path`: detail`): the detail, which names where the
 * data is stored (table and column, or file). The session and the path are said by the caller.
 */
export function damageDetail(message: string): string {
  return message.replace(/^invalid persisted data(?: for session `[^`]*`)? at `[^`]*`: /, "");
}

/** A session whose stored data cannot be read: which session, which field, where it is stored, and what can be done. */
function damagedSession(damaged: InvalidPersistedDataError, cause: unknown): CliError {
  const field = damaged.path === "" ? "data" : damaged.path;
  if (damaged.sessionId === undefined)
    return new CliError(`the store holds damaged data: ${field} cannot be read: ${damageDetail(damaged.message)}`, { cause });
  return new CliError(`session ${damaged.sessionId} is damaged: its stored ${field} cannot be read: ${damageDetail(damaged.message)}`, {
    hint: `the other sessions are not affected; \`lash sessions rm ${damaged.sessionId}\` removes this one`,
    cause,
  });
}

/**
 * Adds the fix to errors that have one: an unmigrated database, a locked one, an unreachable one,
 * a damaged session.
 */
export function explainStoreError(error: unknown): unknown {
  const chain = causeChain(error);
  // A CliError already says what went wrong (a turn shown but not stored, ...).
  const explained = error instanceof CliError;
  const damaged = chain.find((entry) => InvalidPersistedDataError.isInstance(entry));
  if (damaged !== undefined && !explained) return damagedSession(damaged as InvalidPersistedDataError, error);
  const busy = chain.find((entry) => SqliteDatabaseBusyError.isInstance(entry));
  if (busy !== undefined && !explained) return lockedStore(busy as SqliteDatabaseBusyError, error);
  const unmigrated = chain.find((entry) => SqlSchemaNotMigratedError.isInstance(entry));
  if (unmigrated instanceof Error) {
    // The store's own advice names the library call; a person at the terminal has a command for it.
    const reason = unmigrated.message.replace(/; run `await database\.migrateToLatest\(\)`.*$/, "");
    return new CliError(reason, { exitCode: EXIT_CODES.usage, hint: "run `lash db migrate` (with the same --store) first", cause: error });
  }
  const unavailable = chain.find((entry) => LashError.isInstance(entry) && entry.code === "store_unavailable");
  if (unavailable instanceof Error && !explained) {
    return new CliError(
      `the store is unavailable: ${unavailable.message}${unavailable.cause instanceof Error ? ` (${unavailable.cause.message})` : ""}`,
      { cause: error },
    );
  }
  return error;
}
