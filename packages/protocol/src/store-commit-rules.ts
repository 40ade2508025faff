import { LashError } from "./errors/lash-error.js";
import { HeadRevisionConflictError } from "./errors/store-errors.js";
import type { SessionCommit, SessionMeta, SessionStoreCreateRequest } from "./store-schemas.js";

/**
 * The store-independent rules of the `SessionStore` commit contract, for store implementations: one
 * place states them, so every backend rejects the same commits with the same errors. Each function
 * only reads; call them before writing anything.
 */

/**
 * Rule 3: `expectedHeadRevision: undefined` means "must not exist yet", a number means
 * "must be at that revision". Returns the revision the commit produces; throws
 * `HeadRevisionConflictError` otherwise.
 */
export function checkExpectedHeadRevision(commit: SessionCommit, headRevision: number | undefined): number {
  const actual = headRevision ?? 0;
  const matches = headRevision === undefined ? commit.expectedHeadRevision === undefined : commit.expectedHeadRevision === actual;
  if (!matches) throw new HeadRevisionConflictError(commit.sessionId, commit.expectedHeadRevision, actual);
  return actual + 1;
}

/** What the graph rules need to know about the stored graph. */
export interface StoredGraphLookups {
  /** The id is a stored node, tombstoned ones included (an id stays taken until `vacuum`). */
  isTaken(nodeId: string): boolean;
  /** The id is a stored node that is not tombstoned. */
  isLive(nodeId: string): boolean;
}

/**
 * Rule 4: an `append` may not name an existing node id (nor one twice), a `replace_full` may not name
 * a node twice, and the leaf after the delta (`unchanged` / `append` without a leaf keep the head's)
 * must be a live node. Returns that leaf; throws `LashError("invalid_argument")` otherwise.
 */
export function checkGraphCommitDelta(
  commit: SessionCommit,
  headLeafNodeId: string | undefined,
  stored: StoredGraphLookups,
): string | undefined {
  const { commitId, sessionId } = commit;
  const delta = commit.graph;
  const incoming = new Set<string>();
  if (delta.type === "append") {
    for (const node of delta.nodes) {
      if (incoming.has(node.nodeId) || stored.isTaken(node.nodeId)) {
        throw new LashError(
          "invalid_argument",
          `commit \`${commitId}\` appends node \`${node.nodeId}\`, which already exists in session \`${sessionId}\``,
        );
      }
      incoming.add(node.nodeId);
    }
  } else if (delta.type === "replace_full") {
    for (const node of delta.graph.nodes) {
      if (incoming.has(node.nodeId))
        throw new LashError("invalid_argument", `commit \`${commitId}\` replaces the graph with node \`${node.nodeId}\` twice`);
      incoming.add(node.nodeId);
    }
  }
  const leafNodeId = delta.type === "replace_full" ? delta.graph.leafNodeId : (delta.leafNodeId ?? headLeafNodeId);
  if (leafNodeId === undefined) return undefined;
  const existsAfter = incoming.has(leafNodeId) || (delta.type !== "replace_full" && stored.isLive(leafNodeId));
  if (!existsAfter)
    throw new LashError(
      "invalid_argument",
      `commit \`${commitId}\` sets leaf \`${leafNodeId}\`, which is not a node of session \`${sessionId}\``,
    );
  return leafNodeId;
}

/** The leaf a commit leaves the head at, before any check (for stores that look nodes up ahead). */
export function commitLeafCandidate(commit: SessionCommit, headLeafNodeId: string | undefined): string | undefined {
  const delta = commit.graph;
  return delta.type === "replace_full" ? delta.graph.leafNodeId : (delta.leafNodeId ?? headLeafNodeId);
}

/**
 * The meta a `SessionStoreFactory` writes for a session it creates when none exists yet: name = the
 * session id, the policy's model, the parent and relation of the request, when and where it ran.
 */
export function defaultSessionMeta(
  request: SessionStoreCreateRequest,
  context: { readonly createdAt: string; readonly cwd?: string },
): SessionMeta {
  return {
    sessionId: request.sessionId,
    sessionName: request.sessionId,
    createdAt: context.createdAt,
    model: request.policy.model,
    ...(context.cwd === undefined ? {} : { cwd: context.cwd }),
    ...(request.parentSessionId === undefined ? {} : { parentSessionId: request.parentSessionId }),
    relation: request.relation,
  };
}
