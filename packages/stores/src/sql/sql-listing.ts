import type { SessionListPage, SessionListQuery, SessionMeta, SessionSummary } from "@lash/protocol";
import { compareCodePoints, SessionBindingMismatchError, sessionListQuerySchema, sessionMetaSchema } from "@lash/protocol";
import { metaRow, parseArgument, parseMetaRow, storedInteger } from "./sql-rows.js";
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
 * bytes. A filter reads the meta, so a session without meta matches none. A meta row that does not
 * parse fails the page with `InvalidPersistedDataError` naming that session (which `deleteSession`
 * can still remove).
 */
export async function listSessions(context: SqlStoreContext, query: SessionListQuery = {}): Promise<SessionListPage> {
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

    const heads = new Map<string, number>();
    const metas = new Map<string, SessionMeta>();
    const headRows = await database
      .selectFrom("lash_heads")
      .select(["session_id", "head_revision"])
      .where("session_id", "in", page)
      .execute();
    for (const row of headRows) heads.set(row.session_id, storedInteger(row.head_revision, row.session_id, "head.headRevision"));
    const metaRows = await database.selectFrom("lash_session_meta").selectAll().where("session_id", "in", page).execute();
    for (const row of metaRows) metas.set(row.session_id, parseMetaRow(row, row.session_id));

    const sessions = page.map((sessionId): SessionSummary => {
      const meta = metas.get(sessionId);
      const headRevision = heads.get(sessionId) ?? 0;
      return meta === undefined ? { sessionId, headRevision } : { sessionId, headRevision, meta };
    });
    const last = page.at(-1);
    return ids.length > limit && last !== undefined ? { sessions, nextCursor: last } : { sessions };
  });
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
