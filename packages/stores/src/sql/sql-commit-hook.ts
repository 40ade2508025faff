import { LashError, type SessionCommit } from "@lash/protocol";
import { CompiledQuery, type Kysely } from "kysely";
import { SqlCommitHookError } from "./sql-errors.js";
import type { LashSqlSchema, SqlDialectName } from "./sql-schema.js";

/**
 * What a raw statement of the commit hook returns. `rowCount` is the number of rows an `insert`,
 * `update`, `delete` or `merge` affected, and the number of rows returned for anything else.
 */
export interface SqlQueryResult<Row> {
  readonly rows: Row[];
  readonly rowCount: number;
}

/**
 * What the `onCommit` hook of a SQL session database receives: the commit being applied and a way to
 * run SQL in its write transaction. Its `query` has the shape of a `pg` client, so the context can be
 * handed to anything that takes one (the durable background host's `enqueue(request, { transaction })`).
 */
export interface SqlCommitContext {
  /** The commit, validated, exactly as it is being stored. */
  readonly commit: SessionCommit;
  /** The head revision the commit produces. */
  readonly headRevision: number;
  /** Which SQL the transaction speaks (placeholders: `$1, $2` in PostgreSQL, `?` in SQLite). */
  readonly dialect: SqlDialectName;
  /**
   * Runs one parameterised statement in the commit's transaction. The statement goes to the driver as
   * written: in PostgreSQL it resolves names through the connection's `search_path`, not the store's
   * `schema` option, so qualify your tables. Callable only while the hook runs; a statement that fails
   * fails the commit, even when the hook catches the error (in PostgreSQL the transaction is aborted
   * by then). Await every call before the hook returns.
   */
  query<Row = Record<string, unknown>>(text: string, values?: readonly unknown[]): Promise<SqlQueryResult<Row>>;
}

/**
 * Called inside a commit's write transaction, after every row of the commit and the new head are
 * written and before the transaction commits: what it writes through `context.query` is stored
 * exactly when the commit is. Not called for a replayed commit (a commit id already stored with the
 * same content), nor for a commit that is rejected. Throwing rolls the commit back (`SqlCommitHookError`).
 */
export type SqlCommitHook = (context: SqlCommitContext) => Promise<void>;

function messageOf(error: unknown): string {
  return error instanceof Error && error.message !== "" ? error.message : String(error);
}

/**
 * Runs the hook on the open write transaction `transaction`. Raw statements bypass the store's Kysely
 * plugins: the PostgreSQL text escape is the encoding of the lash tables, not of the caller's.
 */
export async function runCommitHook(
  hook: SqlCommitHook,
  transaction: Kysely<LashSqlSchema>,
  commit: SessionCommit,
  headRevision: number,
  dialect: SqlDialectName,
): Promise<void> {
  const raw = transaction.withoutPlugins();
  let open = true;
  let failedStatement: { error: unknown } | undefined;
  const query = async <Row = Record<string, unknown>>(text: string, values: readonly unknown[] = []): Promise<SqlQueryResult<Row>> => {
    if (!open) {
      throw new LashError(
        "invalid_argument",
        `the transaction of commit \`${commit.commitId}\` of session \`${commit.sessionId}\` has ended: \`query\` of an onCommit context works only while the hook runs`,
      );
    }
    if (typeof text !== "string" || text.trim() === "")
      throw new LashError("invalid_argument", `an onCommit query needs SQL text, got ${JSON.stringify(text) ?? String(text)}`);
    if (!Array.isArray(values))
      throw new LashError(
        "invalid_argument",
        `the values of an onCommit query must be an array, got ${JSON.stringify(values) ?? String(values)}`,
      );
    try {
      const result = await raw.executeQuery<Row>(CompiledQuery.raw(text, [...values]));
      return {
        rows: [...result.rows],
        rowCount: result.numAffectedRows === undefined ? result.rows.length : Number(result.numAffectedRows),
      };
    } catch (error) {
      failedStatement ??= { error };
      throw error;
    }
  };
  const context: SqlCommitContext = Object.freeze({ commit, headRevision, dialect, query });
  try {
    await hook(context);
  } catch (error) {
    throw new SqlCommitHookError(commit.sessionId, commit.commitId, messageOf(error), { cause: error });
  } finally {
    open = false;
  }
  if (failedStatement !== undefined) {
    // PostgreSQL has aborted the transaction, and its COMMIT would silently roll back: a commit that
    // reports success must have been stored.
    throw new SqlCommitHookError(
      commit.sessionId,
      commit.commitId,
      `a statement of the hook failed (the hook caught it and went on): ${messageOf(failedStatement.error)}`,
      {
        cause: failedStatement.error,
      },
    );
  }
}
