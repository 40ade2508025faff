import type { SessionListQuery, SessionMeta } from "@lash/protocol";
import { InvalidPersistedDataError, SessionBindingMismatchError, sessionListQuerySchema, sessionMetaSchema } from "@lash/protocol";
import { type ListedSession, type ListedSessionPage, listingProblem, type SessionListingProblem } from "../shared/session-listing.js";
import { activityCursor, type ListingRows, pageByActivity, pageById, parseActivityCursor } from "./sql-listing-page.js";
import { metaRow, parseArgument, parseHeadConfig, parseMetaRow, storedInteger } from "./sql-rows.js";
import type { LashHeadsTable, LashSessionMetaTable } from "./sql-schema.js";
import type { SqlStoreContext } from "./sql-store-context.js";
import { parseSummaryRow, upsertMetaSummary } from "./sql-summary.js";

const DEFAULT_PAGE_SIZE = 100;

/** Validates `meta` for the bound session (`SessionBindingMismatchError` for another id). */
function checkedMeta(sessionId: string, input: SessionMeta): SessionMeta {
  const meta = parseArgument(sessionMetaSchema, input, "session meta");
  if (meta.sessionId !== sessionId) throw new SessionBindingMismatchError(sessionId, meta.sessionId);
  return meta;
}

/** Writes the session's meta, replacing earlier meta. */
export async function saveSessionMeta(context: SqlStoreContext, sessionId: string, input: SessionMeta): Promise<void> {
  const meta = checkedMeta(sessionId, input);
  const row = metaRow(meta);
  const { session_id: _sessionId, ...update } = row;
  // A write transaction even for one statement: in SQLite that is what waits for another
  // connection's write lock.
  await context.write(async (database) => {
    await database
      .insertInto("lash_session_meta")
      .values(row)
      .onConflict((conflict) => conflict.column("session_id").doUpdateSet(update))
      .execute();
    await upsertMetaSummary(database, meta);
  });
}

/**
 * Writes the session's meta unless it has one (one atomic statement, so two processes creating the
 * same session keep the first meta). Returns whether it wrote.
 */
export async function insertSessionMetaIfMissing(context: SqlStoreContext, sessionId: string, input: SessionMeta): Promise<boolean> {
  const meta = checkedMeta(sessionId, input);
  const result = await context.write(async (database) => {
    const inserted = await database
      .insertInto("lash_session_meta")
      .values(metaRow(meta))
      .onConflict((conflict) => conflict.column("session_id").doNothing())
      .executeTakeFirst();
    // The summary follows the meta that is stored: this one only when it was written.
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) === 1) await upsertMetaSummary(database, meta);
    return inserted;
  });
  return Number(result.numInsertedOrUpdatedRows ?? 0n) === 1;
}

/** The session's meta, or `undefined` when none was saved. */
export async function loadSessionMeta(context: SqlStoreContext, sessionId: string): Promise<SessionMeta | undefined> {
  return context.query(async (database) => {
    const row = await database.selectFrom("lash_session_meta").selectAll().where("session_id", "=", sessionId).executeTakeFirst();
    return row === undefined ? undefined : parseMetaRow(row, sessionId);
  });
}

/**
 * One page of the database's sessions (those with a head or a meta): in code-point order of id
 * (SQLite's BINARY collation and the `"C"` collation of PostgreSQL's id columns both compare UTF-8
 * bytes), or newest activity first (`orderBy: "lastActivity"`, one range of the summaries' activity
 * index). A filter reads the meta's columns, so a session without meta matches none. Each entry
 * carries the session's summary (model, turns, activity, tokens), read from its summary row: no
 * session is loaded. A session whose head revision, config, meta or summary does not parse is listed
 * all the same, with `problem` naming the damage (one damaged session never hides the others);
 * `deleteSession` can still remove it.
 */
export async function listSessions(context: SqlStoreContext, query: SessionListQuery = {}): Promise<ListedSessionPage> {
  const {
    parentSessionId,
    relationType,
    cursor,
    limit: requestedLimit,
    orderBy,
  } = parseArgument(sessionListQuerySchema, query, "session list query");
  const limit = requestedLimit ?? DEFAULT_PAGE_SIZE;
  const filter = { parentSessionId, relationType };
  const byActivity = orderBy === "lastActivity";
  const position = byActivity && cursor !== undefined ? parseActivityCursor(cursor) : undefined;
  // One statement: one snapshot, and one round trip on PostgreSQL.
  const rows = await context.query((database) =>
    byActivity
      ? pageByActivity(database, context.dialect === "postgres", filter, position, limit)
      : pageById(database, context.dialect === "postgres", filter, cursor, limit),
  );
  const page = rows.slice(0, limit);
  const sessions = page.map((entry) => listedSession(entry.sessionId, entry.head, entry.meta, entry.summary));
  const last = page.at(-1);
  if (rows.length <= limit || last === undefined) return { sessions };
  return { sessions, nextCursor: byActivity ? activityCursor(last) : last.sessionId };
}

/**
 * One listing entry from the session's head, meta and summary rows. What the listing shows is
 * validated (the head revision, the config, the meta, the summary); a damaged value does not fail the
 * page: the session is listed without it and with `problem` (the first damage found). Loading the
 * session throws the same error for its head, config or meta; the summary is derived from the
 * session's rows, and its damage only shows here.
 */
function listedSession(
  sessionId: string,
  head: Pick<LashHeadsTable, "head_revision" | "config_json"> | undefined,
  metaRow: LashSessionMetaTable | undefined,
  summaryRow: ListingRows["summary"],
): ListedSession {
  let problem: SessionListingProblem | undefined;
  const readable = <Value>(read: () => Value): Value | undefined => {
    try {
      return read();
    } catch (error) {
      if (!InvalidPersistedDataError.isInstance(error)) throw error;
      problem ??= listingProblem(error);
      return undefined;
    }
  };
  const headRevision =
    head === undefined
      ? 0
      : (readable(() => storedInteger(head.head_revision, sessionId, "head.headRevision", "lash_heads.head_revision")) ?? 0);
  if (head !== undefined) readable(() => parseHeadConfig(head.config_json, sessionId));
  const meta = metaRow === undefined ? undefined : readable(() => parseMetaRow(metaRow, sessionId));
  const summary = summaryRow === undefined ? undefined : readable(() => parseSummaryRow(summaryRow, sessionId, head !== undefined));
  return {
    sessionId,
    headRevision,
    ...(meta === undefined ? {} : { meta }),
    ...summary,
    ...(problem === undefined ? {} : { problem }),
  };
}
