import type { SessionStore, SessionStoreFactory } from "@lash/protocol";

/**
 * What a backend declares it can do. The suite runs the tests a capability enables and states the
 * ones it leaves out in the test titles; it never skips by backend name.
 */
export interface SessionStoreCapabilities {
  /** `loadSession({ type: "active_path" })` is served (otherwise it must throw `UnsupportedReadScopeError`). */
  readonly activePathScope: boolean;
  /** Data survives `backend.reopen()` (a new connection or instance over the same storage). */
  readonly durable: boolean;
  /**
   * `listSessions` fills the summary fields of its entries (`model`, `turnCount`, `lastActivityAt`,
   * `tokenUsage`) and serves `orderBy: "lastActivity"`. Default false: the suite then only checks
   * that the order is accepted.
   */
  readonly sessionSummaries?: boolean;
}

/** One backend instance (a database, a root folder, an in-memory database) holding many sessions. */
export interface SessionStoreBackend {
  /** A store bound to `sessionId` on this backend. Opening the same id twice gives two handles on one session. */
  openSession(sessionId: string): SessionStore | Promise<SessionStore>;
  /** The backend's factory (writes meta on create, keeps existing meta on reopen). */
  readonly factory: SessionStoreFactory;
  /** Closes this backend and opens it again over the same storage (only called when `durable`). */
  reopen?(): Promise<SessionStoreBackend>;
  /** Releases connections and removes what `setup` created. */
  close(): Promise<void>;
}

/** How the conformance suite reaches a store implementation. */
export interface SessionStoreHarness {
  /** Shown in the suite's title, for example `"sqlite"`. */
  readonly name: string;
  readonly capabilities: SessionStoreCapabilities;
  /** A fresh, empty backend for one test. */
  setup(): Promise<SessionStoreBackend>;
  /**
   * When set and it returns a reason, the whole suite is skipped with that reason in its title (for
   * example a PostgreSQL server that is not reachable outside CI).
   */
  skipReason?(): Promise<string | undefined>;
}
