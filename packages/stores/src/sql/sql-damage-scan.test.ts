import { InvalidPersistedDataError, type SessionStore } from "@lash/protocol";
import { sql } from "kysely";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { backendTitle, SQL_TEST_BACKENDS, type SqlTestStorage } from "../../test/backends.js";
import { rootMeta } from "../../test/damaged-data.js";
import { append, chain, commit, thrown, turnUsage, usage } from "../../test/fixtures.js";
import type { SqlSessionDatabase } from "./index.js";

const sqlite = SQL_TEST_BACKENDS.find((backend) => backend.name === "sqlite");
const postgres = SQL_TEST_BACKENDS.find((backend) => backend.name === "postgres");
if (sqlite === undefined || postgres === undefined) throw new Error("both SQL test backends are expected");

/** What a load of `store` throws (the problem the scan must report for its session). */
async function loadProblem(store: SessionStore): Promise<{ field: string; message: string }> {
  const error = await thrown(store.loadSession({ type: "full_graph" }));
  if (!InvalidPersistedDataError.isInstance(error)) throw new Error(`expected InvalidPersistedDataError, got ${String(error)}`);
  return { field: error.path, message: error.message };
}

describe(backendTitle(sqlite, "findDamagedSessions"), () => {
  let storage: SqlTestStorage;
  let database: SqlSessionDatabase;

  beforeEach(async () => {
    storage = await sqlite.createStorage();
    database = await storage.open();
  });
  afterEach(async () => {
    await storage.remove();
  });

  /** Committed sessions `a`, `bad` and `z` (two turns, usage on each commit). */
  async function seed(): Promise<SessionStore> {
    for (const sessionId of ["a", "bad", "z"]) {
      const store = database.openSession(sessionId);
      await store.saveSessionMeta(rootMeta(sessionId));
      await store.commit(commit({ sessionId, commitId: "t1", graph: append(chain(["m1", "m2"])), usageDeltas: [turnUsage(usage(3, 1))] }));
      await store.commit(
        commit({
          sessionId,
          commitId: "t2",
          expectedHeadRevision: 1,
          graph: append(chain(["m3", "m4"], "m2")),
          usageDeltas: [turnUsage(usage(5, 2))],
        }),
      );
    }
    return database.openSession("bad");
  }

  /** Expects the scan to report exactly `bad`, with the problem its load throws. */
  async function expectOnlyBad(bad: SessionStore, field: string): Promise<void> {
    const damaged = await database.findDamagedSessions();
    const expected = await loadProblem(bad);
    expect(expected.field).toBe(field);
    expect(damaged).toEqual(new Map([["bad", expected]]));
  }

  it("finds nothing in sound sessions, and in an empty database", async () => {
    expect(await database.findDamagedSessions()).toEqual(new Map());
    await seed();
    expect(await database.findDamagedSessions()).toEqual(new Map());
  });

  it("a node row whose text is not JSON: the node's field and the load's message", async () => {
    const bad = await seed();
    await storage
      .kysely()
      .updateTable("lash_graph_nodes")
      .set({ node_json: "{not json" })
      .where("session_id", "=", "bad")
      .where("node_id", "=", "m3")
      .execute();
    await expectOnlyBad(bad, "graph.nodes.2");
  });

  it("a node row holding bytes instead of text", async () => {
    const bad = await seed();
    await sql`update lash_graph_nodes set node_json = x'7b7d' where session_id = 'bad' and node_id = 'm1'`.execute(storage.kysely());
    await expectOnlyBad(bad, "graph.nodes.0");
  });

  it("JSON of the wrong shape is left to loads: the scan reads no JSON", async () => {
    const bad = await seed();
    await storage
      .kysely()
      .updateTable("lash_graph_nodes")
      .set({ node_json: "42" })
      .where("session_id", "=", "bad")
      .where("node_id", "=", "m1")
      .execute();
    expect((await loadProblem(bad)).field).toBe("graph.nodes.0");
    expect(await database.findDamagedSessions()).toEqual(new Map());
  });

  it("a tombstoned node that is not JSON is not damage: loads never read it", async () => {
    await seed();
    await database.openSession("bad").tombstoneNodes(["m4"]);
    await storage.kysely().updateTable("lash_heads").set({ leaf_node_id: "m3" }).where("session_id", "=", "bad").execute();
    await storage
      .kysely()
      .updateTable("lash_graph_nodes")
      .set({ node_json: "{not json" })
      .where("session_id", "=", "bad")
      .where("node_id", "=", "m4")
      .execute();
    expect(await database.findDamagedSessions()).toEqual(new Map());
  });

  it("a head whose leaf is not a live node", async () => {
    await seed();
    await storage.kysely().updateTable("lash_heads").set({ leaf_node_id: "gone" }).where("session_id", "=", "bad").execute();
    const error = await thrown(database.openSession("bad").loadSession({ type: "active_path" }));
    expect(error).toMatchObject({ path: "head.leafNodeId" });
    expect(await database.findDamagedSessions()).toEqual(
      new Map([["bad", { field: "head.leafNodeId", message: (error as Error).message }]]),
    );
  });

  it("a checkpoint that is missing, and one that is not JSON", async () => {
    const bad = await seed();
    const head = await storage
      .kysely()
      .selectFrom("lash_heads")
      .select("checkpoint_ref")
      .where("session_id", "=", "bad")
      .executeTakeFirstOrThrow();
    await storage
      .kysely()
      .updateTable("lash_blobs")
      .set({ content: "[" })
      .where("session_id", "=", "bad")
      .where("hash", "=", head.checkpoint_ref)
      .execute();
    await expectOnlyBad(bad, "checkpoint");
    await storage.kysely().deleteFrom("lash_blobs").where("session_id", "=", "bad").where("hash", "=", head.checkpoint_ref).execute();
    await expectOnlyBad(bad, "head.checkpointRef");
  });

  it("a usage row whose count is text", async () => {
    const bad = await seed();
    await sql`update lash_usage_deltas set output_tokens = 'many' where session_id = 'bad' and seq = (select max(seq) from lash_usage_deltas where session_id = 'bad')`.execute(
      storage.kysely(),
    );
    await expectOnlyBad(bad, "tokenLedger.1.usage.outputTokens");
  });

  it("several kinds of damage in one session: the first a load meets (the nodes before the checkpoint)", async () => {
    const bad = await seed();
    await storage
      .kysely()
      .updateTable("lash_graph_nodes")
      .set({ node_json: "{not json" })
      .where("session_id", "=", "bad")
      .where("node_id", "=", "m2")
      .execute();
    await storage.kysely().updateTable("lash_blobs").set({ content: "[" }).where("session_id", "=", "bad").execute();
    await expectOnlyBad(bad, "graph.nodes.1");
  });
});

describe.skipIf(postgres.skipReason !== undefined)(backendTitle(postgres, "findDamagedSessions"), () => {
  it("is undefined: PostgreSQL sessions are checked by loading them", async () => {
    const storage = await postgres.createStorage();
    try {
      const database = await storage.open();
      expect(await database.findDamagedSessions()).toBeUndefined();
    } finally {
      await storage.remove();
    }
  });
});
