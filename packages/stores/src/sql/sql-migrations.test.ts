import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { backendTitle, SQL_TEST_BACKENDS, type SqlTestStorage } from "../../test/backends.js";
import { commit, thrown } from "../../test/fixtures.js";
import { createSqlSessionDatabase, LASH_MIGRATION_TABLE, SqlSchemaNotMigratedError } from "./index.js";

const LATEST = "0001_create_session_tables";

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
        expect(error).toMatchObject({ code: "invalid_configuration", missingMigrations: [LATEST], unknownMigrations: [] });
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
      expect(await database.migrateToLatest()).toEqual({ appliedMigrations: [LATEST], latestMigration: LATEST });
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

    it("works on a caller-built Kysely instance too", async () => {
      const database = createSqlSessionDatabase(storage.kyselyOptions());
      expect(SqlSchemaNotMigratedError.isInstance(await thrown(database.listSessions()))).toBe(true);
      expect((await database.migrateToLatest()).appliedMigrations).toEqual([LATEST]);
      expect(await database.listSessions()).toEqual({ sessions: [] });
    });
  });
}
