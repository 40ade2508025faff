import type {
  GcReport,
  PersistedSessionRead,
  SessionCommit,
  SessionCommitResult,
  SessionListPage,
  SessionListQuery,
  SessionMeta,
  SessionNodeRecord,
  SessionReadScope,
  SessionStore,
  VacuumReport,
} from "@lash/protocol";
import {
  CommitIdConflictError,
  checkExpectedHeadRevision,
  checkGraphCommitDelta,
  InvalidPersistedDataError,
  isEmptyTokenUsage,
  LashError,
  mergeTokenLedger,
  SessionBindingMismatchError,
} from "@lash/protocol";
import { nowIso } from "./ids.js";
import { compactCommit, copiedCommitContent, isSameCommit, jsonCopy, sameJson } from "./in-memory-commit-content.js";
import { commitSummary, metaSummary } from "./in-memory-session-listing.js";
import {
  emptyStoredSession,
  InMemorySessionTable,
  type StoredNode,
  type StoredSession,
  validatedSessionMeta,
} from "./in-memory-session-table.js";

export interface InMemorySessionStoreOptions {
  /** The session the store is bound to; without it, the first commit (or meta) binds it. */
  readonly sessionId?: string;
  /** The backend shared with other stores (an `InMemorySessionDatabase`, for listing); a private one by default. */
  readonly database?: InMemorySessionTable;
}

/**
 * The in-memory `SessionStore`: the reference implementation of the store contract (binding,
 * idempotent commit ids, mandatory compare-and-set, atomic apply, tombstones, content-addressed
 * checkpoints). Everything it returns is a copy, so callers cannot change stored data by mutating
 * results, and everything it keeps is a copy of what it was given.
 *
 * A commit costs one copy of what it carries (its new nodes, checkpoint, config and usage), never
 * of the session. That copy is also what a re-sent commit is compared with (key order aside, as
 * the other stores compare canonical hashes), so the commit path hashes nothing; `vacuum` and
 * `gcUnreachable` replace the kept content of old commits by its hash so that it frees memory.
 */
export class InMemorySessionStore implements SessionStore {
  readonly #database: InMemorySessionTable;
  #sessionId: string | undefined;
  /** Before binding, a store keeps its (empty) data apart from the database. */
  #unbound: StoredSession = emptyStoredSession();

  constructor(options: InMemorySessionStoreOptions = {}) {
    this.#database = options.database ?? new InMemorySessionTable();
    this.#sessionId = options.sessionId;
  }

  /** The bound session id, or `undefined` before the first commit of a store opened without one. */
  get sessionId(): string | undefined {
    return this.#sessionId;
  }

  /** The number of commits applied (replays excluded). */
  get commitCount(): number {
    return this.#read().head?.revision ?? 0;
  }

  async loadHeadRevision(): Promise<number | undefined> {
    return this.#read().head?.revision;
  }

  async loadSession(scope: SessionReadScope): Promise<PersistedSessionRead | undefined> {
    const data = this.#read();
    const head = data.head;
    if (!head) return undefined;
    let nodes = data.nodes.filter((node) => !node.tombstoned).map((node) => node.record);
    let leafNodeId = head.leafNodeId;
    if (scope.type === "active_path") {
      leafNodeId = scope.leafNodeId ?? head.leafNodeId;
      // Decision 17: a missing active leaf is an error, never an empty graph that a later commit would
      // write back as a wipe.
      if (leafNodeId !== undefined && !isLive(data, leafNodeId)) {
        if (scope.leafNodeId !== undefined) {
          throw new LashError(
            "invalid_argument",
            `active_path load of session \`${head.sessionId}\` names leaf \`${leafNodeId}\`, which is not a live node`,
          );
        }
        throw new InvalidPersistedDataError(head.sessionId, "head.leafNodeId", `the head's leaf \`${leafNodeId}\` is not a live node`);
      }
      nodes = activePath(data, leafNodeId);
    }
    const checkpoint = data.blobs.get(head.checkpointRef);
    if (!checkpoint)
      throw new InvalidPersistedDataError(head.sessionId, "head.checkpointRef", `checkpoint \`${head.checkpointRef}\` is missing`);
    const read: PersistedSessionRead = {
      sessionId: head.sessionId,
      headRevision: head.revision,
      config: head.config,
      graph: leafNodeId === undefined ? { nodes } : { nodes, leafNodeId },
      checkpoint,
      tokenLedger: mergeTokenLedger([], data.usage),
    };
    return jsonCopy(read, "the stored session");
  }

  async loadNode(nodeId: string): Promise<SessionNodeRecord | undefined> {
    const data = this.#read();
    const position = data.positions.get(nodeId);
    const node = position === undefined ? undefined : data.nodes[position];
    return node && !node.tombstoned ? jsonCopy(node.record, "the stored node") : undefined;
  }

  async commit(commit: SessionCommit): Promise<SessionCommitResult> {
    this.#bind(commit.sessionId);
    const data = this.#read();
    const head = data.head;
    // The one copy this commit costs: what the store keeps, and what a re-send is compared with.
    const content = copiedCommitContent(
      commit,
      head === undefined ? undefined : { config: head.config, checkpoint: data.blobs.get(head.checkpointRef) },
    );
    const previous = data.commits.get(content.commitId);
    if (previous) {
      if (!isSameCommit(previous, content)) throw new CommitIdConflictError(commit.sessionId, commit.commitId);
      return { ...previous.result, replayed: true };
    }
    // Check everything before writing anything: a commit lands whole or not at all.
    const revision = checkExpectedHeadRevision(content, head?.revision);
    const delta = content.graph;
    const nextLeaf = checkGraphCommitDelta(content, head?.leafNodeId, {
      isTaken: (nodeId) => data.positions.has(nodeId),
      isLive: (nodeId) => isLive(data, nodeId),
    });

    // Reads never store an empty session, so the first write of a session creates its record here
    // (after every check: a rejected commit leaves nothing behind).
    const target = this.#write();
    if (delta.type === "replace_full") {
      target.nodes = [];
      target.positions = new Map();
      for (const node of delta.graph.nodes) insert(target, node);
    } else if (delta.type === "append") {
      for (const node of delta.nodes) insert(target, node);
    }
    for (const entry of content.usageDeltas) {
      if (!isEmptyTokenUsage(entry.usage)) target.usage.push(entry);
    }
    target.head = {
      sessionId: content.sessionId,
      revision,
      config: content.config,
      leafNodeId: nextLeaf,
      checkpointRef: storedCheckpoint(target, content.checkpoint),
    };
    target.summary = commitSummary(target.summary, content, nowIso());
    const result = { headRevision: revision, commitId: content.commitId, replayed: false as const };
    target.commits.set(content.commitId, { result, content, fingerprint: undefined });
    return { ...result };
  }

  async saveSessionMeta(meta: SessionMeta): Promise<void> {
    const validated = validatedSessionMeta(meta);
    this.#bind(meta.sessionId);
    const target = this.#write();
    target.meta = validated;
    // As the other stores: a session first seen through its meta is active since its creation; a
    // later meta does not move the activity time.
    target.summary ??= metaSummary(validated);
  }

  async loadSessionMeta(): Promise<SessionMeta | undefined> {
    const meta = this.#read().meta;
    return meta === undefined ? undefined : jsonCopy(meta, "the session meta");
  }

  async listSessions(query?: SessionListQuery): Promise<SessionListPage> {
    return this.#database.listSessions(query);
  }

  async deleteSession(): Promise<void> {
    if (this.#sessionId === undefined) {
      this.#unbound = emptyStoredSession();
      return;
    }
    this.#database.deleteSession(this.#sessionId);
  }

  async tombstoneNodes(nodeIds: readonly string[]): Promise<void> {
    const data = this.#read();
    for (const nodeId of nodeIds) {
      const position = data.positions.get(nodeId);
      const node = position === undefined ? undefined : data.nodes[position];
      if (node) node.tombstoned = true;
    }
  }

  async vacuum(): Promise<VacuumReport> {
    const data = this.#read();
    const kept: StoredNode[] = data.nodes.filter((node) => !node.tombstoned);
    const removedNodeCount = data.nodes.length - kept.length;
    data.nodes = [];
    data.positions = new Map();
    for (const node of kept) insert(data, node.record);
    // Old commits must not keep the removed nodes alive: they keep the hash of their content instead.
    if (removedNodeCount > 0) for (const stored of data.commits.values()) compactCommit(stored);
    return { removedNodeCount };
  }

  async gcUnreachable(): Promise<GcReport> {
    const data = this.#read();
    const root = data.head?.checkpointRef;
    let deletedBlobCount = 0;
    for (const hash of [...data.blobs.keys()]) {
      if (hash !== root) {
        data.blobs.delete(hash);
        deletedBlobCount += 1;
      }
    }
    // Old commits must not keep the deleted checkpoints alive: they keep the hash of their content instead.
    if (deletedBlobCount > 0) for (const stored of data.commits.values()) compactCommit(stored);
    return { rootCount: root === undefined ? 0 : 1, retainedBlobCount: data.blobs.size, deletedBlobCount };
  }

  #bind(sessionId: string): void {
    if (this.#sessionId === undefined) {
      this.#sessionId = sessionId;
      return;
    }
    if (this.#sessionId !== sessionId) throw new SessionBindingMismatchError(this.#sessionId, sessionId);
  }

  /**
   * The session's stored data for reading. A session that does not exist reads as a fresh empty record
   * that is not stored: probing ids (loads, listings, tombstones of unknown sessions) must not leave
   * empty records behind in the database. Changes to a stored record (tombstones, vacuum, gc) apply in
   * place; changes to the throwaway record of a missing session change nothing, as they should.
   */
  #read(): StoredSession {
    if (this.#sessionId === undefined) return this.#unbound;
    return this.#database.existingSession(this.#sessionId) ?? emptyStoredSession();
  }

  /** The session's stored data for a write, created when the session has none yet. */
  #write(): StoredSession {
    return this.#sessionId === undefined ? this.#unbound : this.#database.session(this.#sessionId);
  }
}

/**
 * The key of `checkpoint` in the session's blobs: the head's, when the checkpoint is the same (a
 * commit that changes no turn state), else a new blob.
 */
function storedCheckpoint(data: StoredSession, checkpoint: SessionCommit["checkpoint"]): string {
  const headRef = data.head?.checkpointRef;
  if (headRef !== undefined && sameJson(data.blobs.get(headRef), checkpoint)) return headRef;
  const ref = `checkpoint-${data.nextBlob}`;
  data.nextBlob += 1;
  data.blobs.set(ref, checkpoint);
  return ref;
}

function isLive(data: StoredSession, nodeId: string): boolean {
  const position = data.positions.get(nodeId);
  return position !== undefined && data.nodes[position]?.tombstoned === false;
}

function insert(data: StoredSession, record: SessionNodeRecord): void {
  data.positions.set(record.nodeId, data.nodes.length);
  data.nodes.push({ record, tombstoned: false });
}

function activePath(data: StoredSession, leafNodeId: string | undefined): SessionNodeRecord[] {
  const path: SessionNodeRecord[] = [];
  const seen = new Set<string>();
  let current = leafNodeId === undefined ? undefined : data.nodes[data.positions.get(leafNodeId) ?? -1];
  while (current && !current.tombstoned && !seen.has(current.record.nodeId)) {
    seen.add(current.record.nodeId);
    path.push(current.record);
    const parent = current.record.parentNodeId;
    current = parent === undefined ? undefined : data.nodes[data.positions.get(parent) ?? -1];
  }
  return path.reverse();
}
