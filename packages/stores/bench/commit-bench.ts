// The cost of one final turn commit (4 nodes plus usage) on every backend, side by side with a raw
// better-sqlite3 transaction writing the same rows: the physical limit for SQLite.
import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InMemorySessionDatabase } from "@lash/core";
import type { SessionStore } from "@lash/protocol";
import { stableStringify } from "@lash/protocol";
import { dropSchema, freshSchemaName, POSTGRES_URL, postgresUnavailableReason } from "@lash/test-infrastructure/postgres";
import Database from "better-sqlite3";
import { createFileSessionDatabase } from "../src/fs/index.js";
import { createSqlSessionDatabase, type SqlSessionDatabase } from "../src/sql/index.js";
import { turnCommit } from "../test/faults/turn-commits.js";
import { collectGarbage, measure, type Stats } from "./bench-stats.js";

export interface CommitSide {
  readonly name: string;
  /** Commits turn `index + 1` (each on top of the previous one). */
  commit(index: number): Promise<void> | void;
  /** Checks the side really wrote every turn, then releases it. */
  finish(expectedTurns: number): Promise<void>;
}

async function storeSide(name: string, store: SessionStore, release: () => Promise<void>): Promise<CommitSide> {
  const sessionId = "bench-session";
  let leaf: string | undefined;
  return {
    name,
    async commit(index) {
      const commit = turnCommit({
        sessionId,
        writer: "bench",
        turn: index + 1,
        expectedHeadRevision: index === 0 ? undefined : index,
        parentNodeId: leaf,
      });
      await store.commit(commit);
      leaf = commit.graph.type === "append" ? commit.graph.leafNodeId : undefined;
    },
    async finish(expectedTurns) {
      const revision = await store.loadHeadRevision?.();
      await release();
      if (revision !== expectedTurns) throw new Error(`${name} wrote ${String(revision)} turns, expected ${expectedTurns}`);
    },
  };
}

async function sqliteSide(folder: string): Promise<CommitSide> {
  const database = createSqlSessionDatabase({ connection: `sqlite:${join(folder, "lash.db")}` });
  await database.migrateToLatest();
  return storeSide("lash SQLite store", database.openSession("bench-session"), () => database.destroy());
}

/** The same rows the SQL store writes for a turn, in one IMMEDIATE transaction, with no checks. */
async function rawSqliteSide(folder: string): Promise<CommitSide> {
  // Migrate with the store, then write with prepared statements on a connection of our own.
  const file = join(folder, "raw.db");
  const migrated = createSqlSessionDatabase({ connection: `sqlite:${file}` });
  await migrated.migrateToLatest();
  await migrated.destroy();
  const database = new Database(file);
  database.pragma("journal_mode = WAL");
  // The same durability as the store (ADR 0014: a commit that returned survives a power loss).
  database.pragma("synchronous = FULL");
  const insertNode = database.prepare(
    "insert into lash_graph_nodes (session_id, node_id, seq, parent_node_id, node_json, tombstoned) values (?, ?, ?, ?, ?, 0)",
  );
  const insertUsage = database.prepare(
    "insert into lash_usage_deltas (session_id, seq, source, model, input_tokens, output_tokens, cached_input_tokens, reasoning_tokens) values (?, ?, ?, ?, ?, ?, ?, ?)",
  );
  const insertCommit = database.prepare(
    "insert into lash_commits (session_id, commit_id, content_hash, head_revision) values (?, ?, ?, ?)",
  );
  const insertBlob = database.prepare("insert or ignore into lash_blobs (session_id, hash, content) values (?, ?, ?)");
  const upsertHead = database.prepare(
    "insert into lash_heads (session_id, head_revision, leaf_node_id, config_json, checkpoint_ref, node_count, updated_at) values (?, ?, ?, ?, ?, ?, ?) on conflict (session_id) do update set head_revision = excluded.head_revision, leaf_node_id = excluded.leaf_node_id, config_json = excluded.config_json, checkpoint_ref = excluded.checkpoint_ref, node_count = excluded.node_count, updated_at = excluded.updated_at",
  );
  const upsertSummary = database.prepare(
    "insert into lash_session_summaries (session_id, last_activity_at, turn_count, model, input_tokens, output_tokens, cached_input_tokens, reasoning_tokens) values (?, ?, ?, ?, ?, ?, ?, ?) on conflict (session_id) do update set last_activity_at = excluded.last_activity_at, turn_count = excluded.turn_count, model = excluded.model, input_tokens = lash_session_summaries.input_tokens + excluded.input_tokens, output_tokens = lash_session_summaries.output_tokens + excluded.output_tokens, cached_input_tokens = lash_session_summaries.cached_input_tokens + excluded.cached_input_tokens, reasoning_tokens = lash_session_summaries.reasoning_tokens + excluded.reasoning_tokens",
  );
  const sessionId = "bench-session";
  let leaf: string | undefined;
  let seq = 0;
  const nextSeq = (): number => {
    seq += 1;
    return seq;
  };
  const write = database.transaction((index: number) => {
    const commit = turnCommit({
      sessionId,
      writer: "bench",
      turn: index + 1,
      expectedHeadRevision: index === 0 ? undefined : index,
      parentNodeId: leaf,
    });
    if (commit.graph.type !== "append") throw new Error("expected an append");
    for (const node of commit.graph.nodes)
      insertNode.run(sessionId, node.nodeId, nextSeq(), node.parentNodeId ?? null, JSON.stringify(node));
    for (const entry of commit.usageDeltas) {
      insertUsage.run(
        sessionId,
        nextSeq(),
        entry.source,
        entry.model,
        entry.usage.inputTokens,
        entry.usage.outputTokens,
        entry.usage.cachedInputTokens,
        entry.usage.reasoningTokens,
      );
    }
    const checkpoint = stableStringify(commit.checkpoint);
    const checkpointRef = createHash("sha256").update(checkpoint).digest("hex");
    insertBlob.run(sessionId, checkpointRef, checkpoint);
    insertCommit.run(sessionId, commit.commitId, createHash("sha256").update(stableStringify(commit)).digest("hex"), index + 1);
    upsertHead.run(
      sessionId,
      index + 1,
      commit.graph.leafNodeId ?? null,
      JSON.stringify(commit.config),
      checkpointRef,
      (index + 1) * 4,
      new Date().toISOString(),
    );
    const usage = commit.usageDeltas[0]?.usage;
    upsertSummary.run(
      sessionId,
      new Date().toISOString(),
      commit.checkpoint.turnState.turnIndex,
      commit.config.model,
      usage?.inputTokens ?? 0,
      usage?.outputTokens ?? 0,
      usage?.cachedInputTokens ?? 0,
      usage?.reasoningTokens ?? 0,
    );
    leaf = commit.graph.leafNodeId;
  });
  return {
    name: "raw better-sqlite3 transaction",
    commit: (index) => {
      write.immediate(index);
    },
    async finish(expectedTurns) {
      const row = database.prepare("select head_revision from lash_heads where session_id = ?").get(sessionId) as
        | { head_revision: number }
        | undefined;
      database.close();
      if (row?.head_revision !== expectedTurns)
        throw new Error(`raw transaction wrote ${String(row?.head_revision)} turns, expected ${expectedTurns}`);
    },
  };
}

async function postgresSide(): Promise<{ side: CommitSide } | { skipped: string }> {
  const reason = await postgresUnavailableReason();
  if (reason !== undefined) return { skipped: reason };
  const schema = freshSchemaName();
  const database: SqlSessionDatabase = createSqlSessionDatabase({ connection: POSTGRES_URL, schema, maxConnections: 2 });
  await database.migrateToLatest();
  return {
    side: await storeSide("lash PostgreSQL store", database.openSession("bench-session"), async () => {
      await database.destroy();
      await dropSchema(schema);
    }),
  };
}

export interface CommitBenchRow {
  readonly name: string;
  readonly stats?: Stats;
  readonly skipped?: string;
}

/** Runs every side with `warmup + iterations` commits on a fresh session each; one round. */
export async function runCommitBench(warmup: number, iterations: number): Promise<CommitBenchRow[]> {
  const folder = await mkdtemp(join(tmpdir(), "lash-store-bench-"));
  const rows: CommitBenchRow[] = [];
  try {
    const memory = new InMemorySessionDatabase();
    const builders: (() => Promise<CommitSide | { skipped: string; name: string }>)[] = [
      async () => storeSide("in-memory store", memory.openSession("bench-session"), async () => {}),
      () => rawSqliteSide(folder),
      () => sqliteSide(folder),
      async () =>
        storeSide(
          "lash filesystem store",
          createFileSessionDatabase({ root: join(folder, "fs") }).openSession("bench-session"),
          async () => {},
        ),
      async () => {
        const postgres = await postgresSide();
        return "side" in postgres ? postgres.side : { skipped: postgres.skipped, name: "lash PostgreSQL store" };
      },
    ];
    for (const build of builders) {
      const side = await build();
      if ("skipped" in side) {
        rows.push({ name: side.name, skipped: side.skipped });
        continue;
      }
      collectGarbage();
      const stats = await measure((index) => side.commit(index), warmup, iterations);
      await side.finish(warmup + iterations);
      rows.push({ name: side.name, stats });
    }
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
  return rows;
}
