import type { SessionStore, SessionStoreCreateRequest, SessionStoreFactory } from "@lash/protocol";
import { defaultSessionMeta } from "@lash/protocol";
import { metaSummary } from "./in-memory-session-listing.js";
import { InMemorySessionStore } from "./in-memory-session-store.js";
import { InMemorySessionTable, validatedSessionMeta } from "./in-memory-session-table.js";

/**
 * A process-local backend holding many sessions: stores opened on it share one listing, like the SQL
 * and filesystem backends. It is also a `SessionStoreFactory`, so child sessions created at runtime
 * land next to their parent. Data lives as long as the object does.
 */
export class InMemorySessionDatabase extends InMemorySessionTable implements SessionStoreFactory {
  /** A store bound to `sessionId` (its data, when it exists, is the session's existing data). */
  openSession(sessionId: string): InMemorySessionStore {
    return new InMemorySessionStore({ sessionId, database: this });
  }

  async createStore(request: SessionStoreCreateRequest): Promise<SessionStore> {
    // Like the SQL and filesystem factories: `cwd` is where the host ran, so a listing can show where
    // each session was started.
    const meta = defaultSessionMeta(request, { createdAt: new Date().toISOString(), cwd: process.cwd() });
    const validated = validatedSessionMeta(meta);
    // The check and the write are one synchronous step: with an `await` between them, a meta the host
    // saves in that gap would be overwritten, and the contract says existing meta is kept.
    const stored = this.session(request.sessionId);
    if (stored.meta === undefined) {
      stored.meta = validated;
      stored.summary ??= metaSummary(validated);
    }
    return this.openSession(request.sessionId);
  }
}
