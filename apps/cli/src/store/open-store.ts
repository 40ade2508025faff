import { dirname } from "node:path";
import type { SessionListPage, SessionListQuery, SessionStore, SessionStoreFactory } from "@lash/protocol";
import { LashError } from "@lash/protocol";
import { createFileSessionDatabase } from "@lash/stores/fs";
import type { MigrationReport } from "@lash/stores/sql";
import { createSqlSessionDatabase, redactConnectionString, SqlSchemaNotMigratedError } from "@lash/stores/sql";
import { CliError, usageError } from "../cli-error.js";
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
  listSessions(query?: SessionListQuery): Promise<SessionListPage>;
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

/**
 * Opens the store at `location` (`sqlite:<file>`, `postgres://...`, `fs:<dir>`; see
 * `normalizeStoreLocation`). A SQLite file and its folder are created and migrated on first use; a
 * PostgreSQL database must have been migrated with `lash db migrate` (the error says so).
 */
export async function openCliStore(location: string, options: { readonly migrateSqlite?: boolean } = {}): Promise<CliStore> {
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
  const database = createSqlSessionDatabase({ connection: location });
  const store = sqlStore("sqlite", location, database);
  if (options.migrateSqlite !== false) {
    try {
      await database.migrateToLatest();
    } catch (error) {
      await database.destroy().catch(() => undefined);
      throw unwritable(location, error);
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
    listSessions: (query) => database.listSessions(query),
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

/** Adds the fix to errors that have one: an unmigrated database, an unreachable one. */
export function explainStoreError(error: unknown): unknown {
  const chain = causeChain(error);
  const unmigrated = chain.find((entry) => SqlSchemaNotMigratedError.isInstance(entry));
  if (unmigrated instanceof Error) {
    // The store's own advice names the library call; a person at the terminal has a command for it.
    const reason = unmigrated.message.replace(/; run `await database\.migrateToLatest\(\)`.*$/, "");
    return new CliError(reason, { exitCode: EXIT_CODES.usage, hint: "run `lash db migrate` (with the same --store) first", cause: error });
  }
  const unavailable = chain.find((entry) => LashError.isInstance(entry) && entry.code === "store_unavailable");
  if (unavailable instanceof Error && !(error instanceof CliError)) {
    return new CliError(
      `the store is unavailable: ${unavailable.message}${unavailable.cause instanceof Error ? ` (${unavailable.cause.message})` : ""}`,
      { cause: error },
    );
  }
  return error;
}
