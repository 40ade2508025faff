import type { SessionNodeRecord } from "../graph.js";
import type {
  PersistedSessionRead,
  SessionCommit,
  SessionCommitResult,
  SessionReadScope,
  SessionStoreCreateRequest,
} from "../store-schemas.js";

/**
 * Durable storage of one session (the reference's `RuntimePersistence`). A store is bound to the
 * session id of its first commit; every method is safe to call concurrently.
 *
 * The commit contract:
 * 1. a head bound to another session id → `SessionBindingMismatchError`, nothing written;
 * 2. `commitId` already applied: same content → the stored result with `replayed: true`; different
 *    content → `CommitIdConflictError`; nothing written either way;
 * 3. `expectedHeadRevision` differs from the head (`undefined` = no head may exist) →
 *    `HeadRevisionConflictError { expected, actual }`, nothing written;
 * 4. otherwise the graph delta, the checkpoint, the config and the usage deltas are applied
 *    atomically and the head revision becomes `actual + 1`.
 */
export interface SessionStore {
  /** Loads the session, or `undefined` when nothing was ever committed. */
  loadSession(scope: SessionReadScope): Promise<PersistedSessionRead | undefined>;
  /**
   * The current head revision, or `undefined` when nothing was committed. Optional: a cheap probe the
   * runtime uses before each turn to decide whether another writer moved the head (without it, the
   * runtime loads the session).
   */
  loadHeadRevision?(): Promise<number | undefined>;
  /** Loads one node (tombstoned nodes are invisible). */
  loadNode(nodeId: string): Promise<SessionNodeRecord | undefined>;
  /** Applies one commit atomically (see the contract above). */
  commit(commit: SessionCommit): Promise<SessionCommitResult>;
}

/**
 * Opens stores for sessions created at runtime (child sessions, handoff successors). The returned
 * store must be bound to `request.sessionId`; reopening an existing id returns its existing data.
 */
export interface SessionStoreFactory {
  createStore(request: SessionStoreCreateRequest): Promise<SessionStore>;
}
