import type { SessionCommit } from "@lash/protocol";
import { sql } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { backendTitle, SQL_TEST_BACKENDS, type SqlTestStorage } from "../../test/backends.js";
import { append, chain, commit, node, turnUsage, usage } from "../../test/fixtures.js";
import type { SqlSessionDatabase } from "./index.js";

// Without a commit hook, a PostgreSQL commit is one call of the `lash_commit` function (one round
// trip); with one, it goes through the query builder in a transaction (sql-commit.ts). Both must
// store exactly the same rows and answer every commit the same way.
const postgres = SQL_TEST_BACKENDS.find((backend) => backend.name === "postgres");

describe.skipIf(postgres === undefined || postgres.skipReason !== undefined)(
  backendTitle(
    postgres ?? { name: "postgres", skipReason: "no backend", createStorage: async () => Promise.reject() },
    "the two commit paths",
  ),
  () => {
    const storages: SqlTestStorage[] = [];
    afterEach(async () => {
      for (const storage of storages.splice(0)) await storage.remove();
    });

    async function bothPaths(): Promise<{
      viaFunction: SqlSessionDatabase;
      viaBuilder: SqlSessionDatabase;
      rows: (storage: "function" | "builder") => Promise<unknown>;
    }> {
      if (postgres === undefined) throw new Error("no PostgreSQL backend");
      const functionStorage = await postgres.createStorage();
      const builderStorage = await postgres.createStorage();
      storages.push(functionStorage, builderStorage);
      const viaFunction = await functionStorage.open();
      const viaBuilder = await builderStorage.open({ onCommit: async () => {} });
      const rows = async (which: "function" | "builder"): Promise<unknown> => {
        const kysely = (which === "function" ? functionStorage : builderStorage).kysely();
        return {
          heads: await kysely
            .selectFrom("lash_heads")
            .select(["session_id", "head_revision", "leaf_node_id", "config_json", "checkpoint_ref", "node_count"])
            .orderBy("session_id")
            .execute(),
          nodes: await kysely.selectFrom("lash_graph_nodes").selectAll().orderBy("session_id").orderBy("seq").execute(),
          usage: await kysely.selectFrom("lash_usage_deltas").selectAll().orderBy("session_id").orderBy("seq").execute(),
          commits: await kysely.selectFrom("lash_commits").selectAll().orderBy("session_id").orderBy("commit_id").execute(),
          blobs: await kysely.selectFrom("lash_blobs").selectAll().orderBy("session_id").orderBy("hash").execute(),
          summaries: await kysely
            .selectFrom("lash_session_summaries")
            .select(["session_id", "turn_count", "model", "input_tokens", "output_tokens", "cached_input_tokens", "reasoning_tokens"])
            .orderBy("session_id")
            .execute(),
        };
      };
      return { viaFunction, viaBuilder, rows };
    }

    const nul = "s\u0000\u0001";
    const commits: SessionCommit[] = [
      commit({ commitId: "t1", graph: append(chain(["m1", "m2"])), usageDeltas: [turnUsage(usage(10, 2, 3, 1))] }),
      commit({
        commitId: "t2",
        expectedHeadRevision: 1,
        graph: append([node("m3", "m2")]),
        usageDeltas: [turnUsage(usage(5, 1)), turnUsage(usage(0, 0, 0, 0), "child"), turnUsage(usage(1, 1), "source\u0000", "model\u0001")],
        durability: "checkpoint",
      }),
      commit({ commitId: "t3", expectedHeadRevision: 2, graph: { type: "unchanged", leafNodeId: "m2" } }),
      commit({ commitId: "t4", expectedHeadRevision: 3, graph: { type: "unchanged" } }),
      commit({
        commitId: "t5",
        expectedHeadRevision: 4,
        graph: { type: "replace_full", graph: { nodes: chain(["r1", "r2"]), leafNodeId: "r2" } },
      }),
      commit({ commitId: "t6", expectedHeadRevision: 5, graph: { type: "replace_full", graph: { nodes: [] } } }),
      commit({ commitId: "t7\u0000", expectedHeadRevision: 6, graph: append([node("n\u0000", undefined), node("n\u0001", "n\u0000")]) }),
    ];

    it("store the same rows and load the same session", async () => {
      const { viaFunction, viaBuilder, rows } = await bothPaths();
      for (const sessionId of ["s1", nul]) {
        for (const entry of commits) {
          const scoped = { ...entry, sessionId };
          expect(await viaFunction.openSession(sessionId).commit(scoped)).toEqual(await viaBuilder.openSession(sessionId).commit(scoped));
        }
        expect(await viaFunction.openSession(sessionId).loadSession({ type: "full_graph" })).toEqual(
          await viaBuilder.openSession(sessionId).loadSession({ type: "full_graph" }),
        );
      }
      expect(await rows("function")).toEqual(await rows("builder"));
    });

    it("answer replays, conflicts and every graph rule the same way, writing nothing for a refused commit", async () => {
      const { viaFunction, viaBuilder, rows } = await bothPaths();
      const outcome = async (database: SqlSessionDatabase, entry: SessionCommit): Promise<unknown> => {
        try {
          return await database.openSession(entry.sessionId).commit(entry);
        } catch (error) {
          const { code, message, expected, actual } = error as { code?: unknown; message?: unknown; expected?: unknown; actual?: unknown };
          return { code, message, expected, actual };
        }
      };
      const first = commits[0] as SessionCommit;
      const cases: SessionCommit[] = [
        commit({ commitId: "early", expectedHeadRevision: 0 }),
        commit({ commitId: "dangling", graph: { type: "unchanged", leafNodeId: "nowhere" } }),
        commit({ commitId: "twice", graph: append([node("d1"), node("d1")]) }),
        commit({ commitId: "leafless", graph: { type: "replace_full", graph: { nodes: [node("x")], leafNodeId: "y" } } }),
        first,
        first,
        { ...first, usageDeltas: [] },
        commit({ commitId: "missing", graph: append([node("x", "m2")]) }),
        commit({ commitId: "stale", expectedHeadRevision: 7, graph: append([node("x", "m2")]) }),
        commit({ commitId: "taken", expectedHeadRevision: 1, graph: append([node("z", "m2"), node("m1")]) }),
        commit({ commitId: "repeated", expectedHeadRevision: 1, graph: append([node("z", "m2"), node("z", "m2")]) }),
        commit({ commitId: "leaf", expectedHeadRevision: 1, graph: { type: "unchanged", leafNodeId: "nowhere" } }),
        commit({
          commitId: "twice-full",
          expectedHeadRevision: 1,
          graph: { type: "replace_full", graph: { nodes: [node("q"), node("q")] } },
        }),
        commit({
          commitId: "full-leaf",
          expectedHeadRevision: 1,
          graph: { type: "replace_full", graph: { nodes: [node("q")], leafNodeId: "m1" } },
        }),
        commit({ commitId: "ok", expectedHeadRevision: 1, graph: append([node("z", "m2")], "m1") }),
      ];
      for (const entry of cases) expect(await outcome(viaFunction, entry)).toEqual(await outcome(viaBuilder, entry));
      expect(await rows("function")).toEqual(await rows("builder"));
      expect((await viaFunction.openSession("s1").loadSession({ type: "full_graph" }))?.headRevision).toBe(2);
    });

    it("the commit function is installed in the store's schema, and a migration run again leaves it as it is", async () => {
      const { viaFunction } = await bothPaths();
      const storage = storages[0];
      if (storage === undefined) throw new Error("no storage");
      const found = await sql<{
        schema: string;
      }>`select n.nspname as schema from pg_proc p join pg_namespace n on n.oid = p.pronamespace where p.proname = 'lash_commit' and n.nspname = ${storage.schema ?? ""}`.execute(
        storage.kysely().withoutPlugins(),
      );
      expect(found.rows).toEqual([{ schema: storage.schema }]);
      expect((await viaFunction.migrateToLatest()).appliedMigrations).toEqual([]);
    });
  },
);
