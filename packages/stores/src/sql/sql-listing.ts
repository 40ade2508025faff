import type { SessionListQuery, SessionMeta } from "@lash/protocol";
import {
  compareCodePoints,
  InvalidPersistedDataError,
  SessionBindingMismatchError,
  sessionListQuerySchema,
  sessionMetaSchema,
} from "@lash/protocol";
import { type ListedSession, type ListedSessionPage, listingProblem, type SessionListingProblem } from "../shared/session-listing.js";
import { metaRow, parseArgument, parseHeadConfig, parseMetaRow, storedInteger } from "./sql-rows.js";
import type { LashHeadsTable, LashSessionMetaTable } from "./sql-schema.js";
import type { SqlStoreContext } from "./sql-store-context.js";

const DEFAULT_PAGE_SIZE = 100;

/** Validates `meta` for the bound session (`SessionBindingMismatchError` for another id). */
function checkedMeta(sessionId: string, input: SessionMeta): SessionMeta {
  const meta = parseArgument(sessionMetaSchema, input, "session meta");
  if (meta.sessionId !== sessionId) throw new SessionBindingMismatchError(sessionId, meta.sessionId);
  return meta;
}

/** Writes the session's meta, replacing earlier meta. */
export async function saveSessionMeta(context: SqlStoreContext, sessionId: string, input: SessionMeta): Promise<void> {
  const row = metaRow(checkedMeta(sessionId, input));
  const { session_id: _sessionId, ...update } = row;
  // A write transaction even for one statement: in SQLite that is what waits for another
  // connection's write lock.
  await context.write((database) =>
    database
      .insertInto("lash_session_meta")
      .values(row)
      .onConflict((conflict) => conflict.column("session_id").doUpdateSet(update))
      .execute(),
  );
}

/**
 * Writes the session's meta unless it has one (one atomic statement, so two processes creating the
 * same session keep the first meta). Returns whether it wrote.
 */
export async function insertSessionMetaIfMissing(context: SqlStoreContext, sessionId: string, input: SessionMeta): Promise<boolean> {
  const row = metaRow(checkedMeta(sessionId, input));
  const result = await context.write((database) =>
    database
      .insertInto("lash_session_meta")
      .values(row)
      .onConflict((conflict) => conflict.column("session_id").doNothing())
      .executeTakeFirst(),
  );
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
 * One page of the database's sessions (those with a head or a meta) in code-point order of id:
 * SQLite's BINARY collation and the `"C"` collation of PostgreSQL's id columns both compare UTF-8
 * bytes. A filter reads the meta's columns, so a session without meta matches none. A session whose
 * head revision, config or meta does not parse is listed all the same, with `problem` naming the
 * damage (one damaged session never hides the others); `deleteSession` can still remove it.
 */
export async function listSessions(context: SqlStoreContext, query: SessionListQuery = {}): Promise<ListedSessionPage> {
  const {
    parentSessionId,
    relationType,
    cursor,
    limit: requestedLimit,
  } = parseArgument(sessionListQuerySchema, query, "session list query");
  const limit = requestedLimit ?? DEFAULT_PAGE_SIZE;
  return context.read(async (database) => {
    let ids: string[];
    if (parentSessionId !== undefined || relationType !== undefined) {
      let filtered = database.selectFrom("lash_session_meta").select("session_id");
      if (parentSessionId !== undefined) filtered = filtered.where("parent_session_id", "=", parentSessionId);
      if (relationType !== undefined) filtered = filtered.where("relation_type", "=", relationType);
      if (cursor !== undefined) filtered = filtered.where("session_id", ">", cursor);
      ids = (
        await filtered
          .orderBy("session_id")
          .limit(limit + 1)
          .execute()
      ).map((row) => row.session_id);
    } else {
      // One page from each table (each an index range scan), merged: never a scan of every session.
      let heads = database.selectFrom("lash_heads").select("session_id");
      let metas = database.selectFrom("lash_session_meta").select("session_id");
      if (cursor !== undefined) {
        heads = heads.where("session_id", ">", cursor);
        metas = metas.where("session_id", ">", cursor);
      }
      const [headIds, metaIds] = await Promise.all([
        heads
          .orderBy("session_id")
          .limit(limit + 1)
          .execute(),
        metas
          .orderBy("session_id")
          .limit(limit + 1)
          .execute(),
      ]);
      ids = mergeSortedUnique(
        headIds.map((row) => row.session_id),
        metaIds.map((row) => row.session_id),
      ).slice(0, limit + 1);
    }
    const page = ids.slice(0, limit);
    if (page.length === 0) return { sessions: [] };

    const headRows = await database
      .selectFrom("lash_heads")
      .select(["session_id", "head_revision", "config_json"])
      .where("session_id", "in", page)
      .execute();
    const metaRows = await database.selectFrom("lash_session_meta").selectAll().where("session_id", "in", page).execute();
    const heads = new Map(headRows.map((row) => [row.session_id, row]));
    const metas = new Map(metaRows.map((row) => [row.session_id, row]));
    const sessions = page.map((sessionId) => listedSession(sessionId, heads.get(sessionId), metas.get(sessionId)));
    const last = page.at(-1);
    return ids.length > limit && last !== undefined ? { sessions, nextCursor: last } : { sessions };
  });
}

/**
 * One listing entry from the session's head and meta rows. What the listing shows is validated (the
 * head revision, the config, the meta); a damaged value does not fail the page: the session is listed
 * without it and with `problem` (the first damage found), and loading it throws the same error.
 */
function listedSession(
  sessionId: string,
  head: Pick<LashHeadsTable, "head_revision" | "config_json"> | undefined,
  metaRow: LashSessionMetaTable | undefined,
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
  return {
    sessionId,
    headRevision,
    ...(meta === undefined ? {} : { meta }),
    ...(problem === undefined ? {} : { problem }),
  };
}

/**
 * Merges two lists that the database sorted in code-point order, dropping duplicates. JavaScript's
 * `<` compares UTF-16 code units, which disagrees with code points past U+FFFF.
 */
function mergeSortedUnique(left: readonly string[], right: readonly string[]): string[] {
  const merged: string[] = [];
  let leftIndex = 0;
  let rightIndex = 0;
  while (leftIndex < left.length || rightIndex < right.length) {
    const leftId = left[leftIndex];
    const rightId = right[rightIndex];
    if (rightId === undefined || (leftId !== undefined && compareCodePoints(leftId, rightId) < 0)) {
      merged.push(leftId as string);
      leftIndex += 1;
    } else if (leftId === undefined || compareCodePoints(leftId, rightId) > 0) {
      merged.push(rightId);
      rightIndex += 1;
    } else {
      merged.push(leftId);
      leftIndex += 1;
      rightIndex += 1;
    }
  }
  return merged;
}
