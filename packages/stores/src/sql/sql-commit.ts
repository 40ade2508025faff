import { createHash } from "node:crypto";
import type { SessionCommit, SessionCommitResult, SessionNodeRecord } from "@lash/protocol";
import {
  CommitIdConflictError,
  checkExpectedHeadRevision,
  checkGraphCommitDelta,
  commitLeafCandidate,
  HeadRevisionConflictError,
  isEmptyTokenUsage,
  SessionBindingMismatchError,
  StoreUnavailableError,
  sessionCommitSchema,
  stableStringify,
} from "@lash/protocol";
import { type Insertable, type Kysely, sql } from "kysely";
import { checkCommitDepth } from "../shared/json-depth.js";
import { runCommitHook, type SqlCommitHook } from "./sql-commit-hook.js";
import { applyCommitPostgres, RETRY_COMMIT } from "./sql-commit-postgres.js";
import { applyCommitSqlite, nextSeqsOf } from "./sql-commit-sqlite.js";
import { isUniqueViolation } from "./sql-errors.js";
import { parseArgument, storedInteger } from "./sql-rows.js";
import type { LashGraphNodesTable, LashSqlSchema, LashUsageDeltasTable, SqlDialectName } from "./sql-schema.js";
import type { SqlStoreContext } from "./sql-store-context.js";
import { commitSummary, upsertSummary } from "./sql-summary.js";

/** Rows per multi-row insert and ids per `IN (...)` list: far below both dialects' parameter limits. */
export const SQL_CHUNK_SIZE = 200;

/** Hex SHA-256 of a string. */
export function sha256Hex(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/**
 * The hash a replay is compared by: the commit's content without `durability`, which says how the
 * commit is written, not what it writes (a commit re-sent at another level is the same commit).
 */
export function commitContentHash(commit: SessionCommit): string {
  const { durability: _durability, ...content } = commit;
  return sha256Hex(stableStringify(content));
}

/** Splits a list into chunks of `SQL_CHUNK_SIZE`. */
export function chunked<Item>(items: readonly Item[]): Item[][] {
  const chunks: Item[][] = [];
  for (let start = 0; start < items.length; start += SQL_CHUNK_SIZE) chunks.push(items.slice(start, start + SQL_CHUNK_SIZE));
  return chunks;
}

/**
 * Another writer changed the head between this commit's read and its conditional head write
 * (PostgreSQL, READ COMMITTED). The transaction is rolled back and the outcome is decided again from
 * what that writer committed.
 */
class HeadClaimLost extends Error {
  constructor() {
    super("another writer moved the session head first");
  }
}

/**
 * Applies one commit in one write transaction (the `SessionStore` commit contract):
 * binding, idempotency, compare-and-set, graph delta, usage, checkpoint blob, head.
 */
export async function commitSession(context: SqlStoreContext, sessionId: string, input: SessionCommit): Promise<SessionCommitResult> {
  const attempted: unknown = (input as { sessionId?: unknown } | undefined)?.sessionId;
  if (typeof attempted === "string" && attempted !== sessionId) throw new SessionBindingMismatchError(sessionId, attempted);
  // Before validation, which would exhaust the stack on a hostile value; and never store what the
  // store could not read back.
  checkCommitDepth(input);
  const commit = parseArgument(sessionCommitSchema, input, "commit");
  const contentHash = commitContentHash(commit);
  const hook = context.commitHook;
  // ADR 0030: a checkpoint commit is written without waiting for the disk (it survives a killed
  // process); a turn commit waits, and that one flush covers the checkpoints before it.
  const durability = commit.durability ?? "turn";
  for (let attempt = 1; ; attempt += 1) {
    try {
      if (hook === undefined) {
        // The synchronous SQLite path cannot await a hook; with one, SQLite takes the Kysely path too.
        const direct = await context.writeSqliteDirect((handle) => applyCommitSqlite(handle, commit, contentHash, sha256Hex), durability);
        if (direct !== undefined) return direct.result;
        // PostgreSQL: one round trip, the commit function (a hook needs the transaction, so not with one).
        const viaFunction = await context.postgresFunctionCall((database, schema) =>
          applyCommitPostgres(database, schema, commit, contentHash, sha256Hex),
        );
        if (viaFunction !== undefined) {
          if (viaFunction.result === RETRY_COMMIT) {
            if (attempt < MAX_ATTEMPTS) continue;
            throw new StoreUnavailableError(
              `session \`${commit.sessionId}\` kept changing while commit \`${commit.commitId}\` waited for it; try again`,
            );
          }
          return viaFunction.result.type === "applied"
            ? viaFunction.result.result
            : replayOrConflict(viaFunction.result.previous, commit, contentHash);
        }
      }
      const onCommit = hook === undefined ? undefined : { hook, dialect: context.dialect };
      return await context.write(
        (database) => applyCommit(database, commit, contentHash, context.dialect === "postgres", onCommit),
        durability,
      );
    } catch (error) {
      // A lost race on the head row, or on the commit id itself (a concurrent identical commit), is
      // decided from what the winner committed: a replay, a commit id conflict or a revision conflict.
      if (!(error instanceof HeadClaimLost || isUniqueViolation(error))) throw error;
      const settled = await settleLostRace(context, commit, contentHash, error);
      // The head is back at the expected revision (the session was deleted and started over while
      // this commit waited): the commit is still valid, so it is applied from the start.
      if (settled === RETRY && attempt < MAX_ATTEMPTS) continue;
      if (settled === RETRY) {
        throw new StoreUnavailableError(
          `session \`${commit.sessionId}\` kept changing while commit \`${commit.commitId}\` waited for it; try again`,
          { cause: error },
        );
      }
      return settled;
    }
  }
}

const RETRY = Symbol("retry");
const MAX_ATTEMPTS = 3;

interface StoredCommit {
  content_hash: string;
  head_revision: number;
}

function findCommit(database: Kysely<LashSqlSchema>, sessionId: string, commitId: string): Promise<StoredCommit | undefined> {
  return database
    .selectFrom("lash_commits")
    .select(["content_hash", "head_revision"])
    .where("session_id", "=", sessionId)
    .where("commit_id", "=", commitId)
    .executeTakeFirst();
}

function replayOrConflict(previous: StoredCommit, commit: SessionCommit, contentHash: string): SessionCommitResult {
  if (previous.content_hash !== contentHash) throw new CommitIdConflictError(commit.sessionId, commit.commitId);
  return {
    headRevision: storedInteger(previous.head_revision, commit.sessionId, `commits.${commit.commitId}.headRevision`),
    commitId: commit.commitId,
    replayed: true,
  };
}

async function settleLostRace(
  context: SqlStoreContext,
  commit: SessionCommit,
  contentHash: string,
  cause: unknown,
): Promise<SessionCommitResult | typeof RETRY> {
  const database = await context.database();
  const previous = await findCommit(database, commit.sessionId, commit.commitId);
  if (previous !== undefined) return replayOrConflict(previous, commit, contentHash);
  const head = await database
    .selectFrom("lash_heads")
    .select("head_revision")
    .where("session_id", "=", commit.sessionId)
    .executeTakeFirst();
  const actual = head === undefined ? 0 : storedInteger(head.head_revision, commit.sessionId, "head.headRevision");
  const stillExpected = head === undefined ? commit.expectedHeadRevision === undefined : commit.expectedHeadRevision === actual;
  if (!stillExpected) throw new HeadRevisionConflictError(commit.sessionId, commit.expectedHeadRevision, actual, { cause });
  // A unique violation that no concurrent writer explains is a real failure, not a conflict.
  if (!(cause instanceof HeadClaimLost)) throw cause;
  return RETRY;
}

/**
 * `claimHeadFirst` (PostgreSQL): take the head row's lock with the conditional write before anything
 * else. SQLite's `BEGIN IMMEDIATE` already holds the database's write lock for the whole
 * transaction, so there the head is written once, at the end.
 *
 * `onCommit` runs last, after every check that can lose a race (the head claim, the head write, the
 * commit id's unique key), so in PostgreSQL it runs only in the attempt that holds the head; in any
 * case an attempt that is rolled back takes the hook's writes with it. Its failures arrive as
 * `SqlCommitHookError`, never as a driver error the lost-race handling would read as a conflict.
 */
async function applyCommit(
  database: Kysely<LashSqlSchema>,
  commit: SessionCommit,
  contentHash: string,
  claimHeadFirst: boolean,
  onCommit: { hook: SqlCommitHook; dialect: SqlDialectName } | undefined,
): Promise<SessionCommitResult> {
  const { sessionId, commitId } = commit;
  // ADR 0030: a checkpoint does not wait for the server's disk (a server crash may lose it, never
  // half of it); the next turn commit's flush covers it.
  if (claimHeadFirst && commit.durability === "checkpoint") await sql`set local synchronous_commit = off`.execute(database);
  // The head is read before the commit ids. In PostgreSQL (READ COMMITTED) each statement sees what
  // was committed when it started, so a concurrent identical commit that lands between the two reads
  // is found by the second one (a replay), and never mistaken for a moved head.
  const head = await database
    .selectFrom("lash_heads")
    .select(["head_revision", "leaf_node_id", "node_count", "next_node_seq", "next_usage_seq"])
    .where("session_id", "=", sessionId)
    .executeTakeFirst();
  const previous = await findCommit(database, sessionId, commitId);
  if (previous !== undefined) return replayOrConflict(previous, commit, contentHash);

  const actual = head === undefined ? 0 : storedInteger(head.head_revision, sessionId, "head.headRevision");
  const revision = checkExpectedHeadRevision(commit, head === undefined ? undefined : actual);
  const now = new Date().toISOString();

  // Claim the head first. In PostgreSQL the conditional write takes the head row's lock: a
  // concurrent writer of this session waits here, then finds the revision moved and affects no row,
  // so everything after this point runs one writer at a time per session.
  if (claimHeadFirst) await claimHead(database, sessionId, head === undefined ? undefined : actual, revision, now);

  const leafNodeId = await checkGraphDelta(database, commit, head?.leaf_node_id ?? undefined);
  const seqs = nextSeqsOf(head, sessionId);
  const nextNodeSeq = await applyGraphDelta(database, commit, seqs.node);
  const nextUsageSeq = await insertUsage(database, commit, seqs.usage);
  const checkpointRef = await insertCheckpoint(database, commit);
  // Kept incrementally: counting the session's rows on every commit would grow with the session.
  const previousCount = head === undefined ? 0 : storedInteger(head.node_count, sessionId, "head.nodeCount");
  const nodeCount =
    commit.graph.type === "replace_full"
      ? commit.graph.graph.nodes.length
      : commit.graph.type === "append"
        ? previousCount + commit.graph.nodes.length
        : previousCount;

  const headFields = {
    head_revision: revision,
    leaf_node_id: leafNodeId ?? null,
    config_json: JSON.stringify(commit.config),
    checkpoint_ref: checkpointRef,
    node_count: nodeCount,
    updated_at: now,
    next_node_seq: nextNodeSeq,
    next_usage_seq: nextUsageSeq,
  };
  if (claimHeadFirst || head !== undefined) {
    const updated = await database
      .updateTable("lash_heads")
      .set(headFields)
      .where("session_id", "=", sessionId)
      .where("head_revision", "=", claimHeadFirst ? revision : actual)
      .executeTakeFirst();
    if (Number(updated.numUpdatedRows) !== 1) throw new HeadClaimLost();
  } else {
    await database
      .insertInto("lash_heads")
      .values({ session_id: sessionId, ...headFields })
      .execute();
  }
  await database
    .insertInto("lash_commits")
    .values({ session_id: sessionId, commit_id: commitId, content_hash: contentHash, head_revision: revision })
    .execute();
  await upsertSummary(database, sessionId, commitSummary(commit, now));
  if (onCommit !== undefined) await runCommitHook(onCommit.hook, database, commit, revision, onCommit.dialect);
  return { headRevision: revision, commitId, replayed: false };
}

/** Takes the session's head row (PostgreSQL): a concurrent writer of the session waits on its lock. */
async function claimHead(
  database: Kysely<LashSqlSchema>,
  sessionId: string,
  actual: number | undefined,
  revision: number,
  now: string,
): Promise<void> {
  if (actual === undefined) {
    const inserted = await database
      .insertInto("lash_heads")
      .values({
        session_id: sessionId,
        head_revision: revision,
        leaf_node_id: null,
        config_json: "{}",
        checkpoint_ref: "",
        node_count: 0,
        updated_at: now,
      })
      .onConflict((conflict) => conflict.column("session_id").doNothing())
      .executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) !== 1) throw new HeadClaimLost();
  } else {
    const updated = await database
      .updateTable("lash_heads")
      .set({ head_revision: revision, updated_at: now })
      .where("session_id", "=", sessionId)
      .where("head_revision", "=", actual)
      .executeTakeFirst();
    if (Number(updated.numUpdatedRows) !== 1) throw new HeadClaimLost();
  }
}

/**
 * Looks up what the commit rules need (the appended ids that are taken, whether the leaf candidate is
 * live) in two queries, then applies the rules shared by every store. Returns the head's next leaf.
 */
async function checkGraphDelta(
  database: Kysely<LashSqlSchema>,
  commit: SessionCommit,
  headLeafNodeId: string | undefined,
): Promise<string | undefined> {
  const { sessionId } = commit;
  const taken = new Set<string>();
  if (commit.graph.type === "append") {
    for (const ids of chunked(commit.graph.nodes.map((node) => node.nodeId))) {
      // Tombstoned rows count: a tombstoned id stays taken until `vacuum`.
      const rows = await database
        .selectFrom("lash_graph_nodes")
        .select("node_id")
        .where("session_id", "=", sessionId)
        .where("node_id", "in", ids)
        .execute();
      for (const row of rows) taken.add(row.node_id);
    }
  }
  const candidate = commitLeafCandidate(commit, headLeafNodeId);
  let candidateLive = false;
  if (
    candidate !== undefined &&
    commit.graph.type !== "replace_full" &&
    !(commit.graph.type === "append" && commit.graph.nodes.some((node) => node.nodeId === candidate))
  ) {
    const live = await database
      .selectFrom("lash_graph_nodes")
      .select("node_id")
      .where("session_id", "=", sessionId)
      .where("node_id", "=", candidate)
      .where("tombstoned", "=", 0)
      .executeTakeFirst();
    candidateLive = live !== undefined;
  }
  return checkGraphCommitDelta(commit, headLeafNodeId, {
    isTaken: (nodeId) => taken.has(nodeId),
    isLive: (nodeId) => nodeId === candidate && candidateLive,
  });
}

function nodeRow(sessionId: string, node: SessionNodeRecord, seq: number): Insertable<LashGraphNodesTable> {
  return {
    session_id: sessionId,
    node_id: node.nodeId,
    seq,
    parent_node_id: node.parentNodeId ?? null,
    node_json: JSON.stringify(node),
    tombstoned: 0,
  };
}

/** Writes the graph delta's rows; returns the `seq` of the session's next node. */
async function applyGraphDelta(database: Kysely<LashSqlSchema>, commit: SessionCommit, nextNodeSeq: number): Promise<number> {
  const { sessionId } = commit;
  const delta = commit.graph;
  if (delta.type === "unchanged") return nextNodeSeq;
  let nodes: SessionNodeRecord[];
  let firstSeq: number;
  if (delta.type === "replace_full") {
    // Every row of the session goes, tombstoned ones included: the new graph is the whole graph.
    await database.deleteFrom("lash_graph_nodes").where("session_id", "=", sessionId).execute();
    nodes = delta.graph.nodes;
    firstSeq = 1;
  } else {
    nodes = delta.nodes;
    firstSeq = nextNodeSeq;
  }
  const rows = nodes.map((node, index) => nodeRow(sessionId, node, firstSeq + index));
  for (const chunk of chunked(rows)) await database.insertInto("lash_graph_nodes").values(chunk).execute();
  return firstSeq + rows.length;
}

/** Writes the commit's usage rows; returns the `seq` of the session's next usage row. */
async function insertUsage(database: Kysely<LashSqlSchema>, commit: SessionCommit, firstSeq: number): Promise<number> {
  const entries = commit.usageDeltas.filter((entry) => !isEmptyTokenUsage(entry.usage));
  if (entries.length === 0) return firstSeq;
  const rows = entries.map(
    (entry, index): Insertable<LashUsageDeltasTable> => ({
      session_id: commit.sessionId,
      seq: firstSeq + index,
      source: entry.source,
      model: entry.model,
      input_tokens: entry.usage.inputTokens,
      output_tokens: entry.usage.outputTokens,
      cached_input_tokens: entry.usage.cachedInputTokens,
      reasoning_tokens: entry.usage.reasoningTokens,
      price_table_date: entry.priceTableDate ?? null,
    }),
  );
  for (const chunk of chunked(rows)) await database.insertInto("lash_usage_deltas").values(chunk).execute();
  return firstSeq + rows.length;
}

/** Stores the checkpoint as a content-addressed blob (deduplicated) and returns its hash. */
async function insertCheckpoint(database: Kysely<LashSqlSchema>, commit: SessionCommit): Promise<string> {
  const content = stableStringify(commit.checkpoint);
  const hash = sha256Hex(content);
  await database
    .insertInto("lash_blobs")
    .values({ session_id: commit.sessionId, hash, content })
    .onConflict((conflict) => conflict.columns(["session_id", "hash"]).doNothing())
    .execute();
  return hash;
}
