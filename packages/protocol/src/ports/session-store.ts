import type { SessionNodeRecord } from "../graph.js";
import type {
  GcReport,
  PersistedSessionRead,
  SessionCommit,
  SessionCommitResult,
  SessionListPage,
  SessionListQuery,
  SessionMeta,
  SessionReadScope,
  SessionStoreCreateRequest,
  VacuumReport,
} from "../store-schemas.js";
import type { AttachmentStore } from "./attachment-store.js";

/**
 * Durable storage of one session, reached through a backend that may hold many sessions (one SQL
 * database, one filesystem root, one in-memory database). A store is bound to one session id: given
 * when it is opened, or taken from its first commit. Every method may be called concurrently; each
 * one is atomic. Errors are `LashError`s: `StoreUnavailableError` when the backend cannot be
 * reached, `InvalidPersistedDataError` (naming the session and the field) when stored data does not
 * parse. Nothing a method rejects is half-written.
 *
 * The commit contract:
 * 1. a store bound to another session id → `SessionBindingMismatchError`, nothing written;
 * 2. `commitId` already applied to this session: same content → the stored result with
 *    `replayed: true`; different content → `CommitIdConflictError`; nothing written either way
 *    (so a retried commit never counts usage twice);
 * 3. `expectedHeadRevision` differs from the head (`undefined` = no head may exist yet) →
 *    `HeadRevisionConflictError { expected, actual }`, nothing written;
 * 4. an `append` delta naming an existing node id (tombstoned ones included), or a leaf that is not a
 *    live node after the delta → `LashError("invalid_argument")`, nothing written;
 * 5. a store that refuses a commit for a reason of its own (a host's commit hook failed) rolls it
 *    back and throws `LashError("store_commit_failed")`: nothing written, so the runtime sends what
 *    it carried again with its next commit instead of re-sending it;
 * 6. otherwise the graph delta, the checkpoint, the config and the usage deltas are applied
 *    atomically and the head revision becomes `actual + 1`. `unchanged` / `append` without a leaf
 *    keep the head's leaf; usage entries whose four counts are all zero are dropped. When `commit`
 *    returns, the commit is as durable as its `durability` asks (absent: `"turn"`, it survives a
 *    power loss; `"checkpoint"`: it survives the writer's process being killed).
 */
export interface SessionStore {
  /**
   * The session id this store is bound to, or `undefined` while it is not bound yet (a store bound
   * by its first commit). Optional: a runtime built on a store takes its session id from here and
   * refuses, at `build()`, a session id that disagrees with it.
   */
  readonly sessionId?: string | undefined;
  /**
   * The attachment store of the same backend (the same database or root), where the images of this
   * session's messages are kept. Optional: a runtime built on this store uses it when the host did
   * not give one (`withAttachmentStore`), so images survive a restart along with the messages that
   * reference them.
   */
  readonly attachments?: AttachmentStore | undefined;
  /**
   * Loads the session, or `undefined` when nothing was ever committed. `full_graph`: every live node
   * in insertion order. `active_path`: the path from the root to `leafNodeId` (default: the head's
   * leaf); a leaf that is not a live node is an error (never an empty graph that a later
   * commit would write back as a wipe). A store that cannot serve a scope throws
   * `UnsupportedReadScopeError`; callers never fall back. The ledger is merged per (source, model).
   */
  loadSession(scope: SessionReadScope): Promise<PersistedSessionRead | undefined>;
  /**
   * The current head revision, or `undefined` when nothing was committed. Optional: a cheap probe the
   * runtime uses before each turn to decide whether another writer moved the head (without it, the
   * runtime loads the session).
   */
  loadHeadRevision?(): Promise<number | undefined>;
  /** Loads one node, on or off the active path; tombstoned nodes are invisible (`undefined`). */
  loadNode(nodeId: string): Promise<SessionNodeRecord | undefined>;
  /** Applies one commit atomically (see the contract above). */
  commit(commit: SessionCommit): Promise<SessionCommitResult>;
  /**
   * Writes the session's listing data (replacing earlier meta). `meta.sessionId` must be the bound
   * session id (`SessionBindingMismatchError` otherwise).
   */
  saveSessionMeta(meta: SessionMeta): Promise<void>;
  /** The session's listing data, or `undefined` when none was saved. */
  loadSessionMeta(): Promise<SessionMeta | undefined>;
  /**
   * Lists the sessions of this store's backend (not only the bound one): every session that has a
   * head or a meta, in ascending code-point order of id (or newest activity first, for
   * `orderBy: "lastActivity"` on a store that keeps activity times), filtered by the meta's parent
   * and relation type (a session without meta matches no filter), one page at a time.
   */
  listSessions(query?: SessionListQuery): Promise<SessionListPage>;
  /**
   * Deletes the bound session: head, nodes, usage, commit records, meta and its blobs. Afterwards the
   * session loads as `undefined` and a new first commit (`expectedHeadRevision: undefined`) may
   * start it again. Deleting a session that does not exist does nothing. Other sessions are untouched.
   */
  deleteSession(): Promise<void>;
  /**
   * Hides nodes from every load and count (unknown ids are ignored). A tombstoned id stays taken:
   * appending it again is an error until `vacuum` removes it. Does not move the head or its leaf; the
   * host must not tombstone nodes of the active path.
   */
  tombstoneNodes(nodeIds: readonly string[]): Promise<void>;
  /** Deletes tombstoned nodes for good. */
  vacuum(): Promise<VacuumReport>;
  /** Deletes the session's blobs that the head's checkpoint does not reach. */
  gcUnreachable(): Promise<GcReport>;
}

/**
 * Opens stores for sessions created at runtime (child sessions, handoff successors). The returned
 * store must be bound to `request.sessionId` (never a shared pre-opened store); reopening an existing
 * id returns its existing data. A factory writes the session's meta when it has none (from the
 * request: name = session id, model = policy model, parent and relation) and keeps existing meta.
 */
export interface SessionStoreFactory {
  /**
   * The attachment store of the same backend; optional. A runtime environment built on this
   * factory uses it when the host did not give one (see `SessionStore.attachments`).
   */
  readonly attachments?: AttachmentStore | undefined;
  /** Opens (creating when needed) the store of `request.sessionId`, bound to it, with its meta written (see above). */
  createStore(request: SessionStoreCreateRequest): Promise<SessionStore>;
}
