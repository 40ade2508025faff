import type { SessionCommit, SessionMeta, TokenUsage } from "@lash/protocol";
import { addTokenUsage, emptyTokenUsage, InvalidPersistedDataError, isEmptyTokenUsage } from "@lash/protocol";
import { type Insertable, type Kysely, type Selectable, sql } from "kysely";
import { storedInteger } from "./sql-rows.js";
import type { LashSessionSummariesTable, LashSqlSchema } from "./sql-schema.js";

/** What one commit makes of its session's summary row (see `LashSessionSummariesTable`). */
export interface CommitSummary {
  readonly lastActivityAt: string;
  readonly turnCount: number;
  readonly model: string;
  /** The commit's usage deltas, summed: added to the row's lifetime totals. */
  readonly addedUsage: TokenUsage;
}

/** The summary a validated commit leaves, committed at `now`. */
export function commitSummary(commit: SessionCommit, now: string): CommitSummary {
  let addedUsage = emptyTokenUsage();
  for (const entry of commit.usageDeltas) if (!isEmptyTokenUsage(entry.usage)) addedUsage = addTokenUsage(addedUsage, entry.usage);
  return { lastActivityAt: now, turnCount: commit.checkpoint.turnState.turnIndex, model: commit.config.model, addedUsage };
}

/**
 * The upsert of the summary row, as one statement of both dialects: the first commit (or a session
 * that only had a meta) inserts, later ones replace the head's fields and add their usage. The
 * target table is named without a schema in the update: both dialects resolve it to the row being
 * updated.
 */
export const UPSERT_SUMMARY_SET = {
  last_activity_at: sql<string>`excluded.last_activity_at`,
  turn_count: sql<number>`excluded.turn_count`,
  model: sql<string>`excluded.model`,
  input_tokens: sql<number>`lash_session_summaries.input_tokens + excluded.input_tokens`,
  output_tokens: sql<number>`lash_session_summaries.output_tokens + excluded.output_tokens`,
  cached_input_tokens: sql<number>`lash_session_summaries.cached_input_tokens + excluded.cached_input_tokens`,
  reasoning_tokens: sql<number>`lash_session_summaries.reasoning_tokens + excluded.reasoning_tokens`,
};

/** Writes the summary of a commit in the commit's transaction (the query-builder path). */
export async function upsertSummary(database: Kysely<LashSqlSchema>, sessionId: string, summary: CommitSummary): Promise<void> {
  await database
    .insertInto("lash_session_summaries")
    .values({
      session_id: sessionId,
      last_activity_at: summary.lastActivityAt,
      turn_count: summary.turnCount,
      model: summary.model,
      input_tokens: summary.addedUsage.inputTokens,
      output_tokens: summary.addedUsage.outputTokens,
      cached_input_tokens: summary.addedUsage.cachedInputTokens,
      reasoning_tokens: summary.addedUsage.reasoningTokens,
    })
    .onConflict((conflict) => conflict.column("session_id").doUpdateSet(UPSERT_SUMMARY_SET))
    .execute();
}

/** The row of a session that has a meta and no commit yet: its activity is its creation. */
export function metaSummaryRow(meta: SessionMeta): Insertable<LashSessionSummariesTable> {
  return {
    session_id: meta.sessionId,
    last_activity_at: meta.createdAt,
    turn_count: 0,
    model: null,
    input_tokens: 0,
    output_tokens: 0,
    cached_input_tokens: 0,
    reasoning_tokens: 0,
    relation_type: meta.relation.type,
    parent_session_id: meta.parentSessionId ?? null,
  };
}

/**
 * Written with every meta write, in its transaction: a session without a summary row gets one (its
 * activity is its creation), and the row's copies of the meta's filter columns follow the meta.
 */
export async function upsertMetaSummary(database: Kysely<LashSqlSchema>, meta: SessionMeta): Promise<void> {
  await database
    .insertInto("lash_session_summaries")
    .values(metaSummaryRow(meta))
    .onConflict((conflict) =>
      conflict.column("session_id").doUpdateSet({
        relation_type: sql<string>`excluded.relation_type`,
        parent_session_id: sql<string | null>`excluded.parent_session_id`,
      }),
    )
    .execute();
}

/** The summary fields of a listed session (`SessionSummary`), as read from its row. */
export interface ListedSummaryFields {
  model?: string;
  turnCount?: number;
  lastActivityAt?: string;
  tokenUsage?: TokenUsage;
}

const SOURCE = "lash_session_summaries";

/**
 * Reads a summary row. The row is hostile like every other: a value that is not what its column
 * holds is an `InvalidPersistedDataError` naming the field (`summary.turnCount`) and the column.
 * A session without a commit shows only its activity time.
 */
export function parseSummaryRow(
  row: Omit<Selectable<LashSessionSummariesTable>, "session_id">,
  sessionId: string,
  committed: boolean,
): ListedSummaryFields {
  if (typeof row.last_activity_at !== "string") {
    throw new InvalidPersistedDataError(
      sessionId,
      "summary.lastActivityAt",
      `${SOURCE}.last_activity_at: expected text, found ${typeof row.last_activity_at}`,
    );
  }
  if (!committed) return { lastActivityAt: row.last_activity_at };
  const unknown = (field: string, column: string): InvalidPersistedDataError =>
    new InvalidPersistedDataError(
      sessionId,
      `summary.${field}`,
      `${SOURCE}.${column}: unknown, because the session's rows could not be read when the summary was made (loading the session names the damage)`,
    );
  const count = (value: unknown, field: string, column: string): number => {
    if (value === null) throw unknown(field, column);
    const number = storedInteger(value, sessionId, `summary.${field}`, `${SOURCE}.${column}`);
    if (number < 0) throw new InvalidPersistedDataError(sessionId, `summary.${field}`, `${SOURCE}.${column}: negative (${number})`);
    return number;
  };
  if (row.model === null) throw unknown("model", "model");
  if (typeof row.model !== "string") {
    throw new InvalidPersistedDataError(sessionId, "summary.model", `${SOURCE}.model: expected text, found ${typeof row.model}`);
  }
  return {
    model: row.model,
    turnCount: count(row.turn_count, "turnCount", "turn_count"),
    lastActivityAt: row.last_activity_at,
    tokenUsage: {
      inputTokens: count(row.input_tokens, "tokenUsage.inputTokens", "input_tokens"),
      outputTokens: count(row.output_tokens, "tokenUsage.outputTokens", "output_tokens"),
      cachedInputTokens: count(row.cached_input_tokens, "tokenUsage.cachedInputTokens", "cached_input_tokens"),
      reasoningTokens: count(row.reasoning_tokens, "tokenUsage.reasoningTokens", "reasoning_tokens"),
    },
  };
}
