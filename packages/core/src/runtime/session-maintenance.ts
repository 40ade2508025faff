import type { PersistedSessionRead, SessionNodeRecord, SessionStore, VacuumReport } from "@lash/protocol";
import { LashError } from "@lash/protocol";
import { SessionGraphEditor } from "../session/session-graph.js";
import { awaitingApprovalError } from "../turn/turn-suspension.js";
import type { SessionCore } from "./session-core.js";

function requireStore(core: SessionCore, operation: string): SessionStore {
  if (!core.store)
    throw new LashError("invalid_configuration", `${operation} requires a persistent runtime: session \`${core.sessionId}\` has no store`);
  return core.store;
}

function refuseDuringTurn(core: SessionCore, operation: string): void {
  if (core.turnRunning) throw new LashError("turn_in_progress", `${operation} cannot run while session \`${core.sessionId}\` runs a turn`);
}

function isMissingNode(error: unknown): boolean {
  return LashError.isInstance(error) && (error.code === "invalid_argument" || error.code === "invalid_persisted_data");
}

/**
 * Node ids that must survive maintenance: the stored head's active path and the runtime's own
 * active path (which differs from the store's while a branch move is not committed yet).
 */
function protectedNodeIds(core: SessionCore, read: PersistedSessionRead | undefined): Set<string> {
  const ids = new Set(core.graph.activePath().map((node) => node.nodeId));
  if (read) for (const node of SessionGraphEditor.from(read.graph).activePath()) ids.add(node.nodeId);
  return ids;
}

/** A node from memory, else from the store (off-path nodes under `active_path_only`). */
export async function historicNode(core: SessionCore, nodeId: string): Promise<SessionNodeRecord | undefined> {
  const resident = core.graph.node(nodeId);
  if (resident) return resident;
  return requireStore(core, "getHistoricNode()").loadNode(nodeId);
}

/**
 * With a store: the stored nodes on neither the store head's active path nor the runtime's (one full
 * load). Without a store: the in-memory graph's orphans.
 */
export function orphanedNodeIds(core: SessionCore): Promise<string[]> {
  const store = core.store;
  if (!store) return Promise.resolve(core.graph.orphanedNodeIds());
  return core.exclusive(async () => {
    const read = await store.loadSession({ type: "full_graph" });
    if (!read) return [];
    const kept = protectedNodeIds(core, read);
    return read.graph.nodes.filter((node) => !kept.has(node.nodeId)).map((node) => node.nodeId);
  });
}

/**
 * Tombstones nodes in the store (hidden from every load until `vacuum` deletes them). Refuses, and
 * tombstones nothing, when one of them is on the active path. Returns the ids it tombstoned.
 */
export function tombstoneNodes(core: SessionCore, nodeIds: readonly string[]): Promise<string[]> {
  const store = requireStore(core, "tombstoneNodes()");
  refuseDuringTurn(core, "tombstoneNodes()");
  const ids = [...new Set(nodeIds)];
  return core.exclusive(async () => {
    const kept = protectedNodeIds(core, await store.loadSession(core.loadScope));
    const refused = ids.filter((nodeId) => kept.has(nodeId));
    if (refused.length > 0) {
      throw new LashError(
        "invalid_argument",
        `cannot tombstone ${refused.map((nodeId) => `\`${nodeId}\``).join(", ")}: on the active path of session \`${core.sessionId}\``,
      );
    }
    await store.tombstoneNodes(ids);
    return ids;
  });
}

/** Tombstones every stored node that is off the active path; returns their ids. */
export function tombstoneOrphanedNodes(core: SessionCore): Promise<string[]> {
  const store = requireStore(core, "tombstoneOrphanedNodes()");
  refuseDuringTurn(core, "tombstoneOrphanedNodes()");
  return core.exclusive(async () => {
    const read = await store.loadSession({ type: "full_graph" });
    if (!read) return [];
    const kept = protectedNodeIds(core, read);
    const orphans = read.graph.nodes.filter((node) => !kept.has(node.nodeId)).map((node) => node.nodeId);
    if (orphans.length > 0) await store.tombstoneNodes(orphans);
    return orphans;
  });
}

/** Deletes the store's tombstoned nodes for good. */
export function vacuum(core: SessionCore): Promise<VacuumReport> {
  const store = requireStore(core, "vacuum()");
  return core.exclusive(() => store.vacuum());
}

/**
 * Moves the active leaf to `nodeId`. A node in memory moves it at once; under `active_path_only` a
 * node that is only in the store brings its active path into memory. The next commit records the
 * move as a leaf change (`unchanged` or `append`), never as a graph replacement.
 */
export async function branchTo(core: SessionCore, nodeId: string): Promise<void> {
  refuseDuringTurn(core, "branchToNode()");
  // Moving away from the open tool calls would strand the suspended turn: decide it first.
  if (core.suspendedTurn) throw awaitingApprovalError(core.sessionId, core.suspendedTurn);
  if (core.graph.node(nodeId)) {
    core.graph.branchTo(nodeId);
    return;
  }
  const store = core.store;
  if (!store || core.residency !== "active_path_only") {
    throw new LashError("invalid_argument", `node \`${nodeId}\` is not in session \`${core.sessionId}\``);
  }
  await core.exclusive(async () => {
    let read: PersistedSessionRead | undefined;
    try {
      read = await store.loadSession({ type: "active_path", leafNodeId: nodeId });
    } catch (error) {
      if (isMissingNode(error))
        throw new LashError("invalid_argument", `node \`${nodeId}\` is not in session \`${core.sessionId}\``, { cause: error });
      throw error;
    }
    if (!read) throw new LashError("invalid_argument", `node \`${nodeId}\` is not in session \`${core.sessionId}\``);
    core.graph.adoptActivePath(read.graph);
  });
}

/**
 * Moves the active leaf before message `messageId` of the active path (to its node's parent, or
 * before the root), so the next turn replaces that message and everything after it on a new
 * branch; the old branch stays in the graph. The move is in memory until the next commit that
 * appends: a commit with nothing new keeps the stored leaf when the message was the first.
 */
export function branchBeforeMessage(core: SessionCore, messageId: string): void {
  refuseDuringTurn(core, "branchBeforeMessage()");
  if (core.suspendedTurn) throw awaitingApprovalError(core.sessionId, core.suspendedTurn);
  if (!core.graph.branchBeforeMessage(messageId)) {
    throw new LashError("invalid_argument", `message \`${messageId}\` is not on the active path of session \`${core.sessionId}\``);
  }
}
