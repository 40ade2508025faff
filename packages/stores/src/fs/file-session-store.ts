import {
  type GcReport,
  type PersistedSessionRead,
  SessionBindingMismatchError,
  type SessionCommit,
  type SessionCommitResult,
  type SessionListQuery,
  type SessionMeta,
  type SessionNodeRecord,
  type SessionReadScope,
  type SessionStore,
  type VacuumReport,
} from "@lash/protocol";
import type { ListedSessionPage } from "../shared/session-listing.js";
import type { FileAccess } from "./file-access.js";
import type { FileAttachmentStore } from "./file-attachment-store.js";
import { applyCommit } from "./session-commit.js";
import { readMeta, SessionPaths } from "./session-files.js";
import type { GraphStateCache, SessionFiles } from "./session-graph-state.js";
import { listSessions } from "./session-listing.js";
import { loadHeadRevision, loadNode, loadSession } from "./session-loads.js";
import { type HeldLock, withSessionLock } from "./session-lock.js";
import { deleteSession, gcUnreachable, parseMeta, saveMeta, tombstoneNodes, vacuum } from "./session-maintenance.js";

/** What a store shares with its database object. */
export interface FileSessionStoreContext {
  readonly root: string;
  readonly access: FileAccess;
  readonly cache: GraphStateCache;
  readonly lockTimeoutMs: number;
  /** The root's attachment store (`FileSessionDatabase.attachments`). */
  readonly attachments: FileAttachmentStore;
}

/**
 * A `SessionStore` for one session of a filesystem root (see `createFileSessionDatabase`). It is bound
 * to its session id from the start. Reads take no lock; every write holds the session's write lock,
 * which serialises writers of this process and of other processes.
 */
export class FileSessionStore implements SessionStore {
  readonly #context: FileSessionStoreContext;
  readonly #files: SessionFiles;

  constructor(context: FileSessionStoreContext, sessionId: string) {
    this.#context = context;
    this.#files = { access: context.access, paths: new SessionPaths(context.root, sessionId), cache: context.cache };
  }

  /** The session this store is bound to. */
  get sessionId(): string {
    return this.#files.paths.sessionId;
  }

  /** The root's attachment store (`FileSessionDatabase.attachments`), shared by all its sessions. */
  get attachments(): FileAttachmentStore {
    return this.#context.attachments;
  }

  async loadSession(scope: SessionReadScope): Promise<PersistedSessionRead | undefined> {
    return loadSession(this.#files, scope);
  }

  async loadHeadRevision(): Promise<number | undefined> {
    return loadHeadRevision(this.#files);
  }

  async loadNode(nodeId: string): Promise<SessionNodeRecord | undefined> {
    return loadNode(this.#files, nodeId);
  }

  async commit(commit: SessionCommit): Promise<SessionCommitResult> {
    this.#checkBinding(commit.sessionId);
    return this.#withLock((lock) => applyCommit(this.#files, lock, commit));
  }

  async saveSessionMeta(meta: SessionMeta): Promise<void> {
    const valid = parseMeta(meta);
    this.#checkBinding(valid.sessionId);
    await this.#withLock(() => saveMeta(this.#files, valid, { onlyIfAbsent: false }));
  }

  /** Writes `meta` unless the session already has meta (what `createStore` does); atomic across processes. */
  async saveSessionMetaIfAbsent(meta: SessionMeta): Promise<void> {
    const valid = parseMeta(meta);
    this.#checkBinding(valid.sessionId);
    await this.#withLock(() => saveMeta(this.#files, valid, { onlyIfAbsent: true }));
  }

  async loadSessionMeta(): Promise<SessionMeta | undefined> {
    return (await readMeta(this.#files.access, this.#files.paths))?.meta;
  }

  async listSessions(query?: SessionListQuery): Promise<ListedSessionPage> {
    return listSessions(this.#context.access, this.#context.root, query);
  }

  async deleteSession(): Promise<void> {
    await this.#withLock(() => deleteSession(this.#files));
  }

  async tombstoneNodes(nodeIds: readonly string[]): Promise<void> {
    await this.#withLock((lock) => tombstoneNodes(this.#files, lock, nodeIds));
  }

  async vacuum(): Promise<VacuumReport> {
    return this.#withLock((lock) => vacuum(this.#files, lock));
  }

  async gcUnreachable(): Promise<GcReport> {
    return this.#withLock(() => gcUnreachable(this.#files));
  }

  #checkBinding(sessionId: string): void {
    if (sessionId !== this.sessionId) throw new SessionBindingMismatchError(this.sessionId, sessionId);
  }

  #withLock<T>(action: (lock: HeldLock) => Promise<T>): Promise<T> {
    return withSessionLock(
      this.#files.access,
      this.#files.paths.lock,
      { sessionId: this.sessionId, timeoutMs: this.#context.lockTimeoutMs },
      action,
    );
  }
}
