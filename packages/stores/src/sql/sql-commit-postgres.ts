import type { SessionCommit, SessionCommitResult, SessionNodeRecord } from "@lash/protocol";
import { checkExpectedHeadRevision, checkGraphCommitDelta, commitLeafCandidate, isEmptyTokenUsage, stableStringify } from "@lash/protocol";
import { type Kysely, sql } from "kysely";
import { quoteIdentifier } from "./postgres-commit-function.js";
import { escapePostgresText, unescapePostgresText } from "./postgres-text-escape-plugin.js";
import { storedInteger } from "./sql-rows.js";
import type { LashSqlSchema } from "./sql-schema.js";
import { commitSummary } from "./sql-summary.js";

/**
 * The commit of a PostgreSQL database without a commit hook: one call of the `lash_commit` function
 * (installed by the migration `0003_postgres_commit_function`), so the whole commit is one round
 * trip. It applies the contract of `applyCommit` in sql-commit.ts; the function reports a rejection
 * as data and this side throws the error the shared commit rules name, so every path rejects the
 * same commits with the same errors. The conformance suite runs against this path.
 */

/** What `lash_commit` returns (see postgres-commit-function.ts). */
interface CommitFunctionRow {
  readonly outcome: unknown;
  readonly revision: unknown;
  readonly stored_hash: unknown;
  readonly head_exists: unknown;
  readonly head_leaf_node_id: unknown;
  readonly taken_node_ids: unknown;
  readonly leaf_is_live: unknown;
}

/** The commit was decided against a head that then vanished (deleted while it waited): apply it again. */
export const RETRY_COMMIT = Symbol("retry the commit");

/** A stored commit id: the caller answers a replay or a `CommitIdConflictError`. */
export interface StoredCommitRow {
  readonly content_hash: string;
  readonly head_revision: number;
}

/** What the function's answer means for the caller. */
export type PostgresCommitOutcome =
  | { readonly type: "applied"; readonly result: SessionCommitResult }
  | { readonly type: "stored"; readonly previous: StoredCommitRow }
  | typeof RETRY_COMMIT;

function hasDuplicateIds(nodes: readonly SessionNodeRecord[]): boolean {
  return new Set(nodes.map((node) => node.nodeId)).size !== nodes.length;
}

function text(value: string): string {
  return escapePostgresText(value);
}

function optionalText(value: string | undefined): string | null {
  return value === undefined ? null : escapePostgresText(value);
}

/**
 * Calls `lash_commit` for a validated commit. `database` must be the Kysely instance without the
 * store's plugins (the call escapes and unescapes its own text); `schema` is where the function is.
 */
export async function applyCommitPostgres(
  database: Kysely<LashSqlSchema>,
  schema: string,
  commit: SessionCommit,
  contentHash: string,
  sha256Hex: (text: string) => string,
): Promise<PostgresCommitOutcome> {
  const { sessionId, commitId } = commit;
  const delta = commit.graph;
  const nodes: readonly SessionNodeRecord[] =
    delta.type === "append" ? delta.nodes : delta.type === "replace_full" ? delta.graph.nodes : [];
  const leaf = delta.type === "replace_full" ? delta.graph.leafNodeId : delta.leafNodeId;
  const usage = commit.usageDeltas.filter((entry) => !isEmptyTokenUsage(entry.usage));
  const checkpointJson = stableStringify(commit.checkpoint);
  const now = new Date().toISOString();
  const summary = commitSummary(commit, now);
  const { addedUsage } = summary;
  const result = await sql<CommitFunctionRow>`select * from ${sql.raw(`${quoteIdentifier(schema)}.lash_commit`)}(
    ${text(sessionId)}, ${text(commitId)}, ${commit.expectedHeadRevision ?? null}, ${contentHash},
    ${delta.type}, ${optionalText(leaf)},
    ${nodes.map((node) => text(node.nodeId))}::text[],
    ${nodes.map((node) => optionalText(node.parentNodeId))}::text[],
    ${nodes.map((node) => text(JSON.stringify(node)))}::text[],
    ${hasDuplicateIds(nodes)},
    ${usage.map((entry) => text(entry.source))}::text[],
    ${usage.map((entry) => text(entry.model))}::text[],
    ${usage.map((entry) => entry.usage.inputTokens)}::bigint[],
    ${usage.map((entry) => entry.usage.outputTokens)}::bigint[],
    ${usage.map((entry) => entry.usage.cachedInputTokens)}::bigint[],
    ${usage.map((entry) => entry.usage.reasoningTokens)}::bigint[],
    ${text(JSON.stringify(commit.config))}, ${sha256Hex(checkpointJson)}, ${text(checkpointJson)}, ${now},
    ${summary.turnCount}, ${text(summary.model)},
    ${[addedUsage.inputTokens, addedUsage.outputTokens, addedUsage.cachedInputTokens, addedUsage.reasoningTokens]}::bigint[],
    ${commit.durability === "checkpoint"},
    ${usage.map((entry) => entry.priceTableDate ?? null)}::text[]
  )`.execute(database);
  const row = result.rows[0];
  if (row === undefined) throw new Error(`lash_commit returned no row for commit \`${commitId}\` of session \`${sessionId}\``);
  const revision = (): number => storedInteger(row.revision, sessionId, "head.headRevision", "lash_commit");
  switch (row.outcome) {
    case "applied":
      return { type: "applied", result: { headRevision: revision(), commitId, replayed: false } };
    case "stored":
      return { type: "stored", previous: { content_hash: String(row.stored_hash), head_revision: revision() } };
    case "retry":
      return RETRY_COMMIT;
    case "head_conflict":
      // Throws the `HeadRevisionConflictError` the rules name for this head.
      checkExpectedHeadRevision(commit, row.head_exists === true ? revision() : undefined);
      break;
    case "graph_rejected": {
      const headLeaf = typeof row.head_leaf_node_id === "string" ? unescapePostgresText(row.head_leaf_node_id) : undefined;
      const taken = new Set(Array.isArray(row.taken_node_ids) ? row.taken_node_ids.map((id) => unescapePostgresText(String(id))) : []);
      const candidate = commitLeafCandidate(commit, headLeaf);
      // Throws the `invalid_argument` error of the first rule the delta breaks.
      checkGraphCommitDelta(commit, headLeaf, {
        isTaken: (nodeId) => taken.has(nodeId),
        isLive: (nodeId) => nodeId === candidate && row.leaf_is_live === true,
      });
      break;
    }
  }
  throw new Error(
    `lash_commit answered \`${String(row.outcome)}\` for commit \`${commitId}\` of session \`${sessionId}\`, which the commit rules do not explain`,
  );
}
