import type {
  GcReport,
  PersistedSessionRead,
  SessionCommit,
  SessionCommitResult,
  SessionListQuery,
  SessionMeta,
  SessionNodeRecord,
  SessionReadScope,
  SessionStore,
  VacuumReport,
} from "@lash/protocol";
import type { ListedSessionPage } from "../shared/session-listing.js";
import type { SqlAttachmentStore } from "./sql-attachment-store.js";
import { commitSession } from "./sql-commit.js";
import { listSessions, loadSessionMeta, saveSessionMeta } from "./sql-listing.js";
import { loadHeadRevision, loadNodeRecord, loadSessionRead } from "./sql-loads.js";
import { deleteSession, gcUnreachable, tombstoneNodes, vacuum } from "./sql-maintenance.js";
import type { SqlStoreContext } from "./sql-store-context.js";

/**
 * A `SessionStore` bound to one session of a SQL database. Opened by
 * `SqlSessionDatabase.openSession` or `createStore`; every handle on the same id sees the same
 * session, and every method is one transaction (or one statement) on the shared database.
 */
export class SqlSessionStore implements SessionStore {
  readonly #context: SqlStoreContext;
  readonly #sessionId: string;
  readonly #attachments: SqlAttachmentStore;

  /** @internal Use `SqlSessionDatabase.openSession`. */
  constructor(context: SqlStoreContext, sessionId: string, attachments: SqlAttachmentStore) {
    this.#context = context;
    this.#sessionId = sessionId;
    this.#attachments = attachments;
  }

  /** The database's attachment store (`SqlSessionDatabase.attachments`), shared by all its sessions. */
  get attachments(): SqlAttachmentStore {
    return this.#attachments;
  }

  /** The session this store is bound to. */
  get sessionId(): string {
    return this.#sessionId;
  }

  loadSession(scope: SessionReadScope): Promise<PersistedSessionRead | undefined> {
    return this.#run("loading", () => loadSessionRead(this.#context, this.#sessionId, scope));
  }

  loadHeadRevision(): Promise<number | undefined> {
    return this.#run("loading the head revision of", () => loadHeadRevision(this.#context, this.#sessionId));
  }

  loadNode(nodeId: string): Promise<SessionNodeRecord | undefined> {
    return this.#run("loading a node of", () => loadNodeRecord(this.#context, this.#sessionId, nodeId));
  }

  commit(commit: SessionCommit): Promise<SessionCommitResult> {
    return this.#run("committing to", () => commitSession(this.#context, this.#sessionId, commit));
  }

  saveSessionMeta(meta: SessionMeta): Promise<void> {
    return this.#run("saving the meta of", () => saveSessionMeta(this.#context, this.#sessionId, meta));
  }

  loadSessionMeta(): Promise<SessionMeta | undefined> {
    return this.#run("loading the meta of", () => loadSessionMeta(this.#context, this.#sessionId));
  }

  listSessions(query?: SessionListQuery): Promise<ListedSessionPage> {
    return this.#context.run("listing sessions", () => listSessions(this.#context, query));
  }

  deleteSession(): Promise<void> {
    return this.#run("deleting", () => deleteSession(this.#context, this.#sessionId));
  }

  tombstoneNodes(nodeIds: readonly string[]): Promise<void> {
    return this.#run("tombstoning nodes of", () => tombstoneNodes(this.#context, this.#sessionId, nodeIds));
  }

  vacuum(): Promise<VacuumReport> {
    return this.#run("vacuuming", () => vacuum(this.#context, this.#sessionId));
  }

  gcUnreachable(): Promise<GcReport> {
    return this.#run("collecting unreachable blobs of", () => gcUnreachable(this.#context, this.#sessionId));
  }

  #run<Result>(operation: string, body: () => Promise<Result>): Promise<Result> {
    return this.#context.run(`${operation} session \`${this.#sessionId}\``, body);
  }
}
