import {
  CommitIdConflictError,
  HeadRevisionConflictError,
  InvalidPersistedDataError,
  LashError,
  SessionBindingMismatchError,
  type SessionMeta,
} from "@lash/protocol";
import { sql } from "kysely";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { backendTitle, SQL_TEST_BACKENDS, type SqlTestStorage } from "../../test/backends.js";
import { append, chain, commit, node, thrown, turnUsage, usage } from "../../test/fixtures.js";
import { createSqlSessionDatabase, type SqlSessionDatabase } from "./index.js";

function meta(sessionId: string, overrides: Partial<SessionMeta> = {}): SessionMeta {
  return {
    sessionId,
    sessionName: sessionId,
    createdAt: "2025-01-01T00:00:00.000Z",
    model: "mock-model",
    relation: { type: "root" },
    ...overrides,
  };
}

for (const backend of SQL_TEST_BACKENDS) {
  describe.skipIf(backend.skipReason !== undefined)(backendTitle(backend, "SqlSessionStore"), () => {
    let storage: SqlTestStorage;
    let database: SqlSessionDatabase;

    beforeEach(async () => {
      storage = await backend.createStorage();
      database = await storage.open();
    });
    afterEach(async () => {
      await storage.remove();
    });

    it("round-trips a commit: nodes, leaf, config, checkpoint, ledger", async () => {
      const store = database.openSession("s1");
      expect(await store.loadSession({ type: "full_graph" })).toBeUndefined();
      expect(await store.loadHeadRevision()).toBeUndefined();
      const first = commit({
        commitId: "t1:final",
        graph: append(chain(["m1", "m2"])),
        usageDeltas: [turnUsage(usage(10, 5)), turnUsage(usage(0, 0)), turnUsage(usage(0, 0, 7), "child")],
      });
      expect(await store.commit(first)).toEqual({ headRevision: 1, commitId: "t1:final", replayed: false });
      await store.commit(
        commit({
          commitId: "t2:final",
          expectedHeadRevision: 1,
          graph: append([node("m3", "m2")]),
          usageDeltas: [turnUsage(usage(1, 2, 0, 3))],
        }),
      );

      const read = await store.loadSession({ type: "full_graph" });
      expect(read).toEqual({
        sessionId: "s1",
        headRevision: 2,
        config: first.config,
        graph: { nodes: chain(["m1", "m2", "m3"]), leafNodeId: "m3" },
        checkpoint: first.checkpoint,
        tokenLedger: [turnUsage(usage(11, 7, 0, 3)), turnUsage(usage(0, 0, 7), "child")],
      });
      expect(await store.loadHeadRevision()).toBe(2);
      expect(await store.loadNode("m2")).toEqual(node("m2", "m1"));
      expect(await store.loadNode("missing")).toBeUndefined();

      // The data is in the database, not in the object: a new object over the same storage sees it.
      const reopened = await storage.open({ migrate: false });
      expect(await reopened.openSession("s1").loadSession({ type: "full_graph" })).toEqual(read);
    });

    it("keeps token counts beyond 32 bits exact", async () => {
      const store = database.openSession("s1");
      const large = usage(2 ** 40 + 1, 2 ** 35, 2 ** 33, 2 ** 50);
      await store.commit(commit({ commitId: "t1", usageDeltas: [turnUsage(large)] }));
      await store.commit(commit({ commitId: "t2", expectedHeadRevision: 1, usageDeltas: [turnUsage(large)] }));
      const read = await store.loadSession({ type: "full_graph" });
      expect(read?.tokenLedger).toEqual([turnUsage(usage(2 * (2 ** 40 + 1), 2 ** 36, 2 ** 34, 2 ** 51))]);
    });

    it("replays a commit id with the same content and rejects it with other content, writing nothing", async () => {
      const store = database.openSession("s1");
      const first = commit({ commitId: "t1:final", graph: append([node("m1")]), usageDeltas: [turnUsage(usage(10, 5))] });
      await store.commit(first);
      expect(await store.commit(first)).toEqual({ headRevision: 1, commitId: "t1:final", replayed: true });
      const error = await thrown(store.commit({ ...first, usageDeltas: [turnUsage(usage(99, 1))] }));
      expect(CommitIdConflictError.isInstance(error)).toBe(true);
      expect(error).toMatchObject({ sessionId: "s1", commitId: "t1:final" });
      const read = await store.loadSession({ type: "full_graph" });
      expect(read?.headRevision).toBe(1);
      expect(read?.tokenLedger).toEqual([turnUsage(usage(10, 5))]);
    });

    it("enforces compare-and-set both ways", async () => {
      const store = database.openSession("s1");
      const early = await thrown(store.commit(commit({ commitId: "t0", expectedHeadRevision: 0 })));
      expect(HeadRevisionConflictError.isInstance(early)).toBe(true);
      expect(early).toMatchObject({ expected: 0, actual: 0 });
      await store.commit(commit({ commitId: "t1", graph: append([node("m1")]) }));
      const blind = await thrown(store.commit(commit({ commitId: "t2", graph: append([node("m2", "m1")]) })));
      expect(blind).toMatchObject({ code: "head_revision_conflict", expected: undefined, actual: 1 });
      const stale = await thrown(store.commit(commit({ commitId: "t3", expectedHeadRevision: 5 })));
      expect(stale).toMatchObject({ code: "head_revision_conflict", expected: 5, actual: 1 });
      expect((await store.loadSession({ type: "full_graph" }))?.graph.nodes).toEqual([node("m1")]);
    });

    it("rejects another session's commit and meta on a bound store", async () => {
      const store = database.openSession("s1");
      const error = await thrown(store.commit(commit({ sessionId: "s2", commitId: "t1" })));
      expect(SessionBindingMismatchError.isInstance(error)).toBe(true);
      expect(error).toMatchObject({ boundSessionId: "s1", attemptedSessionId: "s2" });
      expect(SessionBindingMismatchError.isInstance(await thrown(store.saveSessionMeta(meta("s2"))))).toBe(true);
      expect(await database.listSessions()).toEqual({ sessions: [] });
    });

    it("rejects duplicate and dangling graph deltas before writing anything", async () => {
      const store = database.openSession("s1");
      await store.commit(commit({ commitId: "t1", graph: append(chain(["m1", "m2"])), usageDeltas: [turnUsage(usage(1, 1))] }));
      await store.tombstoneNodes(["m2"]);
      const cases = [
        commit({ commitId: "dup", expectedHeadRevision: 1, graph: append([node("m1")]), usageDeltas: [turnUsage(usage(5, 5))] }),
        commit({ commitId: "tomb", expectedHeadRevision: 1, graph: append([node("m2", "m1")]) }),
        commit({ commitId: "twice", expectedHeadRevision: 1, graph: append([node("x"), node("x")]) }),
        commit({
          commitId: "replace-twice",
          expectedHeadRevision: 1,
          graph: { type: "replace_full", graph: { nodes: [node("y"), node("y")] } },
        }),
        commit({ commitId: "leaf", expectedHeadRevision: 1, graph: { type: "unchanged", leafNodeId: "nowhere" } }),
        commit({ commitId: "tombstoned-leaf", expectedHeadRevision: 1, graph: { type: "unchanged", leafNodeId: "m2" } }),
        commit({
          commitId: "replace-leaf",
          expectedHeadRevision: 1,
          graph: { type: "replace_full", graph: { nodes: [node("z")], leafNodeId: "m1" } },
        }),
      ];
      for (const rejected of cases) {
        const error = await thrown(store.commit(rejected));
        expect(LashError.isInstance(error) && error.code === "invalid_argument", `${rejected.commitId}: ${String(error)}`).toBe(true);
      }
      const read = await store.loadSession({ type: "full_graph" });
      expect(read).toMatchObject({
        headRevision: 1,
        graph: { nodes: [node("m1")], leafNodeId: "m2" },
        tokenLedger: [turnUsage(usage(1, 1))],
      });
      // A rejected commit leaves its id unused.
      expect(
        await store.commit(commit({ commitId: "dup", expectedHeadRevision: 1, graph: { type: "unchanged", leafNodeId: "m1" } })),
      ).toMatchObject({ headRevision: 2, replayed: false });
    });

    it("replaces the whole graph, tombstoned rows included", async () => {
      const store = database.openSession("s1");
      await store.commit(commit({ commitId: "t1", graph: append(chain(["m1", "m2"])) }));
      await store.tombstoneNodes(["m2"]);
      await store.commit(
        commit({
          commitId: "t2",
          expectedHeadRevision: 1,
          graph: { type: "replace_full", graph: { nodes: chain(["m2", "m1"]), leafNodeId: "m1" } },
        }),
      );
      expect(await store.loadSession({ type: "full_graph" })).toMatchObject({
        headRevision: 2,
        graph: { nodes: chain(["m2", "m1"]), leafNodeId: "m1" },
      });
      expect(await store.vacuum()).toEqual({ removedNodeCount: 0 });
    });

    it("loads the active path by walking parents from the leaf", async () => {
      const store = database.openSession("s1");
      // m1 ← m2 ← m3, and a branch m2 ← b1 ← b2
      await store.commit(commit({ commitId: "t1", graph: append([...chain(["m1", "m2", "m3"]), ...chain(["b1", "b2"], "m2")], "m3") }));
      expect((await store.loadSession({ type: "active_path" }))?.graph).toEqual({ nodes: chain(["m1", "m2", "m3"]), leafNodeId: "m3" });
      expect((await store.loadSession({ type: "active_path", leafNodeId: "b2" }))?.graph).toEqual({
        nodes: [...chain(["m1", "m2"]), ...chain(["b1", "b2"], "m2")],
        leafNodeId: "b2",
      });
      // A tombstoned parent ends the walk.
      await store.tombstoneNodes(["m2"]);
      expect((await store.loadSession({ type: "active_path", leafNodeId: "b2" }))?.graph.nodes).toEqual(chain(["b1", "b2"], "m2"));
      const named = await thrown(store.loadSession({ type: "active_path", leafNodeId: "m2" }));
      expect(LashError.isInstance(named) && named.code === "invalid_argument").toBe(true);
    });

    it("stops the active path at a parent cycle", async () => {
      const store = database.openSession("s1");
      await store.commit(commit({ commitId: "t1", graph: append([node("a", "c"), node("b", "a"), node("c", "b")], "c") }));
      const read = await store.loadSession({ type: "active_path" });
      expect(read?.graph.nodes.map((record) => record.nodeId)).toEqual(["a", "b", "c"]);
    });

    it("reports a head leaf that is no longer live as invalid persisted data", async () => {
      const store = database.openSession("s1");
      await store.commit(commit({ commitId: "t1", graph: append(chain(["m1", "m2"])) }));
      await store.tombstoneNodes(["m2"]);
      const error = await thrown(store.loadSession({ type: "active_path" }));
      expect(InvalidPersistedDataError.isInstance(error)).toBe(true);
      expect(error).toMatchObject({ sessionId: "s1", path: "head.leafNodeId" });
    });

    it("names the session and the field of a corrupt row, and other sessions stay readable", async () => {
      await database.openSession("good").commit(commit({ sessionId: "good", commitId: "t1", graph: append(chain(["m1", "m2"])) }));
      const bad = database.openSession("bad");
      await bad.commit(commit({ sessionId: "bad", commitId: "t1", graph: append(chain(["m1", "m2"])) }));
      const raw = storage.kysely();

      await raw
        .updateTable("lash_graph_nodes")
        .set({ node_json: "{not json" })
        .where("session_id", "=", "bad")
        .where("node_id", "=", "m2")
        .execute();
      const badJson = await thrown(bad.loadSession({ type: "full_graph" }));
      expect(InvalidPersistedDataError.isInstance(badJson)).toBe(true);
      expect(badJson).toMatchObject({ sessionId: "bad", path: "graph.nodes.1" });
      expect((badJson as Error).message).toContain("`bad`");

      const wrongRole = { ...node("m2", "m1"), payload: { kind: "message", message: { id: "m2", role: "wizard", parts: [] } } };
      await raw
        .updateTable("lash_graph_nodes")
        .set({ node_json: JSON.stringify(wrongRole) })
        .where("session_id", "=", "bad")
        .where("node_id", "=", "m2")
        .execute();
      for (const scope of [{ type: "full_graph" as const }, { type: "active_path" as const }]) {
        const badField = await thrown(bad.loadSession(scope));
        expect(InvalidPersistedDataError.isInstance(badField)).toBe(true);
        expect(badField).toMatchObject({ sessionId: "bad", path: "graph.nodes.1.payload.message.role" });
      }
      expect(await thrown(bad.loadNode("m2"))).toMatchObject({ code: "invalid_persisted_data", path: "node.payload.message.role" });

      await raw
        .updateTable("lash_heads")
        .set({ config_json: JSON.stringify({ providerId: "mock" }) })
        .where("session_id", "=", "bad")
        .execute();
      expect(await thrown(bad.loadSession({ type: "full_graph" }))).toMatchObject({ code: "invalid_persisted_data", path: "config.model" });

      await raw.updateTable("lash_usage_deltas").set({ input_tokens: 1 }).where("session_id", "=", "bad").execute();
      expect(await database.openSession("good").loadSession({ type: "full_graph" })).toMatchObject({
        headRevision: 1,
        graph: { nodes: chain(["m1", "m2"]) },
      });
      expect(await database.openSession("good").loadNode("m2")).toEqual(node("m2", "m1"));
    });

    it("names a corrupt usage count and a missing checkpoint", async () => {
      const store = database.openSession("s1");
      await store.commit(commit({ commitId: "t1", usageDeltas: [turnUsage(usage(3, 4))] }));
      const raw = storage.kysely();
      // Beyond 2^53: a number JavaScript cannot hold exactly is corrupt, not rounded.
      await raw.updateTable("lash_usage_deltas").set({ output_tokens: sql<number>`1152921504606846976` }).execute();
      expect(await thrown(store.loadSession({ type: "full_graph" }))).toMatchObject({
        code: "invalid_persisted_data",
        path: "tokenLedger.0.usage.outputTokens",
      });
      await raw.updateTable("lash_usage_deltas").set({ output_tokens: 4 }).execute();
      await raw.deleteFrom("lash_blobs").execute();
      expect(await thrown(store.loadSession({ type: "full_graph" }))).toMatchObject({
        code: "invalid_persisted_data",
        path: "head.checkpointRef",
      });
    });

    it("saves, replaces and loads meta; createStore keeps existing meta", async () => {
      const store = database.openSession("s1");
      expect(await store.loadSessionMeta()).toBeUndefined();
      await store.saveSessionMeta(meta("s1", { cwd: "/work", sessionName: "first" }));
      await store.saveSessionMeta(meta("s1", { sessionName: "second" }));
      expect(await store.loadSessionMeta()).toEqual(meta("s1", { sessionName: "second" }));
      const invalid = await thrown(store.saveSessionMeta({ ...meta("s1"), createdAt: 5 } as unknown as SessionMeta));
      expect(LashError.isInstance(invalid) && invalid.code === "invalid_argument").toBe(true);

      const policy = { sessionId: "child", providerId: "mock", model: "child-model", maxContextTokens: 1000, executionMode: "standard" };
      const child = await database.createStore({
        sessionId: "child",
        parentSessionId: "s1",
        relation: { type: "child", parentSessionId: "s1" },
        policy,
      });
      const created = await child.loadSessionMeta();
      expect(created).toMatchObject({
        sessionId: "child",
        sessionName: "child",
        model: "child-model",
        cwd: process.cwd(),
        parentSessionId: "s1",
        relation: { type: "child", parentSessionId: "s1" },
      });
      expect(Number.isNaN(Date.parse(created?.createdAt ?? ""))).toBe(false);
      await database.createStore({ sessionId: "child", relation: { type: "root" }, policy: { ...policy, model: "other" } });
      expect(await child.loadSessionMeta()).toEqual(created);
    });

    it("lists sessions in code-point order of id, with cursors and filters", async () => {
      // UTF-16 order puts U+1F600 before U+FFFD; code-point (and UTF-8 byte) order puts it after.
      const ids = ["b", "a", "Z", "é", "😀", "\uFFFD", "a-2", "ä"];
      for (const id of ids) await database.openSession(id).commit(commit({ sessionId: id, commitId: "t1" }));
      await database
        .openSession("meta-only")
        .saveSessionMeta(meta("meta-only", { parentSessionId: "a", relation: { type: "child", parentSessionId: "a" } }));
      const expected = [...ids, "meta-only"].sort((left, right) => Buffer.compare(Buffer.from(left), Buffer.from(right)));
      const listed: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await database.listSessions(cursor === undefined ? { limit: 4 } : { limit: 4, cursor });
        listed.push(...page.sessions.map((summary) => summary.sessionId));
        cursor = page.nextCursor;
      } while (cursor !== undefined);
      expect(listed).toEqual(expected);
      expect(listed.indexOf("😀")).toBeGreaterThan(listed.indexOf("\uFFFD"));

      const all = await database.listSessions();
      expect(all.nextCursor).toBeUndefined();
      const metaOnly = meta("meta-only", { parentSessionId: "a", relation: { type: "child", parentSessionId: "a" } });
      expect(all.sessions.find((summary) => summary.sessionId === "meta-only")).toEqual({
        sessionId: "meta-only",
        headRevision: 0,
        meta: metaOnly,
        lastActivityAt: metaOnly.createdAt,
      });
      expect(all.sessions.find((summary) => summary.sessionId === "b")).toEqual({
        sessionId: "b",
        headRevision: 1,
        model: "mock-model",
        turnCount: 1,
        lastActivityAt: expect.any(String),
        tokenUsage: usage(0, 0),
      });
      expect(await database.listSessions({ parentSessionId: "a" })).toMatchObject({ sessions: [{ sessionId: "meta-only" }] });
      expect(await database.listSessions({ relationType: "child" })).toMatchObject({ sessions: [{ sessionId: "meta-only" }] });
      expect(await database.listSessions({ relationType: "root" })).toEqual({ sessions: [] });
      const invalid = await thrown(database.listSessions({ limit: 1001 }));
      expect(LashError.isInstance(invalid) && invalid.code === "invalid_argument").toBe(true);
    });

    it("stores U+0000 in ids, commit ids, usage sources and meta, and keeps their order", async () => {
      const ids = ["nul\u0000b", "nul\u0001", "nul", "nul\u0000a"];
      for (const id of ids) {
        const store = database.openSession(id);
        await store.saveSessionMeta(meta(id, { sessionName: `name\u0000${id}`, cwd: "/tmp/\u0000" }));
        await store.commit(
          commit({
            sessionId: id,
            commitId: `t\u0000${id}`,
            graph: append([node(`node\u0000${id}`)]),
            usageDeltas: [turnUsage(usage(1, 0), "source\u0000", "model\u0001")],
          }),
        );
      }
      expect((await database.listSessions({ limit: 2 })).sessions.map((summary) => summary.sessionId)).toEqual(["nul", "nul\u0000a"]);
      expect((await database.listSessions({ cursor: "nul\u0000a" })).sessions.map((summary) => summary.sessionId)).toEqual([
        "nul\u0000b",
        "nul\u0001",
      ]);
      const store = database.openSession("nul\u0000a");
      expect(await store.loadSessionMeta()).toEqual(meta("nul\u0000a", { sessionName: "name\u0000nul\u0000a", cwd: "/tmp/\u0000" }));
      expect(await store.loadSession({ type: "active_path" })).toMatchObject({
        graph: { nodes: [node("node\u0000nul\u0000a")], leafNodeId: "node\u0000nul\u0000a" },
        tokenLedger: [turnUsage(usage(1, 0), "source\u0000", "model\u0001")],
      });
      expect(
        await store.commit(
          commit({
            sessionId: "nul\u0000a",
            commitId: "t\u0000nul\u0000a",
            graph: append([node("node\u0000nul\u0000a")]),
            usageDeltas: [turnUsage(usage(1, 0), "source\u0000", "model\u0001")],
          }),
        ),
      ).toMatchObject({ replayed: true });
      expect(await database.openSession("nul").loadNode("node\u0000nul")).toEqual(node("node\u0000nul"));
    });

    it("deletes a session with everything it owns, and the id can start over", async () => {
      const store = database.openSession("s1");
      await store.saveSessionMeta(meta("s1"));
      await store.commit(commit({ commitId: "t1", graph: append([node("m1")]), usageDeltas: [turnUsage(usage(1, 1))] }));
      await store.tombstoneNodes(["m1"]);
      await database.openSession("s2").commit(commit({ sessionId: "s2", commitId: "t1" }));
      await store.deleteSession();
      expect(await store.loadSession({ type: "full_graph" })).toBeUndefined();
      expect(await store.loadSessionMeta()).toBeUndefined();
      const raw = storage.kysely();
      for (const table of [
        "lash_heads",
        "lash_graph_nodes",
        "lash_usage_deltas",
        "lash_commits",
        "lash_session_meta",
        "lash_blobs",
      ] as const) {
        expect(await raw.selectFrom(table).select("session_id").where("session_id", "=", "s1").execute(), table).toEqual([]);
      }
      expect(await store.commit(commit({ commitId: "t1", graph: append([node("m1")]) }))).toEqual({
        headRevision: 1,
        commitId: "t1",
        replayed: false,
      });
      expect((await database.listSessions()).sessions.map((summary) => summary.sessionId)).toEqual(["s1", "s2"]);
    });

    it("tombstones, vacuums and collects unreachable checkpoints", async () => {
      const store = database.openSession("s1");
      await store.commit(commit({ commitId: "t1", graph: append(chain(["m1", "m2", "m3"])) }));
      await store.tombstoneNodes(["m2", "unknown"]);
      expect(await store.loadNode("m2")).toBeUndefined();
      expect((await store.loadSession({ type: "full_graph" }))?.graph.nodes.map((record) => record.nodeId)).toEqual(["m1", "m3"]);
      expect(await store.vacuum()).toEqual({ removedNodeCount: 1 });
      await store.commit(commit({ commitId: "t2", expectedHeadRevision: 1, graph: append([node("m2", "m1")], "m3") }));

      const second = { schemaVersion: 1 as const, turnState: { turnIndex: 2, tokenUsage: usage(1, 1) } };
      await store.commit(commit({ commitId: "t3", expectedHeadRevision: 2, checkpoint: second }));
      expect(await store.gcUnreachable()).toEqual({ rootCount: 1, retainedBlobCount: 1, deletedBlobCount: 1 });
      expect((await store.loadSession({ type: "full_graph" }))?.checkpoint).toEqual(second);
      expect(await database.openSession("none").gcUnreachable()).toEqual({ rootCount: 0, retainedBlobCount: 0, deletedBlobCount: 0 });
    });

    it("works on a caller-built Kysely instance and leaves it open on destroy", async () => {
      const options = storage.kyselyOptions();
      const callerBuilt = createSqlSessionDatabase(options);
      await callerBuilt.openSession("s1").commit(commit({ commitId: "t1", graph: append([node("m1")]) }));
      await callerBuilt.destroy();
      expect(
        await options.kysely
          .withSchema(options.schema ?? "main")
          .selectFrom("lash_heads")
          .select("head_revision")
          .execute(),
      ).toEqual([{ head_revision: 1 }]);
      expect(await database.openSession("s1").loadHeadRevision()).toBe(1);
      expect(await thrown(callerBuilt.openSession("s1").loadHeadRevision())).toMatchObject({ code: "store_unavailable" });
    });
  });
}
