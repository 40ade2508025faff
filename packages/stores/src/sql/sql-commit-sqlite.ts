import type { SessionCommit, SessionCommitResult, SessionNodeRecord } from "@lash/protocol";
import {
  CommitIdConflictError,
  checkExpectedHeadRevision,
  checkGraphCommitDelta,
  isEmptyTokenUsage,
  stableStringify,
} from "@lash/protocol";
import type { Database, Statement } from "better-sqlite3";
import { storedInteger } from "./sql-rows.js";
import { commitSummary } from "./sql-summary.js";

/**
 * The commit of a SQLite database whose connection the store opened itself, as one synchronous
 * transaction of prepared statements. It applies exactly the contract of `applyCommit` in
 * `sql-commit.ts` (the same shared commit rules, the same rows); it exists because a commit is
 * about a dozen statements, and going through the query builder and the driver's promises for each
 * cost more than the statements themselves. The conformance suite runs against this path.
 */

interface CommitStatements {
  readonly head: Statement<
    [string],
    { head_revision: unknown; leaf_node_id: string | null; node_count: unknown; next_node_seq: unknown; next_usage_seq: unknown }
  >;
  readonly commitRow: Statement<[string, string], { content_hash: string; head_revision: unknown }>;
  readonly nodeExists: Statement<[string, string], { node_id: string }>;
  readonly liveNode: Statement<[string, string], { node_id: string }>;
  readonly deleteNodes: Statement<[string]>;
  readonly insertNode: Statement<[string, string, number, string | null, string]>;
  readonly insertUsage: Statement<[string, number, string, string, number, number, number, number, string | null]>;
  readonly insertBlob: Statement<[string, string, string]>;
  readonly insertHead: Statement<[string, number, string | null, string, string, number, string, number, number]>;
  readonly updateHead: Statement<[number, string | null, string, string, number, string, number, number, string, number]>;
  readonly insertCommit: Statement<[string, string, string, number]>;
  readonly upsertSummary: Statement<[string, string, number, string, number, number, number, number]>;
}

const statementsByDatabase = new WeakMap<Database, CommitStatements>();

function statementsOf(database: Database): CommitStatements {
  let statements = statementsByDatabase.get(database);
  if (!statements) {
    statements = {
      head: database.prepare(
        'select "head_revision", "leaf_node_id", "node_count", "next_node_seq", "next_usage_seq" from "lash_heads" where "session_id" = ?',
      ),
      commitRow: database.prepare('select "content_hash", "head_revision" from "lash_commits" where "session_id" = ? and "commit_id" = ?'),
      // Tombstoned rows count: a tombstoned id stays taken until `vacuum`.
      nodeExists: database.prepare('select "node_id" from "lash_graph_nodes" where "session_id" = ? and "node_id" = ?'),
      liveNode: database.prepare('select "node_id" from "lash_graph_nodes" where "session_id" = ? and "node_id" = ? and "tombstoned" = 0'),
      deleteNodes: database.prepare('delete from "lash_graph_nodes" where "session_id" = ?'),
      insertNode: database.prepare(
        'insert into "lash_graph_nodes" ("session_id", "node_id", "seq", "parent_node_id", "node_json", "tombstoned") values (?, ?, ?, ?, ?, 0)',
      ),
      insertUsage: database.prepare(
        'insert into "lash_usage_deltas" ("session_id", "seq", "source", "model", "input_tokens", "output_tokens", "cached_input_tokens", "reasoning_tokens", "price_table_date") values (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      insertBlob: database.prepare(
        'insert into "lash_blobs" ("session_id", "hash", "content") values (?, ?, ?) on conflict ("session_id", "hash") do nothing',
      ),
      insertHead: database.prepare(
        'insert into "lash_heads" ("session_id", "head_revision", "leaf_node_id", "config_json", "checkpoint_ref", "node_count", "updated_at", "next_node_seq", "next_usage_seq") values (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      updateHead: database.prepare(
        'update "lash_heads" set "head_revision" = ?, "leaf_node_id" = ?, "config_json" = ?, "checkpoint_ref" = ?, "node_count" = ?, "updated_at" = ?, "next_node_seq" = ?, "next_usage_seq" = ? where "session_id" = ? and "head_revision" = ?',
      ),
      insertCommit: database.prepare(
        'insert into "lash_commits" ("session_id", "commit_id", "content_hash", "head_revision") values (?, ?, ?, ?)',
      ),
      // The same upsert as `upsertSummary` in sql-summary.ts.
      upsertSummary: database.prepare(
        'insert into "lash_session_summaries" ("session_id", "last_activity_at", "turn_count", "model", "input_tokens", "output_tokens", "cached_input_tokens", "reasoning_tokens") values (?, ?, ?, ?, ?, ?, ?, ?) on conflict ("session_id") do update set "last_activity_at" = excluded."last_activity_at", "turn_count" = excluded."turn_count", "model" = excluded."model", "input_tokens" = "lash_session_summaries"."input_tokens" + excluded."input_tokens", "output_tokens" = "lash_session_summaries"."output_tokens" + excluded."output_tokens", "cached_input_tokens" = "lash_session_summaries"."cached_input_tokens" + excluded."cached_input_tokens", "reasoning_tokens" = "lash_session_summaries"."reasoning_tokens" + excluded."reasoning_tokens"',
      ),
    };
    statementsByDatabase.set(database, statements);
  }
  return statements;
}

/** The next sequence numbers the head keeps (migration 0006); a session without a head has no rows. */
export function nextSeqsOf(
  head: { readonly next_node_seq: unknown; readonly next_usage_seq: unknown } | undefined,
  sessionId: string,
): { node: number; usage: number } {
  if (head === undefined) return { node: 1, usage: 1 };
  return {
    node: storedInteger(head.next_node_seq, sessionId, "head.nextNodeSeq", "lash_heads.next_node_seq"),
    usage: storedInteger(head.next_usage_seq, sessionId, "head.nextUsageSeq", "lash_heads.next_usage_seq"),
  };
}

/**
 * Applies one commit; call it inside an IMMEDIATE transaction of `database` (it throws to roll back).
 * `sha256Hex` is passed in so both commit paths hash checkpoints the same way.
 */
export function applyCommitSqlite(
  database: Database,
  commit: SessionCommit,
  contentHash: string,
  sha256Hex: (text: string) => string,
): SessionCommitResult {
  const statements = statementsOf(database);
  const { sessionId, commitId } = commit;
  const head = statements.head.get(sessionId);
  const previous = statements.commitRow.get(sessionId, commitId);
  if (previous !== undefined) {
    if (previous.content_hash !== contentHash) throw new CommitIdConflictError(sessionId, commitId);
    return { headRevision: storedInteger(previous.head_revision, sessionId, `commits.${commitId}.headRevision`), commitId, replayed: true };
  }
  const actual = head === undefined ? 0 : storedInteger(head.head_revision, sessionId, "head.headRevision");
  const revision = checkExpectedHeadRevision(commit, head === undefined ? undefined : actual);

  const delta = commit.graph;
  const leafNodeId = checkGraphCommitDelta(commit, head?.leaf_node_id ?? undefined, {
    isTaken: (nodeId) => statements.nodeExists.get(sessionId, nodeId) !== undefined,
    isLive: (nodeId) => statements.liveNode.get(sessionId, nodeId) !== undefined,
  });

  const seqs = nextSeqsOf(head, sessionId);
  let nodes: readonly SessionNodeRecord[] = [];
  let nodeSeq = seqs.node;
  if (delta.type === "replace_full") {
    // Every row of the session goes, tombstoned ones included: the new graph is the whole graph.
    statements.deleteNodes.run(sessionId);
    nodes = delta.graph.nodes;
    nodeSeq = 1;
  } else if (delta.type === "append") {
    nodes = delta.nodes;
  }
  for (const node of nodes) {
    statements.insertNode.run(sessionId, node.nodeId, nodeSeq, node.parentNodeId ?? null, JSON.stringify(node));
    nodeSeq += 1;
  }
  let usageSeq = seqs.usage;
  for (const entry of commit.usageDeltas) {
    if (isEmptyTokenUsage(entry.usage)) continue;
    const { inputTokens, outputTokens, cachedInputTokens, reasoningTokens } = entry.usage;
    statements.insertUsage.run(
      sessionId,
      usageSeq,
      entry.source,
      entry.model,
      inputTokens,
      outputTokens,
      cachedInputTokens,
      reasoningTokens,
      entry.priceTableDate ?? null,
    );
    usageSeq += 1;
  }
  const checkpoint = stableStringify(commit.checkpoint);
  const checkpointRef = sha256Hex(checkpoint);
  statements.insertBlob.run(sessionId, checkpointRef, checkpoint);

  // Kept incrementally: counting the session's rows on every commit would grow with the session.
  const previousCount = head === undefined ? 0 : storedInteger(head.node_count, sessionId, "head.nodeCount");
  const nodeCount =
    delta.type === "replace_full" ? delta.graph.nodes.length : delta.type === "append" ? previousCount + delta.nodes.length : previousCount;
  const now = new Date().toISOString();
  const configJson = JSON.stringify(commit.config);
  if (head === undefined) {
    statements.insertHead.run(sessionId, revision, leafNodeId ?? null, configJson, checkpointRef, nodeCount, now, nodeSeq, usageSeq);
  } else {
    // The IMMEDIATE transaction holds the write lock since the head was read, so this always matches.
    statements.updateHead.run(
      revision,
      leafNodeId ?? null,
      configJson,
      checkpointRef,
      nodeCount,
      now,
      nodeSeq,
      usageSeq,
      sessionId,
      actual,
    );
  }
  statements.insertCommit.run(sessionId, commitId, contentHash, revision);
  const summary = commitSummary(commit, now);
  const { addedUsage } = summary;
  statements.upsertSummary.run(
    sessionId,
    summary.lastActivityAt,
    summary.turnCount,
    summary.model,
    addedUsage.inputTokens,
    addedUsage.outputTokens,
    addedUsage.cachedInputTokens,
    addedUsage.reasoningTokens,
  );
  return { headRevision: revision, commitId, replayed: false };
}
