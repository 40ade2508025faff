import type { SessionListQuery, SessionStoreCreateRequest, SessionStoreFactory } from "@lash/protocol";
import { attachmentByteLimit, defaultSessionMeta, LashError } from "@lash/protocol";
import type { Kysely } from "kysely";
import type { ListedSessionPage } from "../shared/session-listing.js";
import { SqlAttachmentStore } from "./sql-attachment-store.js";
import type { SqlCommitHook } from "./sql-commit-hook.js";
import { createOwnedKysely, describeTarget, parseSqlConnectionString } from "./sql-connection.js";
import { type DamagedSessions, findDamagedSessions } from "./sql-damage-scan.js";
import { insertSessionMetaIfMissing, listSessions } from "./sql-listing.js";
import type { MigrationReport } from "./sql-migration-runner.js";
import type { LashSqlSchema, SqlDialectName } from "./sql-schema.js";
import { SqlSessionStore } from "./sql-session-store.js";
import { SqlStoreContext } from "./sql-store-context.js";
import type { SqliteDurableLog } from "./sqlite-durable-log.js";

/** Options shared by both ways of reaching a database. */
interface SqlSessionDatabaseCommonOptions {
  /**
   * PostgreSQL only: the schema that holds the lash tables (created by `migrateToLatest()` when
   * missing). Default: the connection's current schema (the first existing one of `search_path`).
   */
  readonly schema?: string;
  /**
   * SQLite only: how long a transaction waits for another connection's write lock before failing
   * with `StoreUnavailableError`. Default 15000 ms.
   */
  readonly busyTimeoutMs?: number;
  /**
   * A transactional outbox: called inside every commit's write transaction, after the commit's rows
   * and the new head are written and before the transaction commits, with the commit and a `query`
   * that runs SQL in that transaction. What it writes is stored exactly when the commit is. It is not
   * called for a replayed commit (same commit id, same content), so a re-sent commit never runs it
   * twice; a hook that throws rolls the commit back (`SqlCommitHookError`, code
   * `store_commit_failed`). In PostgreSQL the session's head row stays locked while it runs, and in
   * SQLite the database's write lock: keep it short, and do not use this database object from it.
   */
  readonly onCommit?: SqlCommitHook;
  /**
   * The longest attachment (image) `attachments.put` accepts, in bytes. Default 20 MiB
   * (`DEFAULT_MAX_ATTACHMENT_BYTES`); a longer one is refused with `AttachmentTooLargeError`.
   */
  readonly maxAttachmentBytes?: number | undefined;
}

/** Reach the database through a connection string; the database object owns the connections. */
export interface SqlConnectionStringOptions extends SqlSessionDatabaseCommonOptions {
  /**
   * `sqlite:./relative/path.db` (resolved against the current directory), `sqlite:/absolute/path.db`,
   * `sqlite::memory:` (private to this object), `postgres://user:password@host:5432/database` or
   * `postgresql://...`. The driver (`better-sqlite3` or `pg`) is imported on first use.
   */
  readonly connection: string;
  /** PostgreSQL only: the pool's maximum number of connections. Default 10. */
  readonly maxConnections?: number;
  /** PostgreSQL only: how long to wait for a new connection before failing. Default 10000 ms. */
  readonly connectTimeoutMs?: number;
}

/** Reach the database through a Kysely instance the caller built; the caller owns its lifetime. */
export interface SqlKyselyOptions extends SqlSessionDatabaseCommonOptions {
  readonly kysely: Kysely<LashSqlSchema>;
  /** Which SQL the instance speaks. */
  readonly dialect: SqlDialectName;
}

export type SqlSessionDatabaseOptions = SqlConnectionStringOptions | SqlKyselyOptions;

const DEFAULT_BUSY_TIMEOUT_MS = 15_000;
const DEFAULT_MAX_CONNECTIONS = 10;
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/**
 * One SQL database holding many sessions (SQLite or PostgreSQL, one schema for both). It opens
 * session stores, is the runtime's `SessionStoreFactory`, lists sessions and runs the migrations.
 * Nothing connects before the first operation, and nothing migrates unless `migrateToLatest()` is
 * called: until then every store operation fails with `SqlSchemaNotMigratedError`.
 */
export class SqlSessionDatabase implements SessionStoreFactory {
  readonly #context: SqlStoreContext;
  /**
   * The attachment store in this database (`lash_attachments`): where the images of the sessions'
   * messages are kept. A runtime built on this database or one of its stores uses it unless the
   * host gives another one, so images survive a restart with the messages that reference them.
   */
  readonly attachments: SqlAttachmentStore;

  /** @internal Use `createSqlSessionDatabase`. */
  constructor(context: SqlStoreContext, maxAttachmentBytes: number) {
    this.#context = context;
    this.attachments = new SqlAttachmentStore(context, maxAttachmentBytes);
  }

  /** Which SQL the database speaks. */
  get dialect(): SqlDialectName {
    return this.#context.dialect;
  }

  /**
   * Creates the lash tables, or brings them to this version's schema. Idempotent. Run it
   * explicitly, once per deployment (from one process at a time for SQLite); nothing migrates on
   * import or open.
   */
  migrateToLatest(): Promise<MigrationReport> {
    return this.#context.migrateToLatest();
  }

  /** A store bound to `sessionId`: its existing data when the session exists, else empty. */
  openSession(sessionId: string): SqlSessionStore {
    if (typeof sessionId !== "string" || sessionId === "") {
      throw new LashError(
        "invalid_argument",
        `a session id must be a non-empty string, got ${JSON.stringify(sessionId) ?? String(sessionId)}`,
      );
    }
    return new SqlSessionStore(this.#context, sessionId, this.attachments);
  }

  /**
   * Opens the store of a session created at runtime and writes its meta when it has none (name =
   * session id, creation time, model of the policy, current directory, parent and relation);
   * existing meta is kept.
   */
  async createStore(request: SessionStoreCreateRequest): Promise<SqlSessionStore> {
    const store = this.openSession(request.sessionId);
    const meta = defaultSessionMeta(request, { createdAt: new Date().toISOString(), cwd: process.cwd() });
    await this.#context.run(`creating session \`${request.sessionId}\``, () =>
      insertSessionMetaIfMissing(this.#context, request.sessionId, meta),
    );
    return store;
  }

  /**
   * Lists the database's sessions (see `SessionStore.listSessions`). A session whose listing data
   * (head revision, config, meta) is damaged is listed with `problem` instead of failing the page.
   */
  listSessions(query?: SessionListQuery): Promise<ListedSessionPage> {
    return this.#context.run("listing sessions", () => listSessions(this.#context, query));
  }

  /**
   * A cheap integrity pass over every session, for a listing that shows them all (`lash sessions
   * list`): the rows a listing entry does not read but a load does (the head's leaf, graph nodes,
   * checkpoints, usage rows), checked in the database. Returns the first problem of each damaged
   * session, as a load of it would throw (text of the wrong JSON shape is left to loads). SQLite
   * only: `undefined` on PostgreSQL, where sessions are checked by loading them.
   */
  findDamagedSessions(): Promise<DamagedSessions | undefined> {
    return this.#context.run("checking the stored sessions", () => findDamagedSessions(this.#context));
  }

  /**
   * Closes the connections this object opened (a caller-built Kysely instance is left open). Stores
   * opened from it fail with `StoreUnavailableError` afterwards.
   */
  destroy(): Promise<void> {
    return this.#context.destroy();
  }
}

function invalid(message: string): LashError {
  return new LashError("invalid_configuration", message);
}

function checkPositiveNumber(value: unknown, name: string, integer: boolean): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0 || (integer && (!Number.isInteger(value) || value < 1))) {
    throw invalid(
      `\`${name}\` must be a ${integer ? "positive integer" : "non-negative number"}, got ${JSON.stringify(value) ?? String(value)}`,
    );
  }
  return value;
}

/**
 * Creates the object for one SQL session database. Synchronous and side-effect free: options are
 * checked here (`LashError("invalid_configuration")` naming the bad value), while the driver is
 * imported and the connection opened on the first operation.
 *
 * @example
 * const database = createSqlSessionDatabase({ connection: "sqlite:./lash.db" });
 * await database.migrateToLatest();
 * const store = database.openSession("session-1");
 */
export function createSqlSessionDatabase(options: SqlSessionDatabaseOptions): SqlSessionDatabase {
  if (typeof options !== "object" || options === null)
    throw invalid("createSqlSessionDatabase needs an options object: `{ connection }` or `{ kysely, dialect }`");
  const hasConnection = "connection" in options && options.connection !== undefined;
  const hasKysely = "kysely" in options && options.kysely !== undefined;
  if (hasConnection === hasKysely) {
    throw invalid(
      "createSqlSessionDatabase needs exactly one of `connection` (a connection string) and `kysely` (a caller-built instance with its `dialect`)",
    );
  }
  const busyTimeoutMs = checkPositiveNumber(options.busyTimeoutMs, "busyTimeoutMs", false);
  const maxAttachmentBytes = attachmentByteLimit(options.maxAttachmentBytes);
  const schema = options.schema;
  if (schema !== undefined && (typeof schema !== "string" || schema === ""))
    throw invalid(`\`schema\` must be a non-empty string, got ${JSON.stringify(schema)}`);
  const commitHook = options.onCommit;
  if (commitHook !== undefined && typeof commitHook !== "function") {
    throw invalid(
      `\`onCommit\` must be a function \`(context) => Promise<void>\`, got ${JSON.stringify(commitHook) ?? String(commitHook)}`,
    );
  }

  let context: SqlStoreContext;
  if ("connection" in options && options.connection !== undefined) {
    const target = parseSqlConnectionString(options.connection);
    if (target.dialect === "sqlite" && schema !== undefined)
      throw invalid(`\`schema\` is a PostgreSQL option; the SQLite database ${describeTarget(target)} has none`);
    if (target.dialect === "postgres" && busyTimeoutMs !== undefined)
      throw invalid("`busyTimeoutMs` is a SQLite option; PostgreSQL writers wait on row locks");
    const maxConnections = checkPositiveNumber(options.maxConnections, "maxConnections", true);
    const connectTimeoutMs = checkPositiveNumber(options.connectTimeoutMs, "connectTimeoutMs", false);
    if (target.dialect === "sqlite" && (maxConnections !== undefined || connectTimeoutMs !== undefined)) {
      throw invalid(
        `\`maxConnections\` and \`connectTimeoutMs\` are PostgreSQL options; the SQLite database ${describeTarget(target)} has one connection`,
      );
    }
    // The connection the store opens itself may take the synchronous commit path (sql-commit-sqlite.ts).
    let sqliteHandle: import("better-sqlite3").Database | undefined;
    let sqliteDurableLog: SqliteDurableLog | undefined;
    context = new SqlStoreContext({
      kysely: createOwnedKysely(
        target,
        {
          busyTimeoutMs: busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS,
          maxConnections: maxConnections ?? DEFAULT_MAX_CONNECTIONS,
          connectTimeoutMs: connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
        },
        (handle, durableLog) => {
          sqliteHandle = handle;
          sqliteDurableLog = durableLog;
        },
      ),
      sqliteHandle: () => sqliteHandle,
      sqliteDurableLog: () => sqliteDurableLog,
      dialect: target.dialect,
      schema,
      busyTimeoutMs: busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS,
      target: describeTarget(target),
      ownsKysely: true,
      commitHook,
    });
  } else {
    const { kysely, dialect } = options as SqlKyselyOptions;
    if (
      typeof kysely !== "object" ||
      kysely === null ||
      typeof kysely.selectFrom !== "function" ||
      typeof kysely.transaction !== "function"
    ) {
      throw invalid("`kysely` must be a Kysely instance");
    }
    if (dialect !== "sqlite" && dialect !== "postgres") {
      throw invalid(`\`dialect\` must be "sqlite" or "postgres", got ${JSON.stringify(dialect) ?? String(dialect)}`);
    }
    if (dialect === "sqlite" && schema !== undefined) throw invalid("`schema` is a PostgreSQL option; a SQLite database has none");
    if (dialect === "postgres" && busyTimeoutMs !== undefined)
      throw invalid("`busyTimeoutMs` is a SQLite option; PostgreSQL writers wait on row locks");
    context = new SqlStoreContext({
      kysely,
      dialect,
      schema,
      busyTimeoutMs: busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS,
      target: `(a caller-built ${dialect} Kysely instance${schema === undefined ? "" : `, schema \`${schema}\``})`,
      ownsKysely: false,
      commitHook,
    });
  }
  return new SqlSessionDatabase(context, maxAttachmentBytes);
}
