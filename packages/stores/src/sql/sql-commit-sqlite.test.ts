import { join } from "node:path";
import type { SessionCommit } from "@lash/protocol";
import Database from "better-sqlite3";
import { Kysely, SqliteDialect } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { append, chain, commit, node, thrown, turnUsage, usage } from "../../test/fixtures.js";
import { createSqliteTestFolder, type SqliteTestFolder } from "../../test/sqlite.js";
import { createSqlSessionDatabase, type LashSqlSchema, type SqlSessionDatabase } from "./index.js";

// A SQLite database the store opened itself commits through the synchronous path
// (sql-commit-sqlite.ts); one reached through a caller-built Kysely instance goes through the query
// builder (sql-commit.ts). Both must store exactly the same thing and fail the same way.
describe("the two SQLite commit paths", () => {
  let folder: SqliteTestFolder | undefined;
  const opened: { destroy(): Promise<void> }[] = [];
  afterEach(async () => {
    for (const database of opened.splice(0)) await database.destroy();
    await folder?.remove();
  });

  async function bothPaths(): Promise<{ owned: SqlSessionDatabase; built: SqlSessionDatabase; readRows: (file: string) => unknown }> {
    folder = await createSqliteTestFolder();
    const owned = createSqlSessionDatabase({ connection: folder.connection("owned.db") });
    await owned.migrateToLatest();
    const handle = new Database(join(folder.path, "built.db"));
    const kysely = new Kysely<LashSqlSchema>({ dialect: new SqliteDialect({ database: handle }) });
    const built = createSqlSessionDatabase({ kysely, dialect: "sqlite" });
    await built.migrateToLatest();
    opened.push(owned, built, kysely);
    const readRows = (file: string): unknown => {
      const reader = new Database(join(folder?.path ?? "", file), { readonly: true });
      try {
        return {
          heads: reader
            .prepare(
              "select session_id, head_revision, leaf_node_id, config_json, checkpoint_ref, node_count from lash_heads order by session_id",
            )
            .all(),
          nodes: reader
            .prepare(
              "select session_id, node_id, seq, parent_node_id, node_json, tombstoned from lash_graph_nodes order by session_id, seq",
            )
            .all(),
          usage: reader.prepare("select * from lash_usage_deltas order by session_id, seq").all(),
          commits: reader.prepare("select * from lash_commits order by session_id, commit_id").all(),
          blobs: reader.prepare("select * from lash_blobs order by session_id, hash").all(),
          summaries: reader
            .prepare(
              "select session_id, turn_count, model, input_tokens, output_tokens, cached_input_tokens, reasoning_tokens from lash_session_summaries order by session_id",
            )
            .all(),
        };
      } finally {
        reader.close();
      }
    };
    return { owned, built, readRows };
  }

  const commits: SessionCommit[] = [
    commit({ commitId: "t1", graph: append(chain(["m1", "m2"])), usageDeltas: [turnUsage(usage(10, 2, 3, 1))] }),
    commit({
      commitId: "t2",
      expectedHeadRevision: 1,
      graph: append([node("m3", "m2")]),
      usageDeltas: [turnUsage(usage(5, 1)), turnUsage(usage(0, 0, 0, 0), "child")],
    }),
    commit({ commitId: "t3", expectedHeadRevision: 2, graph: { type: "unchanged", leafNodeId: "m2" } }),
    commit({
      commitId: "t4",
      expectedHeadRevision: 3,
      graph: { type: "replace_full", graph: { nodes: chain(["r1", "r2"]), leafNodeId: "r2" } },
    }),
  ];

  it("store the same rows and load the same session", async () => {
    const { owned, built, readRows } = await bothPaths();
    for (const entry of commits) {
      expect(await owned.openSession("s1").commit(entry)).toEqual(await built.openSession("s1").commit(entry));
    }
    expect(await owned.openSession("s1").loadSession({ type: "full_graph" })).toEqual(
      await built.openSession("s1").loadSession({ type: "full_graph" }),
    );
    expect(readRows("owned.db")).toEqual(readRows("built.db"));
  });

  it("answer replays, conflicts and bad deltas the same way", async () => {
    const { owned, built } = await bothPaths();
    const outcome = async (database: SqlSessionDatabase, entry: SessionCommit): Promise<unknown> => {
      try {
        return await database.openSession("s1").commit(entry);
      } catch (error) {
        const { code, message } = error as { code?: unknown; message?: unknown };
        return { code, message };
      }
    };
    const cases: SessionCommit[] = [
      commits[0] as SessionCommit,
      commits[0] as SessionCommit,
      { ...(commits[0] as SessionCommit), usageDeltas: [] },
      commit({ commitId: "stale", expectedHeadRevision: 7, graph: append([node("x", "m2")]) }),
      commit({ commitId: "dup", expectedHeadRevision: 1, graph: append([node("m1")]) }),
      commit({ commitId: "leaf", expectedHeadRevision: 1, graph: { type: "unchanged", leafNodeId: "nowhere" } }),
    ];
    for (const entry of cases) expect(await outcome(owned, entry)).toEqual(await outcome(built, entry));
    expect(await thrown(owned.openSession("s1").commit({ ...(commits[1] as SessionCommit), sessionId: "other" }))).toMatchObject({
      code: "session_binding_mismatch",
    });
  });
});
