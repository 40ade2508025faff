import { InvalidPersistedDataError, LashError, type SessionStore } from "@lash/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { backendTitle, SQL_TEST_BACKENDS, type SqlTestStorage } from "../../test/backends.js";
import {
  deeplyNestedCheckpointJson,
  deeplyNestedJson,
  deeplyNestedNodeJson,
  deeplyNestedValue,
  HOSTILE_DEPTH,
  rootMeta,
} from "../../test/damaged-data.js";
import { append, chain, commit, node, thrown } from "../../test/fixtures.js";
import type { SqlSessionDatabase } from "./index.js";

/** Expects `error` to be the typed error for stored data of `sessionId` at `path`, mentioning `words`. */
function expectDamage(error: unknown, sessionId: string, path: string, ...words: string[]): void {
  expect(InvalidPersistedDataError.isInstance(error)).toBe(true);
  expect(error).toMatchObject({ code: "invalid_persisted_data", sessionId, path });
  const message = (error as Error).message;
  expect(message).toContain(`\`${sessionId}\``);
  for (const word of words) expect(message).toContain(word);
  expect(message).not.toMatch(/call stack|unavailable|cannot reach/i);
}

for (const backend of SQL_TEST_BACKENDS) {
  describe.skipIf(backend.skipReason !== undefined)(backendTitle(backend, "damaged rows"), () => {
    let storage: SqlTestStorage;
    let database: SqlSessionDatabase;

    beforeEach(async () => {
      storage = await backend.createStorage();
      database = await storage.open();
    });
    afterEach(async () => {
      await storage.remove();
    });

    /** Three committed sessions with meta: `a`, `bad` (the one a test damages) and `z`. */
    async function seed(): Promise<SessionStore> {
      for (const sessionId of ["a", "bad", "z"]) {
        const store = database.openSession(sessionId);
        await store.saveSessionMeta(rootMeta(sessionId));
        await store.commit(commit({ sessionId, commitId: "t1", graph: append(chain(["m1", "m2"])) }));
      }
      return database.openSession("bad");
    }

    async function expectOthersReadable(): Promise<void> {
      for (const sessionId of ["a", "z"]) {
        expect((await database.openSession(sessionId).loadSession({ type: "full_graph" }))?.graph.nodes).toEqual(chain(["m1", "m2"]));
      }
    }

    async function setNodeJson(text: string): Promise<void> {
      await storage
        .kysely()
        .updateTable("lash_graph_nodes")
        .set({ node_json: text })
        .where("session_id", "=", "bad")
        .where("node_id", "=", "m2")
        .execute();
    }

    it("a node_json row that is not JSON: the listing holds every session; loads name the session, the table and the parse error", async () => {
      const bad = await seed();
      await setNodeJson('{"nodeId":"m2",');
      expect((await database.listSessions()).sessions.map((session) => session.sessionId)).toEqual(["a", "bad", "z"]);
      for (const scope of [{ type: "full_graph" as const }, { type: "active_path" as const }]) {
        expectDamage(await thrown(bad.loadSession(scope)), "bad", "graph.nodes.1", "lash_graph_nodes.node_json", "`m2`", "not valid JSON");
      }
      expectDamage(await thrown(bad.loadNode("m2")), "bad", "node", "lash_graph_nodes.node_json", "not valid JSON");
      await expectOthersReadable();
    });

    it(`a node_json row nested ${HOSTILE_DEPTH} levels deep: loads throw InvalidPersistedDataError naming the limit, never a stack overflow`, async () => {
      const bad = await seed();
      await setNodeJson(deeplyNestedNodeJson("m2", "m1"));
      expect((await database.listSessions()).sessions.map((session) => session.sessionId)).toEqual(["a", "bad", "z"]);
      for (const scope of [{ type: "full_graph" as const }, { type: "active_path" as const }]) {
        expectDamage(await thrown(bad.loadSession(scope)), "bad", "graph.nodes.1", "lash_graph_nodes.node_json", "nested deeper than 512");
      }
      expectDamage(await thrown(bad.loadNode("m2")), "bad", "node", "nested deeper than 512");
      // The session is not bricked: a new commit still lands, and deleting it works.
      expect(await bad.commit(commit({ sessionId: "bad", commitId: "t2", expectedHeadRevision: 1 }))).toMatchObject({ headRevision: 2 });
      await expectOthersReadable();
      await bad.deleteSession();
      expect(await bad.loadSession({ type: "full_graph" })).toBeUndefined();
    });

    it("a node_json row that fails its schema names the field and the table", async () => {
      const bad = await seed();
      await setNodeJson(JSON.stringify({ ...node("m2", "m1"), timestamp: 5 }));
      expectDamage(await thrown(bad.loadSession({ type: "full_graph" })), "bad", "graph.nodes.1.timestamp", "lash_graph_nodes.node_json");
      await expectOthersReadable();
    });

    it(`a checkpoint and a config nested ${HOSTILE_DEPTH} levels deep are refused the same way; a damaged config marks the listing entry`, async () => {
      const bad = await seed();
      const raw = storage.kysely();
      await raw.updateTable("lash_blobs").set({ content: deeplyNestedCheckpointJson() }).where("session_id", "=", "bad").execute();
      expectDamage(
        await thrown(bad.loadSession({ type: "full_graph" })),
        "bad",
        "checkpoint",
        "lash_blobs.content",
        "nested deeper than 512",
      );

      await raw.updateTable("lash_heads").set({ config_json: deeplyNestedJson() }).where("session_id", "=", "bad").execute();
      expectDamage(
        await thrown(bad.loadSession({ type: "full_graph" })),
        "bad",
        "config",
        "lash_heads.config_json",
        "nested deeper than 512",
      );
      const listed = (await database.listSessions()).sessions;
      expect(listed.map((session) => session.sessionId)).toEqual(["a", "bad", "z"]);
      expect(listed[1]).toMatchObject({ sessionId: "bad", headRevision: 1, meta: rootMeta("bad"), problem: { field: "config" } });
      expect(listed[1]?.problem?.message).toContain("lash_heads.config_json");
      expect(listed[0]).toMatchObject({ sessionId: "a", headRevision: 1, meta: rootMeta("a"), turnCount: 1 });
      expect(listed[0]?.problem).toBeUndefined();
      await expectOthersReadable();
    });

    it("a meta row that is not JSON, nested too deep or fails its schema: the listing holds every session and marks the damaged one", async () => {
      await seed();
      const raw = storage.kysely();
      const damage = [
        { relation_json: '{"type":', field: "meta.relation", words: ["lash_session_meta.relation_json", "not valid JSON"] },
        { relation_json: deeplyNestedJson(), field: "meta.relation", words: ["lash_session_meta.relation_json", "nested deeper than 512"] },
        { relation_json: '{"type":"adopted"}', field: "meta.relation.type", words: ["lash_session_meta"] },
      ];
      for (const { relation_json, field, words } of damage) {
        await raw.updateTable("lash_session_meta").set({ relation_json }).where("session_id", "=", "bad").execute();
        const page = await database.listSessions();
        expect(page.sessions.map((session) => session.sessionId)).toEqual(["a", "bad", "z"]);
        const entry = page.sessions[1];
        // What could be read is kept (the head revision); what could not (the meta) is left out.
        expect(entry).toMatchObject({ sessionId: "bad", headRevision: 1, problem: { field } });
        expect(entry?.meta).toBeUndefined();
        for (const word of [...words, "`bad`"]) expect(entry?.problem?.message).toContain(word);
        expect(page.sessions[2]).toMatchObject({ sessionId: "z", headRevision: 1, meta: rootMeta("z"), turnCount: 1 });
        expect(page.sessions[2]?.problem).toBeUndefined();
        // A filter reads the meta's columns, so the damaged session still shows up under its parent.
        expect((await database.listSessions({ relationType: "root" })).sessions.map((session) => session.sessionId)).toEqual([
          "a",
          "bad",
          "z",
        ]);
        expectDamage(await thrown(database.openSession("bad").loadSessionMeta()), "bad", field, ...words);
      }
      await expectOthersReadable();
    });

    it("a session whose meta was saved but that was killed before its first commit is listed with headRevision 0", async () => {
      await seed();
      await database.openSession("empty").saveSessionMeta(rootMeta("empty"));
      const listed = (await database.listSessions()).sessions;
      expect(listed.find((session) => session.sessionId === "empty")).toEqual({
        sessionId: "empty",
        headRevision: 0,
        meta: rootMeta("empty"),
        lastActivityAt: rootMeta("empty").createdAt,
      });
      expect(listed.filter((session) => session.headRevision > 0).map((session) => session.sessionId)).toEqual(["a", "bad", "z"]);
    });

    it("a summary row that is unknown, negative or not a count marks the listing entry; the session still loads, and its next commit sets the turn count again", async () => {
      const bad = await seed();
      const raw = storage.kysely();
      const damage = [
        { set: { turn_count: null }, field: "summary.turnCount", words: ["lash_session_summaries.turn_count", "unknown"] },
        { set: { turn_count: -3 }, field: "summary.turnCount", words: ["lash_session_summaries.turn_count", "negative"] },
        { set: { turn_count: 1, model: null }, field: "summary.model", words: ["lash_session_summaries.model", "unknown"] },
        {
          set: { model: "mock-model", output_tokens: null },
          field: "summary.tokenUsage.outputTokens",
          words: ["lash_session_summaries.output_tokens", "unknown"],
        },
      ];
      for (const { set, field, words } of damage) {
        await raw.updateTable("lash_session_summaries").set(set).where("session_id", "=", "bad").execute();
        const page = await database.listSessions({ orderBy: "lastActivity" });
        expect([...page.sessions.map((session) => session.sessionId)].sort()).toEqual(["a", "bad", "z"]);
        const entry = page.sessions.find((session) => session.sessionId === "bad");
        expect(entry).toMatchObject({ sessionId: "bad", headRevision: 1, meta: rootMeta("bad"), problem: { field } });
        expect(entry?.tokenUsage).toBeUndefined();
        for (const word of [...words, "`bad`"]) expect(entry?.problem?.message).toContain(word);
      }
      // Summaries are derived: loading does not read them, and a commit replaces the turn count (an
      // unknown token total stays unknown).
      expect((await bad.loadSession({ type: "full_graph" }))?.headRevision).toBe(1);
      await raw.updateTable("lash_session_summaries").set({ turn_count: null, output_tokens: 0 }).where("session_id", "=", "bad").execute();
      await bad.commit(commit({ sessionId: "bad", commitId: "t2", expectedHeadRevision: 1 }));
      const entry = (await database.listSessions()).sessions.find((session) => session.sessionId === "bad");
      expect(entry).toMatchObject({ headRevision: 2, turnCount: 1 });
      expect(entry?.problem).toBeUndefined();
    });

    it("a commit nested deeper than the store can read back is refused with invalid_argument, and nothing is written", async () => {
      const store = database.openSession("s1");
      for (const depth of [600, HOSTILE_DEPTH]) {
        const deepNode = { ...node("m1"), payload: { kind: "plugin" as const, pluginType: "probe", body: deeplyNestedValue(depth) } };
        const refused = await thrown(store.commit(commit({ commitId: "t1", graph: append([deepNode as never]) })));
        expect(LashError.isInstance(refused) && refused.code === "invalid_argument").toBe(true);
        expect((refused as Error).message).toContain("graph.nodes.0");
        const checkpoint = {
          schemaVersion: 1 as const,
          turnState: { turnIndex: 1, tokenUsage: { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, reasoningTokens: 0 } },
          executionState: deeplyNestedValue(depth),
        };
        const refusedCheckpoint = await thrown(store.commit(commit({ commitId: "t1", checkpoint: checkpoint as never })));
        expect(refusedCheckpoint).toMatchObject({ code: "invalid_argument" });
        expect((refusedCheckpoint as Error).message).toContain("checkpoint");
      }
      expect(await store.loadSession({ type: "full_graph" })).toBeUndefined();
      // Just inside the limit, the commit lands and reads back.
      const deepest = { ...node("m1"), payload: { kind: "plugin" as const, pluginType: "probe", body: deeplyNestedValue(490) } };
      await store.commit(commit({ commitId: "t1", graph: append([deepest as never]) }));
      expect((await store.loadSession({ type: "full_graph" }))?.graph.nodes).toEqual([deepest]);
    });
  });
}
