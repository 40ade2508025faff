import { InvalidPersistedDataError, type SessionSummary } from "@lash/protocol";
import { LOCAL_TENANT } from "../auth/tenant-name.js";
import type { ServerStore } from "../store/server-store.js";

/** One page of a tenant's sessions: store summaries, and where the next page starts (a store position). */
export interface TenantSessionPage {
  readonly sessions: readonly SessionSummary[];
  readonly nextCursor?: string;
}

/** A stored session's summary without listing the store: its listing data and head, read by id; `undefined` when it does not exist. */
async function summaryOf(store: ServerStore, sessionId: string): Promise<SessionSummary | undefined> {
  const session = store.openSession(sessionId);
  try {
    const [meta, headRevision] = await Promise.all([
      session.loadSessionMeta(),
      session.loadHeadRevision !== undefined
        ? session.loadHeadRevision()
        : session.loadSession({ type: "active_path" }).then((read) => read?.headRevision),
    ]);
    // An owner whose session was never written (its creation failed half-way) or was deleted.
    if (meta === undefined && headRevision === undefined) return undefined;
    return { sessionId, headRevision: headRevision ?? 0, ...(meta === undefined ? {} : { meta }) };
  } catch (error) {
    // A damaged session is listed with what is wrong, as the store's own listing does.
    if (!InvalidPersistedDataError.isInstance(error)) throw error;
    return { sessionId, headRevision: 0, problem: { field: error.path === "" ? "session" : error.path, message: error.message } };
  }
}

/**
 * One page of the root sessions `tenant` owns, in ascending code-point order of id.
 *
 * A named tenant pages through the access store's index of owners (one indexed range read per
 * page, then each session's listing data by id): the cost is the page, not the store's size.
 * `local` owns every session no one else does (those created without keys, and those created by
 * the `lash` command, which no index knows), so its page is one page of the store's own listing
 * minus the sessions other tenants own (one owner look-up per page); such a page may hold fewer
 * sessions than `limit` while more follow.
 */
export async function listTenantSessions(
  store: ServerStore,
  tenant: string,
  page: { readonly limit: number; readonly cursor?: string },
): Promise<TenantSessionPage> {
  if (tenant === LOCAL_TENANT) {
    const listed = await store.listSessions({
      limit: page.limit,
      relationType: "root",
      ...(page.cursor === undefined ? {} : { cursor: page.cursor }),
    });
    const owners = await store.access.ownersOf(listed.sessions.map((session) => session.sessionId));
    return {
      sessions: listed.sessions.filter((session) => (owners.get(session.sessionId) ?? LOCAL_TENANT) === LOCAL_TENANT),
      ...(listed.nextCursor === undefined ? {} : { nextCursor: listed.nextCursor }),
    };
  }
  const ids = await store.access.tenantSessionIds(tenant, {
    limit: page.limit + 1,
    ...(page.cursor === undefined ? {} : { after: page.cursor }),
  });
  const pageIds = ids.slice(0, page.limit);
  const summaries = await Promise.all(pageIds.map((sessionId) => summaryOf(store, sessionId)));
  const last = pageIds.at(-1);
  return {
    sessions: summaries.filter((summary): summary is SessionSummary => summary !== undefined),
    ...(ids.length > page.limit && last !== undefined ? { nextCursor: last } : {}),
  };
}
