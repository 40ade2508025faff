import type { Pool, PoolClient } from "pg";
import type { Db } from "pg-boss";

/** The rows and count a query returns (what `pg` returns, narrowed to what the host reads). */
export interface QueryResult<Row> {
  readonly rows: Row[];
  readonly rowCount: number | null;
}

/**
 * Anything that runs a parameterised SQL statement: a `pg.Pool`, a `pg.Client`, or a `pg.PoolClient`
 * inside a transaction the caller began. The durable host only ever calls `query(text, values)`.
 */
export interface PostgresQueryable {
  query<Row = Record<string, unknown>>(text: string, values?: unknown[]): Promise<QueryResult<Row>>;
}

/**
 * Wraps a queryable as pg-boss's `Db`, the shape pg-boss runs every statement through: the host hands
 * pg-boss its own pool this way, and a transaction's client whenever a pg-boss call must commit or
 * roll back together with the host's own rows (or with a caller's).
 */
export function asPgBossDatabase(queryable: PostgresQueryable): Db {
  return { executeSql: (text, values) => queryable.query(text, values) };
}

/**
 * Runs `work` in one transaction on a pooled connection: `commit` when it returns, `rollback` when
 * it throws (the error is rethrown). A connection whose rollback failed is discarded, not reused.
 */
export async function inTransaction<Result>(pool: Pool, work: (client: PoolClient) => Promise<Result>): Promise<Result> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query("begin");
    const result = await work(client);
    await client.query("commit");
    return result;
  } catch (error) {
    try {
      await client.query("rollback");
    } catch (rollbackError) {
      broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
    }
    throw error;
  } finally {
    client.release(broken);
  }
}
