// W2 turns (packages/core/bench/workloads.ts) through a lash runtime on each store, side by side with
// the floor for SQLite: one raw better-sqlite3 transaction per turn writing the rows the store
// writes for that turn, at the synchronous setting a durable turn needs (FULL).
import { createHash } from "node:crypto";
import { join } from "node:path";
import { InMemorySessionDatabase } from "@lash/core";
import type { SessionCommit, SessionStore } from "@lash/protocol";
import { isEmptyTokenUsage, stableStringify } from "@lash/protocol";
import { dropSchema, freshSchemaName, POSTGRES_URL, postgresUnavailableReason } from "@lash/test-infrastructure/postgres";
import Database from "better-sqlite3";
import { createSqlSessionDatabase, type SqlSessionDatabase } from "../src/sql/index.js";
import { collectGarbage, measure, type Stats } from "./bench-stats.js";
import { expectW2Work, recordingStore, runW2Turn } from "./turn-workload.js";

/** One side of the W2 comparison: runs turn `index` (a new session each time). */
export interface TurnSide {
  readonly name: string;
  turn(index: number): Promise<void> | void;
  /** Checks the side stored every turn, then releases it. */
  finish(expectedTurns: number): Promise<void>;
}

export interface TurnBenchRow {
  readonly name: string;
  readonly stats?: Stats;
  readonly skipped?: string;
}

function storeSide(
  name: string,
  open: (sessionId: string) => SessionStore,
  release: () => Promise<void>,
  count: () => Promise<number>,
): TurnSide {
  return {
    name,
    async turn(index) {
      const sessionId = `w2-${index}`;
      expectW2Work(name, await runW2Turn(sessionId, open(sessionId)));
    },
    async finish(expectedTurns) {
      const stored = await count();
      await release();
      if (stored !== expectedTurns) throw new Error(`${name} stored ${stored} turns, expected ${expectedTurns}`);
    },
  };
}

/** Sessions whose summary says one completed turn: every turn the side ran must be one. */
async function completedTurns(database: SqlSessionDatabase): Promise<number> {
  let count = 0;
  let cursor: string | undefined;
  do {
    const page = await database.listSessions({ limit: 1000, ...(cursor === undefined ? {} : { cursor }) });
    count += page.sessions.filter((session) => session.turnCount === 1).length;
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return count;
}

/** The lash SQLite store, as shipped: a checkpoint-level prepared and progress commit, one turn-level final commit. */
export async function sqliteTurnSide(file: string): Promise<TurnSide> {
  const database = createSqlSessionDatabase({ connection: `sqlite:${file}` });
  await database.migrateToLatest();
  return storeSide(
    "lash + SQLite store",
    (sessionId) => database.openSession(sessionId),
    () => database.destroy(),
    () => completedTurns(database),
  );
}

/** What one W2 turn commits, recorded from a turn on a scratch SQLite store. */
export async function recordW2Commits(file: string): Promise<SessionCommit[]> {
  const database = createSqlSessionDatabase({ connection: `sqlite:${file}` });
  await database.migrateToLatest();
  const commits: SessionCommit[] = [];
  expectW2Work("recording", await runW2Turn("recorded", recordingStore(database.openSession("recorded"), commits)));
  await database.destroy();
  return commits;
}

/**
 * The floor: per turn, one IMMEDIATE transaction at synchronous FULL writing what the store holds
 * after that turn (every node of its commits, its usage rows, the last checkpoint, one commit row,
 * the head and the summary), with statements prepared once and no checks.
 */
export async function rawFloorSide(file: string, commits: readonly SessionCommit[]): Promise<TurnSide> {
  const migrated = createSqlSessionDatabase({ connection: `sqlite:${file}` });
  await migrated.migrateToLatest();
  await migrated.destroy();
  const database = new Database(file);
  database.pragma("journal_mode = WAL");
  database.pragma("synchronous = FULL");
  const nodes = commits.flatMap((commit) => (commit.graph.type === "append" ? commit.graph.nodes : []));
  const usage = commits.flatMap((commit) => commit.usageDeltas.filter((entry) => !isEmptyTokenUsage(entry.usage)));
  const last = commits.at(-1);
  if (last === undefined) throw new Error("the W2 turn committed nothing");
  const checkpoint = stableStringify(last.checkpoint);
  const checkpointRef = createHash("sha256").update(checkpoint).digest("hex");
  const leaf = nodes.at(-1)?.nodeId ?? null;
  const config = JSON.stringify(last.config);
  const insertNode = database.prepare(
    "insert into lash_graph_nodes (session_id, node_id, seq, parent_node_id, node_json, tombstoned) values (?, ?, ?, ?, ?, 0)",
  );
  const insertUsage = database.prepare(
    "insert into lash_usage_deltas (session_id, seq, source, model, input_tokens, output_tokens, cached_input_tokens, reasoning_tokens) values (?, ?, ?, ?, ?, ?, ?, ?)",
  );
  const insertBlob = database.prepare("insert or ignore into lash_blobs (session_id, hash, content) values (?, ?, ?)");
  const insertCommit = database.prepare(
    "insert into lash_commits (session_id, commit_id, content_hash, head_revision) values (?, ?, ?, ?)",
  );
  const insertHead = database.prepare(
    "insert into lash_heads (session_id, head_revision, leaf_node_id, config_json, checkpoint_ref, node_count, updated_at) values (?, ?, ?, ?, ?, ?, ?)",
  );
  const insertSummary = database.prepare(
    "insert into lash_session_summaries (session_id, last_activity_at, turn_count, model, input_tokens, output_tokens, cached_input_tokens, reasoning_tokens) values (?, ?, ?, ?, ?, ?, ?, ?)",
  );
  const nodeJson = nodes.map((node) => JSON.stringify(node));
  const write = database.transaction((sessionId: string) => {
    nodes.forEach((node, index) => {
      insertNode.run(sessionId, node.nodeId, index + 1, node.parentNodeId ?? null, nodeJson[index] ?? "");
    });
    let input = 0;
    let output = 0;
    usage.forEach((entry, index) => {
      const { inputTokens, outputTokens, cachedInputTokens, reasoningTokens } = entry.usage;
      insertUsage.run(sessionId, index + 1, entry.source, entry.model, inputTokens, outputTokens, cachedInputTokens, reasoningTokens);
      input += inputTokens;
      output += outputTokens;
    });
    insertBlob.run(sessionId, checkpointRef, checkpoint);
    insertCommit.run(sessionId, last.commitId, checkpointRef, 1);
    const now = new Date().toISOString();
    insertHead.run(sessionId, 1, leaf, config, checkpointRef, nodes.length, now);
    insertSummary.run(sessionId, now, 1, last.config.model, input, output, 0, 0);
  });
  return {
    name: "raw better-sqlite3 floor (FULL)",
    turn: (index) => {
      write.immediate(`w2-${index}`);
    },
    async finish(expectedTurns) {
      const row = database.prepare("select count(*) as count from lash_heads").get() as { count: number };
      database.close();
      if (row.count !== expectedTurns) throw new Error(`the raw floor wrote ${row.count} turns, expected ${expectedTurns}`);
    },
  };
}

async function postgresSide(): Promise<TurnSide | { skipped: string }> {
  const reason = await postgresUnavailableReason();
  if (reason !== undefined) return { skipped: reason };
  const schema = freshSchemaName();
  const database = createSqlSessionDatabase({ connection: POSTGRES_URL, schema, maxConnections: 2 });
  await database.migrateToLatest();
  return storeSide(
    "lash + PostgreSQL store",
    (sessionId) => database.openSession(sessionId),
    async () => {
      await database.destroy();
      await dropSchema(schema);
    },
    () => completedTurns(database),
  );
}

/** Runs every side with `warmup + iterations` W2 turns, each on a new session; one round. */
export async function runTurnBench(folder: string, round: number, warmup: number, iterations: number): Promise<TurnBenchRow[]> {
  const commits = await recordW2Commits(join(folder, `recorded-${round}.db`));
  const memory = new InMemorySessionDatabase();
  let memoryTurns = 0;
  const builders: (() => Promise<TurnSide | { skipped: string; name: string }>)[] = [
    async () =>
      storeSide(
        "lash + in-memory store",
        (sessionId) => {
          memoryTurns += 1;
          return memory.openSession(sessionId);
        },
        async () => {},
        async () => memoryTurns,
      ),
    () => rawFloorSide(join(folder, `floor-${round}.db`), commits),
    () => sqliteTurnSide(join(folder, `store-${round}.db`)),
    async () => {
      const side = await postgresSide();
      return "skipped" in side ? { ...side, name: "lash + PostgreSQL store" } : side;
    },
  ];
  const rows: TurnBenchRow[] = [];
  for (const build of builders) {
    const side = await build();
    if ("skipped" in side) {
      rows.push({ name: side.name, skipped: side.skipped });
      continue;
    }
    collectGarbage();
    const stats = await measure((index) => side.turn(index), warmup, iterations);
    await side.finish(warmup + iterations);
    rows.push({ name: side.name, stats });
  }
  return rows;
}
