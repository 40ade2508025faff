import type { SessionListPage, SessionListQuery, SessionStore, SessionStoreFactory } from "@lash/protocol";

/**
 * The session database the server works on, whatever its backend: the SQL stores and the
 * filesystem store of `@lash/stores`, the in-memory database of `@lash/core`, or a host's own.
 */
export interface ServerStore {
  /** The location for logs and messages, with any password left out. */
  readonly description: string;
  /** Hands child sessions (subagents) their stores. */
  readonly factory: SessionStoreFactory;
  /** The store of one session (opening it reads nothing). */
  openSession(sessionId: string): SessionStore;
  /** One page of the sessions, in ascending code-point order of id. */
  listSessions(query?: SessionListQuery): Promise<SessionListPage>;
  /** Resolves when the store answers (`/readyz`); rejects with the store's error when it does not. */
  checkReady(): Promise<void>;
  /** Releases connections and files. */
  close(): Promise<void>;
}
