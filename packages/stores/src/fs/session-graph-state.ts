import { InvalidPersistedDataError, mergeTokenLedger, type SessionNodeRecord, type TokenLedgerEntry } from "@lash/protocol";
import type { FileAccess } from "./file-access.js";
import {
  baseFileSchema,
  expectSessionId,
  fileLabels,
  type HeadFile,
  readStoredFile,
  revisionFileSchema,
  type SessionPaths,
} from "./session-files.js";

/** One node of a session, tombstoned or not. */
export interface GraphStateNode {
  readonly record: SessionNodeRecord;
  readonly tombstoned: boolean;
}

/**
 * A session's graph and ledger as of one head: every node in insertion order (tombstoned ones too,
 * their ids stay taken), their positions, and the merged ledger. Never mutated once built: a commit
 * builds a new state, so a reader holding an older one is never surprised.
 */
export interface GraphState {
  readonly lineage: string;
  readonly generation: number;
  readonly revision: number;
  readonly nodes: readonly GraphStateNode[];
  readonly positions: ReadonlyMap<string, number>;
  readonly ledger: readonly TokenLedgerEntry[];
}

/** The graph of a session that has no head. */
export function emptyGraphState(lineage: string): GraphState {
  return { lineage, generation: 0, revision: 0, nodes: [], positions: new Map(), ledger: [] };
}

/** True when `nodeId` is a node of the state that is not tombstoned. */
export function isLiveNode(state: GraphState, nodeId: string): boolean {
  const position = state.positions.get(nodeId);
  return position !== undefined && state.nodes[position]?.tombstoned === false;
}

/** The state with `records` appended and `usage` merged into the ledger (the input is not changed). */
export function appendToGraphState(
  state: GraphState,
  records: readonly SessionNodeRecord[],
  usage: readonly TokenLedgerEntry[],
  revision: number,
): GraphState {
  const nodes = [...state.nodes];
  const positions = new Map(state.positions);
  for (const record of records) {
    positions.set(record.nodeId, nodes.length);
    nodes.push({ record, tombstoned: false });
  }
  return { ...state, revision, nodes, positions, ledger: mergeTokenLedger(state.ledger, usage) };
}

/** A state from a list of nodes (a base, a replaced graph, a vacuumed graph). */
export function graphStateFrom(
  identity: { readonly lineage: string; readonly generation: number; readonly revision: number },
  nodes: readonly GraphStateNode[],
  ledger: readonly TokenLedgerEntry[],
): GraphState {
  const positions = new Map<string, number>();
  for (const [index, node] of nodes.entries()) positions.set(node.record.nodeId, index);
  return { ...identity, nodes, positions, ledger };
}

/**
 * Graph states of recently used sessions, keyed by session directory. An entry is only used for a head
 * with the same lineage and generation: the files a head references are immutable, so the entry plus
 * the revision files after it is exactly what a fresh read would give.
 */
export class GraphStateCache {
  readonly #capacity: number;
  readonly #entries = new Map<string, GraphState>();

  constructor(capacity = 64) {
    this.#capacity = capacity;
  }

  get(key: string): GraphState | undefined {
    const state = this.#entries.get(key);
    if (state !== undefined) {
      // Re-insert to mark it most recently used.
      this.#entries.delete(key);
      this.#entries.set(key, state);
    }
    return state;
  }

  set(key: string, state: GraphState): void {
    const current = this.#entries.get(key);
    // Two loads racing may finish out of order; a newer state of the same lineage is never replaced by an older one.
    if (
      current !== undefined &&
      current.lineage === state.lineage &&
      current.generation === state.generation &&
      current.revision > state.revision
    )
      return;
    this.#entries.delete(key);
    this.#entries.set(key, state);
    while (this.#entries.size > this.#capacity) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.#entries.delete(oldest);
    }
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }

  clear(): void {
    this.#entries.clear();
  }
}

/** Where a session's files are and how to read them. */
export interface SessionFiles {
  readonly access: FileAccess;
  readonly paths: SessionPaths;
  readonly cache: GraphStateCache;
}

/**
 * A file that the head references is missing. Inside a load this usually means a writer replaced the
 * head (and cleaned up) since it was read, so the load reads the head again before calling it corrupt.
 */
export class ReferencedFileMissingError extends Error {
  readonly label: string;

  constructor(label: string) {
    super(`a file the head references is missing: ${label}`);
    this.name = "ReferencedFileMissingError";
    this.label = label;
  }
}

async function readBase(files: SessionFiles, head: HeadFile): Promise<GraphState> {
  const { access, paths } = files;
  if (head.generation === 0) return emptyGraphState(head.lineage);
  const label = fileLabels.base(head.generation);
  const base = await readStoredFile(access, paths.sessionId, paths.base(head.generation), label, baseFileSchema);
  if (base === undefined) throw new ReferencedFileMissingError(label);
  expectSessionId(paths.sessionId, label, base.sessionId);
  if (base.lineage !== head.lineage || base.generation !== head.generation || base.revision !== head.baseRevision) {
    throw new InvalidPersistedDataError(
      paths.sessionId,
      `${label}.revision`,
      `the base is generation ${base.generation} at revision ${base.revision} of lineage ${base.lineage}; the head expects generation ${head.generation} at revision ${head.baseRevision} of lineage ${head.lineage}`,
    );
  }
  const state = graphStateFrom(head, base.nodes, base.ledger);
  if (state.positions.size !== base.nodes.length) {
    const index = base.nodes.findIndex((node, position) => state.positions.get(node.record.nodeId) !== position);
    throw new InvalidPersistedDataError(paths.sessionId, `${label}.nodes.${index}.record.nodeId`, "the node id appears twice");
  }
  return { ...state, revision: head.baseRevision };
}

async function readRevisions(files: SessionFiles, head: HeadFile, from: number, state: GraphState): Promise<GraphState> {
  const { access, paths } = files;
  const revisions: number[] = [];
  for (let revision = from; revision <= head.revision; revision += 1) revisions.push(revision);
  const segments = await Promise.all(
    revisions.map(async (revision) => {
      const label = fileLabels.revision(revision);
      const segment = await readStoredFile(access, paths.sessionId, paths.revision(revision), label, revisionFileSchema);
      if (segment === undefined) throw new ReferencedFileMissingError(label);
      expectSessionId(paths.sessionId, label, segment.sessionId);
      if (segment.lineage !== head.lineage || segment.revision !== revision) {
        throw new InvalidPersistedDataError(
          paths.sessionId,
          `${label}.revision`,
          `the file holds revision ${segment.revision} of lineage ${segment.lineage}; the head expects revision ${revision} of lineage ${head.lineage}`,
        );
      }
      return { label, segment };
    }),
  );
  let next = state;
  for (const { label, segment } of segments) {
    const incoming = new Set<string>();
    segment.nodes.forEach((record, index) => {
      if (next.positions.has(record.nodeId) || incoming.has(record.nodeId)) {
        throw new InvalidPersistedDataError(paths.sessionId, `${label}.nodes.${index}.nodeId`, `node \`${record.nodeId}\` already exists`);
      }
      incoming.add(record.nodeId);
    });
    next = appendToGraphState(next, segment.nodes, segment.usage, segment.revision);
  }
  return { ...next, revision: head.revision };
}

/**
 * The graph state of `head`: from the cache when it holds this head, extended by the revision files it
 * lacks when it holds an earlier head of the same base, read from the base otherwise.
 */
export async function loadGraphState(files: SessionFiles, head: HeadFile): Promise<GraphState> {
  const key = files.paths.directory;
  const cached = files.cache.get(key);
  let state: GraphState;
  if (
    cached !== undefined &&
    cached.lineage === head.lineage &&
    cached.generation === head.generation &&
    cached.revision <= head.revision &&
    cached.revision >= head.baseRevision
  ) {
    if (cached.revision === head.revision) return cached;
    state = await readRevisions(files, head, cached.revision + 1, cached);
  } else {
    const base = await readBase(files, head);
    state = await readRevisions(files, head, head.baseRevision + 1, base);
  }
  files.cache.set(key, state);
  return state;
}
