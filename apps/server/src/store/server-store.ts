import type { SessionListPage, SessionListQuery, SessionStore, SessionStoreFactory } from "@lash/protocol";
import type { ServerAccessStore } from "./access-store.js";

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
  /**
   * The server's API keys and the owners of its sessions, kept with the sessions (a host whose
   * store keeps none gives `createMemoryAccessStore()`: keys and owners then last as long as the process).
   */
  readonly access: ServerAccessStore;
  /** One page of the sessions, in ascending code-point order of id. */
  listSessions(query?: SessionListQuery): Promise<SessionListPage>;
  /** Resolves when the store answers (`/readyz`); rejects with the store's error when it does not. */
  checkReady(): Promise<void>;
  /** Releases connections and files (the access store's too). */
  close(): Promise<void>;
  /**
   * The PostgreSQL database and schema, for a store there: other server instances may serve the
   * same sessions, so `startServer` joins them (cross-instance cancel and reattach) and runs
   * subagents on the durable task host in the same database. Absent for every other store.
   */
  readonly postgres?: { readonly connectionString: string; readonly schema: string | undefined };
}
