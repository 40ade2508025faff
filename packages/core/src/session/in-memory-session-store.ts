import type {
  PersistedSessionConfig,
  PersistedSessionRead,
  SessionCheckpoint,
  SessionCommit,
  SessionCommitResult,
  SessionNodeRecord,
  SessionReadScope,
  SessionStore,
  TokenLedgerEntry,
} from "@lash/protocol";
import {
  CommitIdConflictError,
  HeadRevisionConflictError,
  InvalidPersistedDataError,
  isEmptyTokenUsage,
  LashError,
  mergeTokenLedger,
  SessionBindingMismatchError,
  stableStringify,
} from "@lash/protocol";
import { sha256Hex } from "./ids.js";

interface StoredNode {
  record: SessionNodeRecord;
  tombstoned: boolean;
}

interface Head {
  sessionId: string;
  revision: number;
  config: PersistedSessionConfig;
  leafNodeId: string | undefined;
  checkpoint: SessionCheckpoint;
}

/**
 * The in-memory `SessionStore`: the reference implementation of the commit contract (binding,
 * idempotent commit ids, mandatory compare-and-set, atomic apply). Everything it returns is a copy,
 * so callers cannot change stored data by mutating results.
 */
export class InMemorySessionStore implements SessionStore {
  #head: Head | undefined;
  #nodes: StoredNode[] = [];
  #positions = new Map<string, number>();
  #usage: TokenLedgerEntry[] = [];
  readonly #commits = new Map<string, { hash: string; result: SessionCommitResult }>();

  /** The number of commits applied (replays excluded). */
  get commitCount(): number {
    return this.#head?.revision ?? 0;
  }

  async loadHeadRevision(): Promise<number | undefined> {
    return this.#head?.revision;
  }

  async loadSession(scope: SessionReadScope): Promise<PersistedSessionRead | undefined> {
    const head = this.#head;
    if (!head) return undefined;
    const visible = this.#nodes.filter((node) => !node.tombstoned).map((node) => node.record);
    let nodes = visible;
    let leafNodeId = head.leafNodeId;
    if (scope.type === "active_path") {
      leafNodeId = scope.leafNodeId ?? head.leafNodeId;
      // Decision 17: a missing active leaf is an error, never an empty graph that a later commit would
      // write back as a wipe.
      if (leafNodeId !== undefined && !this.#isLive(leafNodeId)) {
        if (scope.leafNodeId !== undefined) {
          throw new LashError("invalid_argument", `active_path load of session \`${head.sessionId}\` names leaf \`${leafNodeId}\`, which is not a live node`);
        }
        throw new InvalidPersistedDataError(head.sessionId, "head.leafNodeId", `the head's leaf \`${leafNodeId}\` is not a live node`);
      }
      nodes = this.#activePath(leafNodeId);
    }
    const read: PersistedSessionRead = {
      sessionId: head.sessionId,
      headRevision: head.revision,
      config: head.config,
      graph: leafNodeId === undefined ? { nodes } : { nodes, leafNodeId },
      checkpoint: head.checkpoint,
      tokenLedger: mergeTokenLedger([], this.#usage),
    };
    return structuredClone(read);
  }

  async loadNode(nodeId: string): Promise<SessionNodeRecord | undefined> {
    const position = this.#positions.get(nodeId);
    const node = position === undefined ? undefined : this.#nodes[position];
    return node && !node.tombstoned ? structuredClone(node.record) : undefined;
  }

  async commit(commit: SessionCommit): Promise<SessionCommitResult> {
    const head = this.#head;
    if (head && head.sessionId !== commit.sessionId) throw new SessionBindingMismatchError(head.sessionId, commit.sessionId);
    const hash = sha256Hex(stableStringify(commit));
    const previous = this.#commits.get(commit.commitId);
    if (previous) {
      if (previous.hash !== hash) throw new CommitIdConflictError(commit.sessionId, commit.commitId);
      return { ...previous.result, replayed: true };
    }
    const actual = head?.revision ?? 0;
    // Decision 13: `undefined` means "must not exist yet", and a revision means "must exist at it";
    // a first commit naming revision 0 is a caller that believes in a head that is not there.
    const expectedMatches = head === undefined ? commit.expectedHeadRevision === undefined : commit.expectedHeadRevision === actual;
    if (!expectedMatches) throw new HeadRevisionConflictError(commit.sessionId, commit.expectedHeadRevision, actual);

    // Check everything before writing anything: a commit lands whole or not at all.
    const delta = structuredClone(commit.graph);
    if (delta.type === "append") {
      const incoming = new Set<string>();
      for (const node of delta.nodes) {
        if (this.#positions.has(node.nodeId) || incoming.has(node.nodeId)) {
          throw new LashError("invalid_argument", `commit \`${commit.commitId}\` appends node \`${node.nodeId}\`, which already exists in session \`${commit.sessionId}\``);
        }
        incoming.add(node.nodeId);
      }
    }
    const nextLeaf = delta.type === "replace_full" ? delta.graph.leafNodeId : (delta.leafNodeId ?? head?.leafNodeId);
    if (nextLeaf !== undefined) {
      const existsAfter =
        delta.type === "replace_full"
          ? delta.graph.nodes.some((node) => node.nodeId === nextLeaf)
          : this.#isLive(nextLeaf) || (delta.type === "append" && delta.nodes.some((node) => node.nodeId === nextLeaf));
      if (!existsAfter) {
        throw new LashError("invalid_argument", `commit \`${commit.commitId}\` sets leaf \`${nextLeaf}\`, which is not a node of session \`${commit.sessionId}\``);
      }
    }
    if (delta.type === "replace_full") {
      this.#nodes = [];
      this.#positions = new Map();
      for (const node of delta.graph.nodes) this.#insert(node);
    } else if (delta.type === "append") {
      for (const node of delta.nodes) this.#insert(node);
    }
    for (const entry of commit.usageDeltas) {
      if (!isEmptyTokenUsage(entry.usage)) this.#usage.push(structuredClone(entry));
    }
    this.#head = {
      sessionId: commit.sessionId,
      revision: actual + 1,
      config: structuredClone(commit.config),
      leafNodeId: nextLeaf,
      checkpoint: structuredClone(commit.checkpoint),
    };
    const result: SessionCommitResult = { headRevision: actual + 1, commitId: commit.commitId, replayed: false };
    this.#commits.set(commit.commitId, { hash, result });
    return { ...result };
  }

  #isLive(nodeId: string): boolean {
    const position = this.#positions.get(nodeId);
    return position !== undefined && this.#nodes[position]?.tombstoned === false;
  }

  #insert(record: SessionNodeRecord): void {
    this.#positions.set(record.nodeId, this.#nodes.length);
    this.#nodes.push({ record, tombstoned: false });
  }

  #activePath(leafNodeId: string | undefined): SessionNodeRecord[] {
    const path: SessionNodeRecord[] = [];
    const seen = new Set<string>();
    let current = leafNodeId === undefined ? undefined : this.#nodes[this.#positions.get(leafNodeId) ?? -1];
    while (current && !current.tombstoned && !seen.has(current.record.nodeId)) {
      seen.add(current.record.nodeId);
      path.push(current.record);
      const parent = current.record.parentNodeId;
      current = parent === undefined ? undefined : this.#nodes[this.#positions.get(parent) ?? -1];
    }
    return path.reverse();
  }
}
