import { StoreUnavailableError } from "@lash/protocol";
import { type Kysely, Kysely as KyselyDatabase, PostgresDialect, type Selectable, SqliteDialect, sql } from "kysely";
import { ApiKeyIdTakenError, type ServerAccessStore, type StoredApiKey } from "./access-store.js";

/** The server's tables, next to the session store's `lash_*` tables in the same database (and schema). */
interface AccessSchema {
  lash_server_api_keys: {
    id: string;
    tenant: string;
    name: string | null;
    key_hash: string;
    created_at: string;
    revoked_at: string | null;
  };
  lash_server_session_owners: {
    session_id: string;
    tenant: string;
  };
}

/** The server's tables are missing: a PostgreSQL database is migrated on request only. */
export class AccessTablesNotMigratedError extends Error {
  constructor(target: string, options?: { cause?: unknown }) {
    super(`the database ${target} has no lash-server tables (API keys, session owners); start with --migrate once`, options);
    this.name = "AccessTablesNotMigratedError";
  }
}

/** Where the tables live. */
export type SqlAccessTarget =
  | { readonly dialect: "sqlite"; readonly filename: string }
  | { readonly dialect: "postgres"; readonly connectionString: string; readonly schema: string | undefined };

/** How long an operation waits, in all, for another SQLite connection's write lock. */
const SQLITE_BUSY_WAIT_MS = 15_000;
/** Connections of the PostgreSQL pool: key checks and owner lookups are single short queries. */
const POSTGRES_POOL_SIZE = 4;

function errorCode(error: unknown): string {
  const code = typeof error === "object" && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === "string" ? code : "";
}

function isSqliteBusy(error: unknown): boolean {
  const code = errorCode(error);
  return code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED");
}

function isUniqueViolation(error: unknown): boolean {
  const code = errorCode(error);
  return code === "23505" || code.startsWith("SQLITE_CONSTRAINT");
}

function isMissingTable(error: unknown): boolean {
  return errorCode(error) === "42P01" || (error instanceof Error && /no such table/i.test(error.message));
}

/**
 * The connection is the server's own, on the same connection string as the session store (which
 * exposes no Kysely handle of its own). SQLite: a second connection to the same file, in WAL mode,
 * with `busy_timeout = 0`, as the store's own: better-sqlite3 waits synchronously, which would stop
 * the event loop while a lock holder in this process needs it, so waits happen here, asynchronously.
 */
function createKysely(target: SqlAccessTarget): Kysely<AccessSchema> {
  if (target.dialect === "sqlite") {
    return new KyselyDatabase<AccessSchema>({
      dialect: new SqliteDialect({
        database: async () => {
          const { default: BetterSqlite3 } = await import("better-sqlite3");
          const database = new BetterSqlite3(target.filename);
          try {
            database.pragma("busy_timeout = 0");
            database.pragma("synchronous = FULL");
          } catch (error) {
            database.close();
            throw error;
          }
          return database;
        },
      }),
    });
  }
  return new KyselyDatabase<AccessSchema>({
    dialect: new PostgresDialect({
      pool: async () => {
        const { default: pg } = await import("pg");
        const pool = new pg.Pool({ connectionString: target.connectionString, max: POSTGRES_POOL_SIZE, connectionTimeoutMillis: 10_000 });
        // An idle client that loses its server emits `error` on the pool; unhandled, it would end the process.
        pool.on("error", () => undefined);
        return pool;
      },
    }),
  });
}

function toStoredKey(row: Selectable<AccessSchema["lash_server_api_keys"]>): StoredApiKey {
  return {
    id: row.id,
    tenant: row.tenant,
    ...(row.name === null ? {} : { name: row.name }),
    hash: row.key_hash,
    createdAt: row.created_at,
    ...(row.revoked_at === null ? {} : { revokedAt: row.revoked_at }),
  };
}

/** An open SQL access store, and the migration that creates its tables. */
export interface SqlAccessStore extends ServerAccessStore {
  /** Creates the tables when they are missing (idempotent; safe from several processes at once). */
  migrate(): Promise<void>;
  /** `AccessTablesNotMigratedError` when the tables are missing. */
  checkMigrated(): Promise<void>;
}

/**
 * The server's records in a SQL database: `lash_server_api_keys` (one row per key, the key's hash,
 * never the key) and `lash_server_session_owners` (one row per session the server created, indexed
 * by tenant and id for the tenant's listing). `description` names the database in messages.
 */
export function createSqlAccessStore(target: SqlAccessTarget, description: string): SqlAccessStore {
  const kysely = createKysely(target);
  const schema = target.dialect === "postgres" ? target.schema : undefined;
  const database = schema === undefined ? kysely : kysely.withSchema(schema);

  /** Runs one operation: SQLite locks are waited for, a missing table is named, anything else means the database does not answer. */
  async function run<Value>(action: string, operation: () => Promise<Value>): Promise<Value> {
    const deadline = Date.now() + SQLITE_BUSY_WAIT_MS;
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await operation();
      } catch (error) {
        if (error instanceof ApiKeyIdTakenError || error instanceof AccessTablesNotMigratedError) throw error;
        if (isSqliteBusy(error) && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, Math.min(100, 2 ** attempt)));
          continue;
        }
        if (isMissingTable(error)) throw new AccessTablesNotMigratedError(description, { cause: error });
        throw new StoreUnavailableError(`${action} in ${description} failed: ${error instanceof Error ? error.message : String(error)}`, {
          cause: error,
        });
      }
    }
  }

  async function createTables(): Promise<void> {
    // PostgreSQL compares text by collation; "C" makes the listing's order code-point order, as the session store's.
    const idType = target.dialect === "postgres" ? sql`text collate "C"` : sql`text`;
    const create = async (executor: Kysely<AccessSchema>) => {
      const tables = schema === undefined ? executor.schema : executor.schema.withSchema(schema);
      await tables
        .createTable("lash_server_api_keys")
        .ifNotExists()
        .addColumn("id", idType, (column) => column.primaryKey())
        .addColumn("tenant", "text", (column) => column.notNull())
        .addColumn("name", "text")
        .addColumn("key_hash", "text", (column) => column.notNull())
        .addColumn("created_at", "text", (column) => column.notNull())
        .addColumn("revoked_at", "text")
        .execute();
      await tables
        .createTable("lash_server_session_owners")
        .ifNotExists()
        .addColumn("session_id", idType, (column) => column.primaryKey())
        .addColumn("tenant", idType, (column) => column.notNull())
        .execute();
      await tables
        .createIndex("lash_server_session_owners_by_tenant")
        .ifNotExists()
        .on("lash_server_session_owners")
        .columns(["tenant", "session_id"])
        .execute();
    };
    if (target.dialect === "sqlite") {
      await create(kysely);
      return;
    }
    await kysely.transaction().execute(async (transaction) => {
      // Concurrent `create table if not exists` can still collide in PostgreSQL's catalog: one migrator at a time.
      await sql`select pg_advisory_xact_lock(hashtext('lash_server_access_tables'))`.execute(transaction);
      if (schema !== undefined) await sql`create schema if not exists ${sql.id(schema)}`.execute(transaction);
      await create(transaction);
    });
  }

  return {
    migrate: () => run("creating the lash-server tables", createTables),
    checkMigrated: () =>
      run("checking the lash-server tables", async () => {
        await database.selectFrom("lash_server_api_keys").select("id").limit(1).execute();
        await database.selectFrom("lash_server_session_owners").select("session_id").limit(1).execute();
      }),
    insertApiKey: (key) =>
      run("storing an API key", async () => {
        try {
          await database
            .insertInto("lash_server_api_keys")
            .values({
              id: key.id,
              tenant: key.tenant,
              name: key.name ?? null,
              key_hash: key.hash,
              created_at: key.createdAt,
              revoked_at: key.revokedAt ?? null,
            })
            .execute();
        } catch (error) {
          if (isUniqueViolation(error)) throw new ApiKeyIdTakenError(key.id);
          throw error;
        }
      }),
    findApiKey: (id) =>
      run("reading an API key", async () => {
        const row = await database.selectFrom("lash_server_api_keys").selectAll().where("id", "=", id).executeTakeFirst();
        return row === undefined ? undefined : toStoredKey(row);
      }),
    listApiKeys: () =>
      run("listing API keys", async () =>
        (await database.selectFrom("lash_server_api_keys").selectAll().orderBy("created_at").orderBy("id").execute()).map(toStoredKey),
      ),
    revokeApiKey: (id, revokedAt) =>
      run("revoking an API key", async () => {
        await database
          .updateTable("lash_server_api_keys")
          .set({ revoked_at: revokedAt })
          .where("id", "=", id)
          .where("revoked_at", "is", null)
          .execute();
        const row = await database.selectFrom("lash_server_api_keys").selectAll().where("id", "=", id).executeTakeFirst();
        return row === undefined ? undefined : toStoredKey(row);
      }),
    assignSession: (sessionId, tenant) =>
      run("recording a session's owner", async () => {
        await database
          .insertInto("lash_server_session_owners")
          .values({ session_id: sessionId, tenant })
          .onConflict((conflict) => conflict.column("session_id").doUpdateSet({ tenant }))
          .execute();
      }),
    unassignSession: (sessionId) =>
      run("forgetting a session's owner", async () => {
        await database.deleteFrom("lash_server_session_owners").where("session_id", "=", sessionId).execute();
      }),
    ownersOf: (sessionIds) =>
      run("reading sessions' owners", async () => {
        const owners = new Map<string, string>();
        if (sessionIds.length === 0) return owners;
        const rows = await database
          .selectFrom("lash_server_session_owners")
          .select(["session_id", "tenant"])
          .where("session_id", "in", [...sessionIds])
          .execute();
        for (const row of rows) owners.set(row.session_id, row.tenant);
        return owners;
      }),
    tenantSessionIds: (tenant, page) =>
      run("listing a tenant's sessions", async () => {
        let query = database.selectFrom("lash_server_session_owners").select("session_id").where("tenant", "=", tenant);
        if (page.after !== undefined) query = query.where("session_id", ">", page.after);
        const rows = await query.orderBy("session_id").limit(page.limit).execute();
        return rows.map((row) => row.session_id);
      }),
    close: () => kysely.destroy(),
  };
}
