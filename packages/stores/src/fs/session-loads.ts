import { createHash } from "node:crypto";
import {
  InvalidPersistedDataError,
  LashError,
  type PersistedSessionRead,
  type SessionCheckpoint,
  type SessionNodeRecord,
  type SessionReadScope,
  sessionCheckpointSchema,
  sessionReadScopeSchema,
} from "@lash/protocol";
import { fileLabels, type HeadFile, parseStoredJson, readHead } from "./session-files.js";
import { type GraphState, isLiveNode, loadGraphState, ReferencedFileMissingError, type SessionFiles } from "./session-graph-state.js";

/** How often a load starts over because a writer replaced the head while it was reading. */
const MAX_READ_ATTEMPTS = 5;

function sameHead(left: HeadFile, right: HeadFile): boolean {
  return (
    left.lineage === right.lineage &&
    left.revision === right.revision &&
    left.generation === right.generation &&
    left.checkpointRef === right.checkpointRef
  );
}

/**
 * Runs `read` on the current head without taking the lock. Writers only delete files after a new head
 * is in place, so a referenced file that is missing or does not match means either a writer moved on
 * (the head differs when read again: start over) or the data is damaged (the head is the same: the
 * error stands, as `InvalidPersistedDataError`). `undefined` when there is no head.
 */
export async function readConsistently<T>(files: SessionFiles, read: (head: HeadFile) => Promise<T>): Promise<T | undefined> {
  let head = await readHead(files.access, files.paths);
  for (let attempt = 1; head !== undefined; attempt += 1) {
    try {
      return await read(head);
    } catch (error) {
      const missing = error instanceof ReferencedFileMissingError;
      if (!missing && !InvalidPersistedDataError.isInstance(error)) throw error;
      const current = await readHead(files.access, files.paths);
      if (current === undefined) return undefined;
      if (!sameHead(current, head) && attempt < MAX_READ_ATTEMPTS) {
        head = current;
        continue;
      }
      if (missing)
        throw new InvalidPersistedDataError(files.paths.sessionId, error.label, "the head references this file, but it is missing");
      throw error;
    }
  }
  return undefined;
}

/** The head's checkpoint, checked against its content address. */
export async function readCheckpoint(files: SessionFiles, checkpointRef: string): Promise<SessionCheckpoint> {
  const label = fileLabels.blob(checkpointRef);
  const text = await files.access.readTextIfExists(files.paths.blob(checkpointRef));
  if (text === undefined) throw new ReferencedFileMissingError(label);
  if (createHash("sha256").update(text).digest("hex") !== checkpointRef) {
    throw new InvalidPersistedDataError(files.paths.sessionId, label, "the content does not match its SHA-256 address");
  }
  return parseStoredJson(files.paths.sessionId, label, text, sessionCheckpointSchema);
}

function activePath(state: GraphState, leafNodeId: string | undefined): SessionNodeRecord[] {
  const path: SessionNodeRecord[] = [];
  const seen = new Set<string>();
  let current = leafNodeId === undefined ? undefined : state.nodes[state.positions.get(leafNodeId) ?? -1];
  // Stops at a missing or tombstoned parent, and at a cycle (which only damaged data can hold).
  while (current !== undefined && !current.tombstoned && !seen.has(current.record.nodeId)) {
    seen.add(current.record.nodeId);
    path.push(current.record);
    const parent = current.record.parentNodeId;
    current = parent === undefined ? undefined : state.nodes[state.positions.get(parent) ?? -1];
  }
  return path.reverse();
}

function buildRead(
  sessionId: string,
  head: HeadFile,
  state: GraphState,
  checkpoint: SessionCheckpoint,
  scope: SessionReadScope,
): PersistedSessionRead {
  let leafNodeId = head.leafNodeId;
  let nodes: SessionNodeRecord[];
  if (scope.type === "active_path") {
    leafNodeId = scope.leafNodeId ?? head.leafNodeId;
    // Decision 17: a missing active leaf is an error, never an empty graph that a later commit would
    // write back as a wipe.
    if (leafNodeId !== undefined && !isLiveNode(state, leafNodeId)) {
      if (scope.leafNodeId !== undefined) {
        throw new LashError(
          "invalid_argument",
          `active_path load of session \`${sessionId}\` names leaf \`${leafNodeId}\`, which is not a live node`,
        );
      }
      throw new InvalidPersistedDataError(
        sessionId,
        `${fileLabels.head}.leafNodeId`,
        `the head's leaf \`${leafNodeId}\` is not a live node`,
      );
    }
    nodes = activePath(state, leafNodeId);
  } else {
    nodes = state.nodes.filter((node) => !node.tombstoned).map((node) => node.record);
  }
  const read: PersistedSessionRead = {
    sessionId,
    headRevision: head.revision,
    config: head.config,
    graph: leafNodeId === undefined ? { nodes } : { nodes, leafNodeId },
    checkpoint,
    tokenLedger: [...state.ledger],
  };
  // Stored states are shared with the cache; callers get their own copy.
  return structuredClone(read);
}

/** `SessionStore.loadSession`. */
export async function loadSession(files: SessionFiles, scope: SessionReadScope): Promise<PersistedSessionRead | undefined> {
  const parsedScope = sessionReadScopeSchema.safeParse(scope);
  if (!parsedScope.success) {
    throw new LashError("invalid_argument", `invalid read scope: ${parsedScope.error.issues[0]?.message ?? "invalid"}`);
  }
  return readConsistently(files, async (head) => {
    const [state, checkpoint] = await Promise.all([loadGraphState(files, head), readCheckpoint(files, head.checkpointRef)]);
    return buildRead(files.paths.sessionId, head, state, checkpoint, parsedScope.data);
  });
}

/** `SessionStore.loadNode`: live nodes only. */
export async function loadNode(files: SessionFiles, nodeId: string): Promise<SessionNodeRecord | undefined> {
  return readConsistently(files, async (head) => {
    const state = await loadGraphState(files, head);
    const position = state.positions.get(nodeId);
    const node = position === undefined ? undefined : state.nodes[position];
    return node !== undefined && !node.tombstoned ? structuredClone(node.record) : undefined;
  });
}

/** `SessionStore.loadHeadRevision`: reads the head file only. */
export async function loadHeadRevision(files: SessionFiles): Promise<number | undefined> {
  return (await readHead(files.access, files.paths))?.revision;
}
