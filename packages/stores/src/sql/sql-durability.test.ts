import type { SessionCommit } from "@lash/protocol";
import Database from "better-sqlite3";
import { Kysely, SqliteDialect, sql } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { backendTitle, SQL_TEST_BACKENDS, type SqlTestStorage } from "../../test/backends.js";
import { append, chain, commit, node } from "../../test/fixtures.js";
import { createSqliteTestFolder, openSqliteTestContext, type SqliteTestContext, type SqliteTestFolder } from "../../test/sqlite.js";
import { createSqlSessionDatabase, type LashSqlSchema, type SqlCommitHook } from "./index.js";
import { commitContentHash, sha256Hex } from "./sql-commit.js";
import { applyCommitPostgres } from "./sql-commit-postgres.js";

// ADR 0030: a `checkpoint` commit survives a killed process and need not wait for the disk; a
// `turn` commit (the default) waits, and its flush covers the checkpoints before it. ADR 0038: on a
// SQLite file that flush is an fdatasync of the log off the event loop. These tests check the
// settings each commit runs with and when it is flushed; the SIGKILL suites in test/faults check
// what survives.

/** SQLite's `synchronous` levels as `pragma synchronous` reads them back. */
const NORMAL = 1;
const FULL = 2;

const first = commit({ commitId: "t1:prepared", graph: append(chain(["m1", "m2"])), durability: "checkpoint" });
const second = commit({ commitId: "t1:final", expectedHeadRevision: 1, graph: append([node("m3", "m2")]) });

describe("durability levels on a SQLite connection the store opened", () => {
  let folder: SqliteTestFolder | undefined;
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    await folder?.remove();
  });

  async function openContext(connection: string): Promise<SqliteTestContext> {
    const opened = await openSqliteTestContext(connection);
    cleanups.push(() => opened.context.destroy());
    return opened;
  }

  const level = (database: import("better-sqlite3").Database): number => Number(database.pragma("synchronous", { simple: true }));

  it("a file in WAL mode runs every transaction at synchronous NORMAL; a turn write is answered after a flush of the log, a checkpoint write without one", async () => {
    folder = await createSqliteTestFolder();
    const { context, handle, durableLog } = await openContext(folder.connection());
    const log = durableLog();
    if (log === undefined) throw new Error("a WAL file has a durable log");
    const syncsBefore = log.flush.syncs;
    const seen: { level: number; syncs: number }[] = [];
    for (const durability of ["checkpoint", "turn", "checkpoint", "turn"] as const) {
      await context.writeSqliteDirect(
        (database) => seen.push({ level: level(database), syncs: log.flush.syncs - syncsBefore }),
        durability,
      );
    }
    // The default is `turn`.
    await context.writeSqliteDirect(() => undefined);
    expect(seen.map((entry) => entry.level)).toEqual([NORMAL, NORMAL, NORMAL, NORMAL]);
    // Each turn write's flush ran after its transaction, before it was answered.
    expect(seen.map((entry) => entry.syncs)).toEqual([0, 0, 1, 1]);
    expect(log.flush.syncs - syncsBefore).toBe(3);
    // The query-builder path (a commit with a hook, maintenance) flushes for a turn write too.
    await context.write(async (database) => sql`select 1`.execute(database), "checkpoint");
    expect(log.flush.syncs - syncsBefore).toBe(3);
    await context.write(async (database) => sql`select 1`.execute(database));
    expect(log.flush.syncs - syncsBefore).toBe(4);
    expect(level(handle())).toBe(NORMAL);
    // Temporary data (a group's savepoint journal) stays in memory.
    expect(Number(handle().pragma("temp_store", { simple: true }))).toBe(2);
  });

  it("an in-memory database (no write-ahead log) runs a checkpoint at synchronous NORMAL and a turn at FULL, and stays at FULL", async () => {
    const { context, handle, durableLog } = await openContext("sqlite::memory:");
    expect(durableLog()).toBeUndefined();
    const seen: number[] = [];
    for (const durability of ["checkpoint", "turn", "checkpoint", "turn"] as const) {
      await context.writeSqliteDirect((database) => seen.push(level(database)), durability);
    }
    await context.writeSqliteDirect((database) => seen.push(level(database)));
    expect(seen).toEqual([NORMAL, FULL, NORMAL, FULL, FULL]);
    expect(level(handle())).toBe(FULL);
    // A checkpoint whose transaction fails leaves the connection at FULL too.
    await expect(
      context.writeSqliteDirect(() => {
        throw new Error("refused");
      }, "checkpoint"),
    ).rejects.toThrow("refused");
    expect(level(handle())).toBe(FULL);
  });

  it("with a commit hook (the query-builder path), every commit's transaction runs at synchronous NORMAL on a WAL file", async () => {
    folder = await createSqliteTestFolder();
    const seen: unknown[] = [];
    const hook: SqlCommitHook = async (context) => {
      seen.push((await context.query<{ synchronous: number }>("pragma synchronous")).rows[0]?.synchronous);
    };
    const database = createSqlSessionDatabase({ connection: folder.connection(), onCommit: hook });
    cleanups.push(() => database.destroy());
    await database.migrateToLatest();
    await database.openSession("s1").commit(first);
    await database.openSession("s1").commit(second);
    await database.openSession("s1").commit(commit({ commitId: "t2:prepared", expectedHeadRevision: 2, durability: "checkpoint" }));
    await database.openSession("s1").commit(commit({ commitId: "t2:final", expectedHeadRevision: 3 }));
    expect(seen).toEqual([NORMAL, NORMAL, NORMAL, NORMAL]);
  });

  it("a connection the caller opened keeps its own setting whatever the commit asks", async () => {
    folder = await createSqliteTestFolder();
    const handle = new Database(`${folder.path}/built.db`);
    handle.pragma("journal_mode = WAL");
    handle.pragma("synchronous = OFF");
    const kysely = new Kysely<LashSqlSchema>({ dialect: new SqliteDialect({ database: handle }) });
    const seen: unknown[] = [];
    const database = createSqlSessionDatabase({
      kysely,
      dialect: "sqlite",
      onCommit: async (context) => {
        seen.push((await context.query<{ synchronous: number }>("pragma synchronous")).rows[0]?.synchronous);
      },
    });
    cleanups.push(() => kysely.destroy());
    await database.migrateToLatest();
    await database.openSession("s1").commit(first);
    await database.openSession("s1").commit(second);
    expect(seen).toEqual([0, 0]);
  });
});

for (const backend of SQL_TEST_BACKENDS) {
  describe.skipIf(backend.skipReason !== undefined)(backendTitle(backend, "durability levels"), () => {
    let storage: SqlTestStorage | undefined;
    afterEach(async () => {
      await storage?.remove();
    });

    it("a commit re-sent at another level is a replay (the level is not part of the commit's content), on every commit path", async () => {
      storage = await backend.createStorage();
      const paths = [await storage.open(), await storage.open({ onCommit: async () => {} })];
      for (const [index, database] of paths.entries()) {
        const sessionId = `s${index}`;
        const checkpointLevel: SessionCommit = { ...first, sessionId };
        await database.openSession(sessionId).commit(checkpointLevel);
        for (const durability of ["turn", "checkpoint", undefined] as const) {
          const { durability: _level, ...withoutLevel } = checkpointLevel;
          const resent: SessionCommit = durability === undefined ? withoutLevel : { ...checkpointLevel, durability };
          expect(await database.openSession(sessionId).commit(resent)).toEqual({
            headRevision: 1,
            commitId: "t1:prepared",
            replayed: true,
          });
        }
      }
    });

    // PostgreSQL's own settings exist on PostgreSQL only: the SQLite run has no such case to skip.
    if (backend.name !== "postgres") return;

    it("PostgreSQL with a commit hook: a checkpoint commit's transaction does not wait for the server's flush, a turn commit does", async () => {
      storage = await backend.createStorage();
      const seen: unknown[] = [];
      const database = await storage.open({
        onCommit: async (context) => {
          seen.push((await context.query<{ synchronous_commit: string }>("show synchronous_commit")).rows[0]?.synchronous_commit);
        },
      });
      await database.openSession("s1").commit(first);
      await database.openSession("s1").commit(second);
      expect(seen).toEqual(["off", "on"]);
    });

    it("PostgreSQL without a hook: the commit function turns synchronous_commit off for a checkpoint's transaction only", async () => {
      storage = await backend.createStorage();
      await storage.open();
      const schema = storage.schema ?? "";
      const kysely = storage.kysely().withoutPlugins();
      const settingAfter = (entry: SessionCommit) =>
        kysely.transaction().execute(async (transaction) => {
          await applyCommitPostgres(transaction, schema, entry, commitContentHash(entry), sha256Hex);
          return (await sql<{ synchronous_commit: string }>`show synchronous_commit`.execute(transaction)).rows[0]?.synchronous_commit;
        });
      expect(await settingAfter(first)).toBe("off");
      expect(await settingAfter(second)).toBe("on");
      expect((await sql<{ synchronous_commit: string }>`show synchronous_commit`.execute(kysely)).rows[0]?.synchronous_commit).toBe("on");
    });
  });
}
