// The physical floor of a durable turn on SQLite: one better-sqlite3 transaction per turn writing the
// rows a real lash turn of the same workload commits (its graph nodes, usage deltas, checkpoint blob,
// one commit record, the head and the listing summary), with no checks, on a new session per turn,
// at the synchronous setting the SQL store uses for the end of a turn.
import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InMemorySessionDatabase } from "@lash/core";
import type { SessionCommit, SessionCommitResult, SessionNodeRecord, SessionStore, TokenLedgerEntry } from "@lash/protocol";
import Database from "better-sqlite3";
import type { BenchRuntime } from "../bench-runtime.js";
import { expectWork, type WorkloadName } from "../workload.js";
import { lashTurn } from "./lash.js";

/**
 * The SQLite pragmas of the SQL store's own connections (packages/stores/src/sql/sql-connection.ts):
 * WAL, and `synchronous = FULL`, the setting a turn's final commit runs at (checkpoint commits run
 * at NORMAL, ADR 0030). The store exports no constant for them, so they are mirrored here.
 */
export const STORE_SQLITE_PRAGMAS = { journalMode: "WAL", synchronous: "FULL" } as const;

/** What a lash turn of one workload writes, over all of its commits. */
interface TurnRows {
  readonly nodes: readonly SessionNodeRecord[];
  readonly usage: readonly TokenLedgerEntry[];
  readonly final: SessionCommit;
  readonly commits: number;
}

/** Runs one lash turn on an in-memory store and keeps every commit it makes. */
async function recordTurnRows(workload: WorkloadName): Promise<TurnRows> {
  const commits: SessionCommit[] = [];
  const database = new InMemorySessionDatabase();
  const inner = database.openSession("recorded");
  const recording = new Proxy(inner, {
    get(target, property) {
      if (property === "commit") {
        return (commit: SessionCommit): Promise<SessionCommitResult> => {
          commits.push(structuredClone(commit));
          return target.commit(commit);
        };
      }
      const value: unknown = Reflect.get(target, property);
      return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  }) as SessionStore;
  expectWork("lash (recording the rows of a turn)", workload, await lashTurn(workload, "recorded", recording));
  const final = commits.at(-1);
  if (!final) throw new Error(`a lash ${workload} turn made no commit`);
  const nodes = new Map<string, SessionNodeRecord>();
  for (const commit of commits) if (commit.graph.type === "append") for (const node of commit.graph.nodes) nodes.set(node.nodeId, node);
  return { nodes: [...nodes.values()], usage: commits.flatMap((commit) => commit.usageDeltas), final, commits: commits.length };
}

const SCHEMA = `
create table heads (session_id text primary key, head_revision integer not null, leaf_node_id text, config_json text not null,
  checkpoint_ref text not null, node_count integer not null, updated_at text not null);
create table graph_nodes (session_id text not null, node_id text not null, seq integer not null, parent_node_id text,
  node_json text not null, tombstoned integer not null default 0, primary key (session_id, node_id));
create unique index graph_nodes_session_seq on graph_nodes (session_id, seq);
create table usage_deltas (session_id text not null, seq integer not null, source text not null, model text not null,
  input_tokens bigint not null, output_tokens bigint not null, cached_input_tokens bigint not null, reasoning_tokens bigint not null,
  primary key (session_id, seq));
create table commits (session_id text not null, commit_id text not null, content_hash text not null, head_revision integer not null,
  primary key (session_id, commit_id));
create table blobs (session_id text not null, hash text not null, content text not null, primary key (session_id, hash));
create table session_summaries (session_id text primary key, last_activity_at text not null, turn_count integer, model text,
  input_tokens bigint, output_tokens bigint, cached_input_tokens bigint, reasoning_tokens bigint);
create index session_summaries_activity on session_summaries (last_activity_at, session_id);
`;

const sha256 = (text: string): string => createHash("sha256").update(text).digest("hex");

export const rawSqliteFloor: BenchRuntime = {
  id: "floor.raw-sqlite",
  name: `raw better-sqlite3, 1 transaction/turn (WAL, synchronous ${STORE_SQLITE_PRAGMAS.synchronous})`,
  kind: "floor",
  async open() {
    const rows: Record<WorkloadName, TurnRows> = { W1: await recordTurnRows("W1"), W2: await recordTurnRows("W2") };
    const folder = await mkdtemp(join(tmpdir(), "lash-bench-raw-"));
    const database = new Database(join(folder, "raw.db"));
    database.pragma(`journal_mode = ${STORE_SQLITE_PRAGMAS.journalMode}`);
    database.pragma(`synchronous = ${STORE_SQLITE_PRAGMAS.synchronous}`);
    database.exec(SCHEMA);
    const insertNode = database.prepare(
      "insert into graph_nodes (session_id, node_id, seq, parent_node_id, node_json, tombstoned) values (?, ?, ?, ?, ?, 0)",
    );
    const insertUsage = database.prepare(
      "insert into usage_deltas (session_id, seq, source, model, input_tokens, output_tokens, cached_input_tokens, reasoning_tokens) values (?, ?, ?, ?, ?, ?, ?, ?)",
    );
    const insertCommit = database.prepare("insert into commits (session_id, commit_id, content_hash, head_revision) values (?, ?, ?, ?)");
    const insertBlob = database.prepare("insert or ignore into blobs (session_id, hash, content) values (?, ?, ?)");
    const upsertHead = database.prepare(
      "insert into heads (session_id, head_revision, leaf_node_id, config_json, checkpoint_ref, node_count, updated_at) values (?, ?, ?, ?, ?, ?, ?) on conflict (session_id) do update set head_revision = excluded.head_revision, leaf_node_id = excluded.leaf_node_id, config_json = excluded.config_json, checkpoint_ref = excluded.checkpoint_ref, node_count = excluded.node_count, updated_at = excluded.updated_at",
    );
    const upsertSummary = database.prepare(
      "insert into session_summaries (session_id, last_activity_at, turn_count, model, input_tokens, output_tokens, cached_input_tokens, reasoning_tokens) values (?, ?, ?, ?, ?, ?, ?, ?) on conflict (session_id) do update set last_activity_at = excluded.last_activity_at, turn_count = excluded.turn_count, model = excluded.model, input_tokens = excluded.input_tokens, output_tokens = excluded.output_tokens, cached_input_tokens = excluded.cached_input_tokens, reasoning_tokens = excluded.reasoning_tokens",
    );
    let sessions = 0;
    const write = database.transaction((sessionId: string, turn: TurnRows) => {
      let seq = 0;
      for (const node of turn.nodes) {
        seq += 1;
        insertNode.run(sessionId, node.nodeId, seq, node.parentNodeId ?? null, JSON.stringify(node));
      }
      const totals = { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, reasoningTokens: 0 };
      for (const entry of turn.usage) {
        seq += 1;
        const usage = entry.usage;
        insertUsage.run(
          sessionId,
          seq,
          entry.source,
          entry.model,
          usage.inputTokens,
          usage.outputTokens,
          usage.cachedInputTokens,
          usage.reasoningTokens,
        );
        totals.inputTokens += usage.inputTokens;
        totals.outputTokens += usage.outputTokens;
        totals.cachedInputTokens += usage.cachedInputTokens;
        totals.reasoningTokens += usage.reasoningTokens;
      }
      const checkpoint = JSON.stringify(turn.final.checkpoint);
      const checkpointRef = sha256(checkpoint);
      insertBlob.run(sessionId, checkpointRef, checkpoint);
      insertCommit.run(sessionId, turn.final.commitId, sha256(JSON.stringify(turn.final)), 1);
      const now = new Date().toISOString();
      const leaf = turn.final.graph.type === "append" ? (turn.final.graph.leafNodeId ?? null) : null;
      upsertHead.run(sessionId, 1, leaf, JSON.stringify(turn.final.config), checkpointRef, turn.nodes.length, now);
      upsertSummary.run(
        sessionId,
        now,
        turn.final.checkpoint.turnState.turnIndex,
        turn.final.config.model,
        totals.inputTokens,
        totals.outputTokens,
        totals.cachedInputTokens,
        totals.reasoningTokens,
      );
    });
    const synchronous = database.pragma("synchronous", { simple: true });
    return {
      note: `pragma synchronous read back: ${String(synchronous)} (2 = FULL); rows of a lash turn: W1 ${rows.W1.nodes.length} nodes in ${rows.W1.commits} commits, W2 ${rows.W2.nodes.length} nodes in ${rows.W2.commits} commits`,
      async turn(workload) {
        sessions += 1;
        write.immediate(`raw-${sessions}`, rows[workload]);
        return undefined;
      },
      async close() {
        const written = (database.prepare("select count(*) as count from heads").get() as { count: number }).count;
        database.close();
        await rm(folder, { recursive: true, force: true });
        if (written !== sessions) throw new Error(`the raw SQLite floor wrote ${written} turns, expected ${sessions}`);
      },
    };
  },
};
