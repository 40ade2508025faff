import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { backendTitle, lashMigratorOn, SQL_TEST_BACKENDS, type SqlTestStorage } from "../../test/backends.js";
import { commit, thrown, usage } from "../../test/fixtures.js";
import { createSqlSessionDatabase, LASH_MIGRATION_TABLE, SqlSchemaNotMigratedError } from "./index.js";

const FIRST = "0001_create_session_tables";
const ALL = [
  FIRST,
  "0002_session_summaries",
  "0003_postgres_commit_function",
  "0004_usage_price_table_dates",
  "0005_attachments",
  "0006_head_sequences",
];
const LATEST = ALL[ALL.length - 1];

for (const backend of SQL_TEST_BACKENDS) {
  describe.skipIf(backend.skipReason !== undefined)(backendTitle(backend, "migrations"), () => {
    let storage: SqlTestStorage;

    beforeEach(async () => {
      storage = await backend.createStorage();
    });
    afterEach(async () => {
      await storage.remove();
    });

    it("never migrate on their own: every operation on an unmigrated database says to run migrateToLatest()", async () => {
      const database = await storage.open({ migrate: false });
      const store = database.openSession("s1");
      const operations: [string, () => Promise<unknown>][] = [
        ["loadSession", () => store.loadSession({ type: "full_graph" })],
        ["loadHeadRevision", () => store.loadHeadRevision()],
        ["loadNode", () => store.loadNode("m1")],
        ["commit", () => store.commit(commit({ commitId: "t1" }))],
        [
          "saveSessionMeta",
          () =>
            store.saveSessionMeta({
              sessionId: "s1",
              sessionName: "s1",
              createdAt: "2025-01-01T00:00:00.000Z",
              model: "m",
              relation: { type: "root" },
            }),
        ],
        ["loadSessionMeta", () => store.loadSessionMeta()],
        ["listSessions", () => database.listSessions()],
        ["deleteSession", () => store.deleteSession()],
        ["tombstoneNodes", () => store.tombstoneNodes(["m1"])],
        ["vacuum", () => store.vacuum()],
        ["gcUnreachable", () => store.gcUnreachable()],
      ];
      for (const [name, operation] of operations) {
        const error = await thrown(operation());
        expect(SqlSchemaNotMigratedError.isInstance(error), `${name}: ${String(error)}`).toBe(true);
        expect(error).toMatchObject({ code: "invalid_configuration", missingMigrations: ALL, unknownMigrations: [] });
        expect((error as Error).message).toContain("migrateToLatest()");
      }
      // Nothing was created by those calls.
      const tables = await storage.kysely().introspection.getTables();
      expect(
        tables.filter((table) => table.name.startsWith("lash_") && (storage.schema === undefined || table.schema === storage.schema)),
      ).toEqual([]);
    });

    it("migrateToLatest is explicit and idempotent", async () => {
      const database = await storage.open({ migrate: false });
      expect(await database.migrateToLatest()).toEqual({ appliedMigrations: ALL, latestMigration: LATEST });
      expect(await database.migrateToLatest()).toEqual({ appliedMigrations: [], latestMigration: LATEST });
      await database.openSession("s1").commit(commit({ commitId: "t1" }));
      const other = await storage.open({ migrate: false });
      expect(await other.migrateToLatest()).toEqual({ appliedMigrations: [], latestMigration: LATEST });
      expect(await other.openSession("s1").loadHeadRevision()).toBe(1);
    });

    it("a database migrated by another object becomes usable without reopening", async () => {
      const waiting = await storage.open({ migrate: false });
      expect(SqlSchemaNotMigratedError.isInstance(await thrown(waiting.openSession("s1").loadHeadRevision()))).toBe(true);
      await storage.open();
      expect(await waiting.openSession("s1").loadHeadRevision()).toBeUndefined();
    });

    it("a database migrated further by a newer version is refused, naming the unknown migration", async () => {
      const database = await storage.open();
      await storage
        .kysely()
        .withTables<{ [LASH_MIGRATION_TABLE]: { name: string; timestamp: string } }>()
        .insertInto(LASH_MIGRATION_TABLE)
        .values({ name: "9999_from_the_future", timestamp: new Date().toISOString() })
        .execute();
      const fresh = await storage.open({ migrate: false });
      const error = await thrown(fresh.openSession("s1").loadHeadRevision());
      expect(SqlSchemaNotMigratedError.isInstance(error)).toBe(true);
      expect(error).toMatchObject({ missingMigrations: [], unknownMigrations: ["9999_from_the_future"] });
      expect((error as Error).message).toContain("newer version");
      expect(SqlSchemaNotMigratedError.isInstance(await thrown(fresh.migrateToLatest()))).toBe(true);
      // The answer of an object that already checked stays cached for its lifetime.
      expect(await database.openSession("s1").loadHeadRevision()).toBeUndefined();
    });

    it("a database created at the first migration level gets a summary for every session it holds, damaged ones marked", async () => {
      // The tables of 0001 only, written the way that version's store wrote them.
      const { kysely, migrator } = lashMigratorOn(storage, backend.name);
      expect((await migrator.migrateTo(FIRST)).error).toBeUndefined();
      const checkpoint = (turnIndex: number) => JSON.stringify({ schemaVersion: 1, turnState: { turnIndex, tokenUsage: usage(0, 0) } });
      const config = (model: string) => JSON.stringify({ providerId: "mock", model, contextWindow: 1000, executionMode: "standard" });
      const head = (sessionId: string, revision: number, configJson: string, updatedAt: string) => ({
        session_id: sessionId,
        head_revision: revision,
        leaf_node_id: null,
        config_json: configJson,
        checkpoint_ref: `ref-${sessionId}`,
        node_count: 0,
        updated_at: updatedAt,
      });
      await kysely
        .insertInto("lash_heads")
        .values([
          head("busy", 3, config("model-b"), "2025-03-01T00:00:00.000Z"),
          head("quiet", 1, config("model-q"), "2025-02-01T00:00:00.000Z"),
          head("broken", 2, "{not json", "2025-04-01T00:00:00.000Z"),
        ])
        .execute();
      await kysely
        .insertInto("lash_blobs")
        .values([
          { session_id: "busy", hash: "ref-busy", content: checkpoint(2) },
          { session_id: "quiet", hash: "ref-quiet", content: checkpoint(1) },
          { session_id: "broken", hash: "ref-broken", content: "[" },
        ])
        .execute();
      const usageRow = (sessionId: string, seq: number, source: string, input: number, output: number) => ({
        session_id: sessionId,
        seq,
        source,
        model: "m",
        input_tokens: input,
        output_tokens: output,
        cached_input_tokens: 1,
        reasoning_tokens: 0,
      });
      await kysely
        .insertInto("lash_usage_deltas")
        .values([usageRow("busy", 1, "turn", 100, 10), usageRow("busy", 2, "subagent", 7, 3), usageRow("broken", 1, "turn", 5, 5)])
        .execute();
      await kysely
        .insertInto("lash_session_meta")
        .values({
          session_id: "planned",
          session_name: "planned",
          created_at: "2025-01-01T00:00:00.000Z",
          model: "model-p",
          cwd: null,
          parent_session_id: null,
          relation_type: "root",
          relation_json: JSON.stringify({ type: "root" }),
        })
        .execute();

      const database = await storage.open({ migrate: false });
      expect(await database.migrateToLatest()).toEqual({ appliedMigrations: ALL.slice(1), latestMigration: LATEST });
      const page = await database.listSessions({ orderBy: "lastActivity" });
      expect(page.sessions.map((session) => session.sessionId)).toEqual(["broken", "busy", "quiet", "planned"]);
      const [broken, busy, quiet, planned] = page.sessions;
      expect(busy).toEqual({
        sessionId: "busy",
        headRevision: 3,
        model: "model-b",
        turnCount: 2,
        lastActivityAt: "2025-03-01T00:00:00.000Z",
        tokenUsage: usage(107, 13, 2, 0),
      });
      expect(quiet).toMatchObject({ model: "model-q", turnCount: 1, tokenUsage: usage(0, 0) });
      expect(planned).toMatchObject({ headRevision: 0, lastActivityAt: "2025-01-01T00:00:00.000Z" });
      expect(planned?.turnCount).toBeUndefined();
      // The summaries carry the meta's filter columns: a filtered listing in activity order finds them.
      const roots = await database.listSessions({ orderBy: "lastActivity", relationType: "root" });
      expect(roots.sessions.map((session) => session.sessionId)).toEqual(["planned"]);
      // What the migration could not read is unknown, never a made-up number: the entry says so.
      expect(broken).toMatchObject({ sessionId: "broken", headRevision: 2, problem: { field: "config" } });
      expect(broken?.turnCount).toBeUndefined();
      // The migrated database takes commits on every path, and their summaries follow.
      await database.openSession("quiet").commit(
        commit({
          sessionId: "quiet",
          commitId: "t2",
          expectedHeadRevision: 1,
          usageDeltas: [{ source: "turn", model: "m", usage: usage(1, 1) }],
        }),
      );
      expect((await database.listSessions({ orderBy: "lastActivity", limit: 1 })).sessions[0]).toMatchObject({
        sessionId: "quiet",
        headRevision: 2,
        turnCount: 1,
        model: "mock-model",
        tokenUsage: usage(1, 1),
      });
    });

    it("works on a caller-built Kysely instance too", async () => {
      const database = createSqlSessionDatabase(storage.kyselyOptions());
      expect(SqlSchemaNotMigratedError.isInstance(await thrown(database.listSessions()))).toBe(true);
      expect((await database.migrateToLatest()).appliedMigrations).toEqual(ALL);
      expect(await database.listSessions()).toEqual({ sessions: [] });
    });
  });
}
