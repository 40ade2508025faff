import type { GraphCommitDelta, SessionStore } from "@lash/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { backendTitle, lashMigratorOn, SQL_TEST_BACKENDS, type SqlTestStorage } from "../../test/backends.js";
import { append, chain, commit, node, turnUsage, usage } from "../../test/fixtures.js";
import type { SqlSessionDatabase } from "./index.js";

// Migration 0006: the head keeps the next `seq` of the session's nodes and usage rows, so a commit
// needs no `max(seq)` lookup. Every commit path (SQLite's synchronous one or PostgreSQL's function,
// and the query builder's, taken with a commit hook) must keep them and number rows from them.

for (const backend of SQL_TEST_BACKENDS) {
  describe.skipIf(backend.skipReason !== undefined)(backendTitle(backend, "the head's next sequence numbers"), () => {
    let storage: SqlTestStorage | undefined;
    afterEach(async () => {
      await storage?.remove();
    });

    const sequences = async (sessionId: string) => {
      const kysely = storage?.kysely();
      if (kysely === undefined) throw new Error("no storage");
      const head = await kysely
        .selectFrom("lash_heads")
        .select(["next_node_seq", "next_usage_seq"])
        .where("session_id", "=", sessionId)
        .executeTakeFirst();
      const nodes = await kysely
        .selectFrom("lash_graph_nodes")
        .select(["node_id", "seq"])
        .where("session_id", "=", sessionId)
        .orderBy("seq")
        .execute();
      const usageRows = await kysely
        .selectFrom("lash_usage_deltas")
        .select("seq")
        .where("session_id", "=", sessionId)
        .orderBy("seq")
        .execute();
      return {
        head: head === undefined ? undefined : { node: Number(head.next_node_seq), usage: Number(head.next_usage_seq) },
        nodes: nodes.map((row) => `${row.node_id}@${Number(row.seq)}`),
        usage: usageRows.map((row) => Number(row.seq)),
      };
    };

    async function runCommits(store: SessionStore, sessionId: string): Promise<void> {
      const steps: { graph: GraphCommitDelta; usageCount: number }[] = [
        { graph: append(chain(["a", "b"])), usageCount: 1 },
        { graph: { type: "unchanged" }, usageCount: 2 },
        { graph: append([node("c", "b")]), usageCount: 0 },
        // A whole new graph numbers its nodes from 1 again; usage rows keep counting.
        { graph: { type: "replace_full", graph: { nodes: chain(["x", "y", "z"]), leafNodeId: "z" } }, usageCount: 1 },
        { graph: append([node("w", "z")]), usageCount: 1 },
      ];
      for (const [index, step] of steps.entries()) {
        await store.commit(
          commit({
            sessionId,
            commitId: `c${index + 1}`,
            ...(index === 0 ? {} : { expectedHeadRevision: index }),
            graph: step.graph,
            usageDeltas: Array.from({ length: step.usageCount }, () => turnUsage(usage(1, 1))),
          }),
        );
      }
    }

    /** A fresh storage, and a database object per commit path: the store's own, and the query builder's (a hook). */
    async function commitPaths(): Promise<[string, SqlSessionDatabase][]> {
      storage = await backend.createStorage();
      return [
        ["direct", await storage.open()],
        ["hook", await storage.open({ onCommit: async () => {} })],
      ];
    }

    it("every commit path numbers rows from the head and keeps it, a whole new graph starting over at 1", async () => {
      for (const [name, database] of await commitPaths()) {
        await runCommits(database.openSession(name), name);
        expect(await sequences(name)).toEqual({
          head: { node: 5, usage: 6 },
          nodes: ["x@1", "y@2", "z@3", "w@4"],
          usage: [1, 2, 3, 4, 5],
        });
      }
    });

    it("a session deleted and created again under its id numbers from 1, on every path", async () => {
      for (const [name, database] of await commitPaths()) {
        const first = commit({ sessionId: name, commitId: "c1", graph: append(chain(["a", "b"])), usageDeltas: [turnUsage(usage(1, 1))] });
        await database.openSession(name).commit(first);
        await database.openSession(name).deleteSession();
        await database.openSession(name).commit(first);
        expect(await sequences(name)).toEqual({ head: { node: 3, usage: 2 }, nodes: ["a@1", "b@2"], usage: [1] });
      }
    });

    it("migrating a database at 0005 fills every head from its rows; the next commit continues the numbering", async () => {
      storage = await backend.createStorage();
      const { kysely, migrator } = lashMigratorOn(storage, backend.name);
      expect((await migrator.migrateTo("0005_attachments")).error).toBeUndefined();
      // Written the way the store of 0005 wrote them: nodes 1-3 (the second tombstoned), usage 1-2.
      const head = (sessionId: string) => ({
        session_id: sessionId,
        head_revision: 2,
        leaf_node_id: sessionId === "full" ? "n3" : null,
        config_json: JSON.stringify({ providerId: "mock", model: "m", contextWindow: 1000, executionMode: "standard" }),
        checkpoint_ref: `ref-${sessionId}`,
        node_count: sessionId === "full" ? 2 : 0,
        updated_at: "2025-03-01T00:00:00.000Z",
      });
      // The 0005 schema has no sequence columns: the rows go in through raw column lists.
      await kysely
        .insertInto("lash_heads")
        .values([head("full"), head("empty")])
        .execute();
      await kysely
        .insertInto("lash_blobs")
        .values([
          {
            session_id: "full",
            hash: "ref-full",
            content: JSON.stringify({ schemaVersion: 1, turnState: { turnIndex: 2, tokenUsage: usage(0, 0) } }),
          },
          {
            session_id: "empty",
            hash: "ref-empty",
            content: JSON.stringify({ schemaVersion: 1, turnState: { turnIndex: 0, tokenUsage: usage(0, 0) } }),
          },
        ])
        .execute();
      await kysely
        .insertInto("lash_graph_nodes")
        .values(
          chain(["n1", "n2", "n3"]).map((record, index) => ({
            session_id: "full",
            node_id: record.nodeId,
            seq: index + 1,
            parent_node_id: record.parentNodeId ?? null,
            node_json: JSON.stringify(record),
            tombstoned: index === 1 ? 1 : 0,
          })),
        )
        .execute();
      await kysely
        .insertInto("lash_usage_deltas")
        .values(
          [1, 2].map((seq) => ({
            session_id: "full",
            seq,
            source: "turn",
            model: "m",
            input_tokens: 1,
            output_tokens: 1,
            cached_input_tokens: 0,
            reasoning_tokens: 0,
          })),
        )
        .execute();

      const database = await storage.open({ migrate: false });
      expect((await database.migrateToLatest()).appliedMigrations).toEqual(["0006_head_sequences"]);
      expect((await sequences("full")).head).toEqual({ node: 4, usage: 3 });
      expect((await sequences("empty")).head).toEqual({ node: 1, usage: 1 });
      await database.openSession("full").commit(
        commit({
          sessionId: "full",
          commitId: "t3",
          expectedHeadRevision: 2,
          graph: append([node("n4", "n3")]),
          usageDeltas: [turnUsage(usage(2, 2))],
        }),
      );
      expect(await sequences("full")).toEqual({ head: { node: 5, usage: 4 }, nodes: ["n1@1", "n2@2", "n3@3", "n4@4"], usage: [1, 2, 3] });
    });
  });
}
