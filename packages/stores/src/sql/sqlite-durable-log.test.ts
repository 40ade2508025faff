import { statSync } from "node:fs";
import { join } from "node:path";
import { StoreUnavailableError } from "@lash/protocol";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createSqliteTestFolder, type SqliteTestFolder } from "../../test/sqlite.js";
import { SqliteDurableLog } from "./sqlite-durable-log.js";

/** Waits for a worker thread or the thread pool: generous, since CI machines are busy. */
const PATIENTLY = { timeout: 20_000, interval: 20 };

// ADR 0038: the log of a SQLite file the store opened is flushed on libuv's thread pool and
// checkpointed by a worker thread, so the event loop never waits for the disk.

describe("the durable log of a SQLite file", () => {
  let folder: SqliteTestFolder | undefined;
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    await folder?.remove();
  });

  async function openFile(options?: ConstructorParameters<typeof SqliteDurableLog>[2]): Promise<{
    handle: Database.Database;
    log: SqliteDurableLog;
    file: string;
  }> {
    folder = await createSqliteTestFolder();
    const file = join(folder.path, "log.db");
    const handle = new Database(file);
    handle.pragma("journal_mode = WAL");
    handle.exec("create table rows (id integer primary key, text text not null)");
    const log = new SqliteDurableLog(handle, file, options);
    cleanups.push(() => {
      handle.close();
    });
    cleanups.push(() => log.close());
    return { handle, log, file };
  }

  function writeRows(handle: Database.Database, log: SqliteDurableLog, transactions: number): void {
    const insert = handle.prepare("insert into rows (text) values (?)");
    const many = handle.transaction((count: number) => {
      for (let index = 0; index < count; index += 1) insert.run("x".repeat(1000));
    });
    for (let index = 0; index < transactions; index += 1) {
      many.immediate(20);
      log.committed();
    }
  }

  it("runs the connection at synchronous NORMAL; the checkpoint worker starts after a few transactions and turns SQLite's automatic checkpoint off", async () => {
    const { handle, log } = await openFile({ transactionsBeforeWorker: 4 });
    expect(Number(handle.pragma("synchronous", { simple: true }))).toBe(1);
    writeRows(handle, log, 3);
    // A process that writes a little never starts a worker: SQLite checkpoints as it always does.
    expect(log.checkpointer).toBeUndefined();
    expect(Number(handle.pragma("wal_autocheckpoint", { simple: true }))).toBe(1000);
    writeRows(handle, log, 1);
    expect(log.checkpointer).toBeDefined();
    expect(Number(handle.pragma("wal_autocheckpoint", { simple: true }))).toBe(0);
  });

  it("flushes that arrive while one runs wait for the next one, which covers them all", async () => {
    const releases: (() => void)[] = [];
    const { handle, log } = await openFile({
      datasync: () => new Promise<void>((resolve) => releases.push(resolve)),
    });
    writeRows(handle, log, 1);
    const first = log.flush.flush();
    await vi.waitFor(() => expect(releases).toHaveLength(1), PATIENTLY);
    const waiting = Array.from({ length: 10 }, () => log.flush.flush());
    let settled = 0;
    for (const flush of waiting) void flush.then(() => (settled += 1));
    releases.shift()?.();
    await first;
    // The ten callers' frames may have been written after the first sync started: they wait for a second.
    await vi.waitFor(() => expect(releases).toHaveLength(1), PATIENTLY);
    expect(settled).toBe(0);
    releases.shift()?.();
    await Promise.all(waiting);
    expect(log.flush.syncs).toBe(2);
  });

  it("a flush the disk refuses fails with StoreUnavailableError naming the database, and the next one syncs again", async () => {
    let refuse = true;
    const { handle, log, file } = await openFile({
      datasync: async (opened) => {
        if (refuse) throw Object.assign(new Error("EIO: i/o error, fdatasync"), { code: "EIO" });
        await opened.datasync();
      },
    });
    writeRows(handle, log, 1);
    const failed = await log.flush.flush().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(StoreUnavailableError.isInstance(failed)).toBe(true);
    expect(String((failed as Error).message)).toContain(file);
    expect(String((failed as Error).message)).toContain("EIO");
    refuse = false;
    await expect(log.flush.flush()).resolves.toBeUndefined();
  });

  it("a worker thread checkpoints the log into the database file while the connection goes on writing", async () => {
    const { handle, log, file } = await openFile({ checkpoints: { everyTransactions: 4 }, transactionsBeforeWorker: 1 });
    const before = statSync(file).size;
    writeRows(handle, log, 40);
    await vi.waitFor(() => expect(log.checkpointer?.checkpoints).toBeGreaterThan(0), PATIENTLY);
    // The worker copied pages into the database file; the writer never checkpointed itself.
    await vi.waitFor(() => expect(statSync(file).size).toBeGreaterThan(before + 100_000), PATIENTLY);
    expect(handle.prepare("select count(*) as count from rows").get()).toEqual({ count: 800 });
  });

  it("a log that keeps growing is checkpointed with RESTART, and nothing written is lost", async () => {
    const { handle, log } = await openFile({ checkpoints: { everyTransactions: 2, restartFrames: 8 }, transactionsBeforeWorker: 1 });
    for (let round = 0; round < 20; round += 1) {
      writeRows(handle, log, 2);
      await vi.waitFor(() => expect(log.checkpointer?.checkpoints).toBeGreaterThan(round), PATIENTLY);
    }
    expect(log.checkpointer?.restarts).toBeGreaterThan(0);
    expect(handle.prepare("select count(*) as count from rows").get()).toEqual({ count: 800 });
    expect(handle.pragma("integrity_check", { simple: true })).toBe("ok");
  });

  it("when the worker dies, the connection checkpoints by itself again", async () => {
    const { handle, log } = await openFile({ transactionsBeforeWorker: 1 });
    writeRows(handle, log, 1);
    expect(Number(handle.pragma("wal_autocheckpoint", { simple: true }))).toBe(0);
    await log.checkpointer?.terminateForTest();
    await vi.waitFor(() => expect(log.checkpointer?.failed).toBe(true), PATIENTLY);
    expect(Number(handle.pragma("wal_autocheckpoint", { simple: true }))).toBe(1000);
  });

  it("close ends the worker and the log's descriptor; a flush after it fails", async () => {
    const { handle, log } = await openFile({ transactionsBeforeWorker: 1 });
    writeRows(handle, log, 2);
    expect(log.checkpointer).toBeDefined();
    await log.flush.flush();
    await log.close();
    expect(log.checkpointer?.failed).toBe(false);
    await expect(log.flush.flush()).rejects.toThrow(/closed/);
  });
});
