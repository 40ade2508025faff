import { setTimeout as sleep } from "node:timers/promises";
import { type Kysely, sql } from "kysely";
import { isSqliteBusy, SqliteDatabaseBusyError } from "./sql-errors.js";
import type { LashSqlSchema } from "./sql-schema.js";

/** How long, and on what, the store waits for another connection's SQLite lock. */
export interface SqliteBusyWait {
  /** The longest wait, in milliseconds (the `busyTimeoutMs` option). */
  readonly busyTimeoutMs: number;
  /** The database, as named in messages. */
  readonly target: string;
  /** What the store is doing, for the message of a wait that ran out (`migrating`). */
  readonly operation?: string;
}

/**
 * Runs `attempt` until SQLite stops answering `SQLITE_BUSY`, waiting asynchronously with jittered
 * backoff, for at most `busyTimeoutMs`; then fails with `SqliteDatabaseBusyError` (the driver
 * error as its cause). This is the busy timeout of every SQLite statement the store runs: its own
 * connections keep the driver's `busy_timeout` at 0 because better-sqlite3 would wait synchronously,
 * blocking the event loop, so a lock held by another connection of this same process could never be
 * released while it waits. `attempt` must be safe to repeat: each one is a whole transaction, rolled
 * back when it fails.
 */
export async function retryWhileSqliteBusy<Result>(wait: SqliteBusyWait, attempt: () => Promise<Result>): Promise<Result> {
  const deadline = Date.now() + wait.busyTimeoutMs;
  let delayMs = 2;
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      if (!isSqliteBusy(error)) throw error;
      if (Date.now() >= deadline) throw new SqliteDatabaseBusyError(wait.target, wait.operation, wait.busyTimeoutMs, { cause: error });
      // Jitter keeps processes that collided once from colliding again in step.
      await sleep(delayMs + Math.floor(Math.random() * delayMs));
      delayMs = Math.min(delayMs * 2, 50);
    }
  }
}

/**
 * Runs `work` in one transaction on the Kysely instance's single SQLite connection: `begin` (a
 * deferred read) or `begin immediate` (takes the write lock up front, so two writers queue instead
 * of failing when a deferred transaction upgrades). A lock held by another connection is waited out
 * by `retryWhileSqliteBusy`, repeating the whole transaction.
 */
export function sqliteTransaction<Result>(
  database: Kysely<LashSqlSchema>,
  begin: "begin" | "begin immediate",
  wait: SqliteBusyWait,
  work: (connection: Kysely<LashSqlSchema>) => Promise<Result>,
  around?: { readonly before: string; readonly after: string },
): Promise<Result> {
  return retryWhileSqliteBusy(wait, () =>
    database.connection().execute(async (connection) => {
      // Settings that hold for this transaction only (a pragma cannot change inside one).
      if (around !== undefined) await sql.raw(around.before).execute(connection);
      try {
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
      } finally {
        if (around !== undefined) await sql.raw(around.after).execute(connection);
      }
    }),
  );
}
