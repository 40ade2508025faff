import { HeadRevisionConflictError, StoreUnavailableError } from "@lash/protocol";
import { afterEach, describe, expect, it, vi } from "vitest";
import { append, chain, commit } from "../../test/fixtures.js";
import { createSqliteTestFolder, openSqliteTestContext, type SqliteTestContext, type SqliteTestFolder } from "../../test/sqlite.js";
import { createSqlSessionDatabase } from "./index.js";
import type { DataSync } from "./sqlite-wal-flush.js";

/** Waits for a worker thread or the thread pool: generous, since CI machines are busy. */
const PATIENTLY = { timeout: 20_000, interval: 20 };

/** SQLite's `synchronous` levels as `pragma synchronous` reads them back. */
const NORMAL = 1;
const FULL = 2;

describe("group commit on a SQLite connection the store opened", () => {
  let folder: SqliteTestFolder | undefined;
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    await folder?.remove();
  });

  /**
   * A store context on a fresh file (or `sqlite::memory:`), with a `notes` table the writes below
   * insert into. `datasync` stands in for the disk's flush of the log.
   */
  async function openContext(options: { readonly connection?: string; readonly datasync?: DataSync } = {}): Promise<SqliteTestContext> {
    folder = await createSqliteTestFolder();
    const opened = await openSqliteTestContext(options.connection ?? folder.connection(), options);
    cleanups.push(() => opened.context.destroy());
    await opened.context.writeSqliteDirect((database) => {
      database.exec("create table notes (id integer primary key, text text not null)");
      database.exec("create table parents (id integer primary key)");
      database.exec("create table children (id integer primary key, parent integer references parents (id) deferrable initially deferred)");
    });
    return opened;
  }

  const notes = (handle: import("better-sqlite3").Database): string[] =>
    handle
      .prepare<[], { text: string }>("select text from notes order by id")
      .all()
      .map((row) => row.text);

  it("writes waiting together share one transaction, and each gets its own result", async () => {
    const { context, handle } = await openContext();
    const before = context.sqliteGroupCommit?.groups ?? 0;
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, index) =>
        context.writeSqliteDirect(
          (database) => database.prepare("insert into notes (text) values (?)").run(`note ${index}`).lastInsertRowid,
        ),
      ),
    );
    expect(results.map((result) => Number(result?.result))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect((context.sqliteGroupCommit?.groups ?? 0) - before).toBe(1);
    expect(notes(handle())).toHaveLength(10);
  });

  it("a write that fails rolls back alone; the others of its group are stored", async () => {
    const { context, handle } = await openContext();
    const insert = (text: string, fail = false) =>
      context.writeSqliteDirect((database) => {
        database.prepare("insert into notes (text) values (?)").run(text);
        if (fail) throw new Error(`refused ${text}`);
        return text;
      });
    const settled = await Promise.allSettled([insert("a"), insert("b", true), insert("c")]);
    expect(settled.map((result) => result.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(settled[1]).toMatchObject({ status: "rejected", reason: new Error("refused b") });
    expect(notes(handle())).toEqual(["a", "c"]);
  });

  it("when the group's COMMIT fails, no write of it is reported stored and nothing is kept", async () => {
    const { context, handle } = await openContext();
    handle().pragma("foreign_keys = ON");
    // The orphan passes its own savepoint (the key is checked at COMMIT), so the whole group's COMMIT fails.
    const settled = await Promise.allSettled([
      context.writeSqliteDirect((database) => database.prepare("insert into notes (text) values ('kept?')").run()),
      context.writeSqliteDirect((database) => database.prepare("insert into children (id, parent) values (1, 99)").run()),
    ]);
    expect(settled.map((result) => result.status)).toEqual(["rejected", "rejected"]);
    expect(String((settled[0] as PromiseRejectedResult).reason)).toMatch(/FOREIGN KEY/i);
    expect(notes(handle())).toEqual([]);
    // The connection goes on.
    await context.writeSqliteDirect((database) => database.prepare("insert into notes (text) values ('after')").run());
    expect(notes(handle())).toEqual(["after"]);
  });

  it("without a durable log (in memory), a group runs at synchronous NORMAL only when all of its writes are checkpoints", async () => {
    const { context, handle } = await openContext({ connection: "sqlite::memory:" });
    const level = (database: import("better-sqlite3").Database): number => Number(database.pragma("synchronous", { simple: true }));
    const checkpoints = await Promise.all([context.writeSqliteDirect(level, "checkpoint"), context.writeSqliteDirect(level, "checkpoint")]);
    const mixed = await Promise.all([context.writeSqliteDirect(level, "checkpoint"), context.writeSqliteDirect(level, "turn")]);
    expect(checkpoints.map((result) => result?.result)).toEqual([NORMAL, NORMAL]);
    expect(mixed.map((result) => result?.result)).toEqual([FULL, FULL]);
    expect(level(handle())).toBe(FULL);
  });

  it("with a durable log, a turn write is answered after its group's flush, a checkpoint write of the group at once, and the next group waits for the flush", async () => {
    const releases: (() => void)[] = [];
    let holding = false;
    const { context } = await openContext({
      datasync: (file) => (holding ? new Promise<void>((resolve) => releases.push(resolve)) : file.datasync()),
    });
    holding = true;
    const answered: string[] = [];
    const write = (text: string, durability: "turn" | "checkpoint") =>
      context
        .writeSqliteDirect((database) => database.prepare("insert into notes (text) values (?)").run(text), durability)
        .then(() => answered.push(text));
    const first = [write("turn-1", "turn"), write("checkpoint-1", "checkpoint")];
    await vi.waitFor(() => expect(releases).toHaveLength(1), PATIENTLY);
    await first[1];
    expect(answered).toEqual(["checkpoint-1"]);
    // Written while the disk takes the first group: they wait, then share one transaction.
    const second = [write("turn-2", "turn"), write("turn-3", "turn"), write("checkpoint-2", "checkpoint")];
    await new Promise((resolve) => setTimeout(resolve, 20));
    const groupsBefore = context.sqliteGroupCommit?.groups ?? 0;
    expect(answered).toEqual(["checkpoint-1"]);
    releases.shift()?.();
    await first[0];
    await vi.waitFor(() => expect(releases).toHaveLength(1), PATIENTLY);
    await second[2];
    expect(context.sqliteGroupCommit?.groups).toBe(groupsBefore + 1);
    expect(answered).toEqual(["checkpoint-1", "turn-1", "checkpoint-2"]);
    releases.shift()?.();
    await Promise.all(second);
    expect(answered.slice(3).sort()).toEqual(["turn-2", "turn-3"]);
  });

  it("when the flush fails, the turn writes that waited for it fail with StoreUnavailableError, and the next write is flushed again", async () => {
    let refuse = false;
    const { context, handle } = await openContext({
      datasync: async (file) => {
        if (refuse) throw Object.assign(new Error("EIO: i/o error, fdatasync"), { code: "EIO" });
        await file.datasync();
      },
    });
    const insert = (text: string) => (database: import("better-sqlite3").Database) =>
      database.prepare("insert into notes (text) values (?)").run(text);
    refuse = true;
    const settled = await Promise.allSettled([
      context.writeSqliteDirect(insert("unflushed"), "turn"),
      context.writeSqliteDirect(insert("checkpoint"), "checkpoint"),
    ]);
    expect(settled.map((result) => result.status)).toEqual(["rejected", "fulfilled"]);
    const reason = (settled[0] as PromiseRejectedResult).reason;
    expect(StoreUnavailableError.isInstance(reason)).toBe(true);
    expect(String(reason)).toMatch(/could not be flushed to the disk: EIO/);
    refuse = false;
    await context.writeSqliteDirect(insert("after"), "turn");
    // The refused flush does not undo the transaction: its rows are there, and durable now.
    expect(notes(handle())).toEqual(["unflushed", "checkpoint", "after"]);
  });

  it("through the store: many sessions commit at once, and two commits racing for one session end as in two transactions", async () => {
    folder = await createSqliteTestFolder();
    const database = createSqlSessionDatabase({ connection: folder.connection() });
    cleanups.push(() => database.destroy());
    await database.migrateToLatest();
    const sessions = Array.from({ length: 8 }, (_, index) => `session-${index}`);
    const applied = await Promise.all(
      sessions.map((sessionId) =>
        database.openSession(sessionId).commit(commit({ sessionId, commitId: `${sessionId}:1`, graph: append(chain(["m1"])) })),
      ),
    );
    expect(applied.map((result) => result.headRevision)).toEqual(sessions.map(() => 1));

    const racing = await Promise.allSettled([
      database.openSession("session-0").commit(commit({ sessionId: "session-0", commitId: "a", expectedHeadRevision: 1 })),
      database.openSession("session-0").commit(commit({ sessionId: "session-0", commitId: "b", expectedHeadRevision: 1 })),
    ]);
    expect(racing[0]).toMatchObject({ status: "fulfilled", value: { headRevision: 2, commitId: "a" } });
    expect(racing[1]?.status).toBe("rejected");
    expect(HeadRevisionConflictError.isInstance((racing[1] as PromiseRejectedResult).reason)).toBe(true);
    for (const sessionId of sessions) {
      const read = await database.openSession(sessionId).loadSession({ type: "full_graph" });
      expect(read?.graph.nodes.map((node) => node.nodeId)).toEqual(["m1"]);
    }
  });
});
