import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { holdSqliteWriteLock } from "@lash/test-infrastructure/sqlite-lock";
import Database from "better-sqlite3";
import { Kysely, SqliteDialect } from "kysely";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { append, commit, node } from "../../test/fixtures.js";
import { createSqlSessionDatabase, type LashSqlSchema, type SqlSessionDatabase } from "./index.js";

// `loadNode` and `loadHeadRevision` are the lookups a runtime makes on every turn. On a SQLite
// connection the store opened they run as prepared statements on the driver; on a caller-built
// Kysely instance, through the query builder. Both must answer the same.

const packageRoot = fileURLToPath(new URL("../..", import.meta.url));

let folder: string;
const opened: SqlSessionDatabase[] = [];
beforeEach(async () => {
  folder = await mkdtemp(join(tmpdir(), "lash-point-lookups-"));
});
afterEach(async () => {
  for (const database of opened.splice(0)) await database.destroy();
  await rm(folder, { recursive: true, force: true });
});

async function storeOpened(file: string): Promise<SqlSessionDatabase> {
  const database = createSqlSessionDatabase({ connection: `sqlite:${file}` });
  opened.push(database);
  await database.migrateToLatest();
  return database;
}

async function callerBuilt(file: string): Promise<SqlSessionDatabase> {
  const kysely = new Kysely<LashSqlSchema>({ dialect: new SqliteDialect({ database: new Database(file) }) });
  const database = createSqlSessionDatabase({ kysely, dialect: "sqlite" });
  opened.push(database);
  await database.migrateToLatest();
  // The caller's instance is the caller's to close.
  opened.push({ destroy: () => kysely.destroy() } as SqlSessionDatabase);
  return database;
}

describe.each([
  ["a connection the store opened", storeOpened],
  ["a caller-built Kysely instance", callerBuilt],
])("point lookups on %s", (_title, open) => {
  it("find live nodes on and off the active path, not tombstoned or unknown ones, and the head revision", async () => {
    const database = await open(join(folder, "lookups.db"));
    const store = database.openSession("s1");
    expect(await store.loadHeadRevision()).toBeUndefined();
    expect(await store.loadNode("m1")).toBeUndefined();
    await store.commit(commit({ commitId: "t1", graph: append([node("m1"), node("m2", "m1")]) }));
    await store.commit(commit({ commitId: "t2", expectedHeadRevision: 1, graph: append([node("m3", "m2")]) }));
    await store.tombstoneNodes(["m2"]);
    expect(await store.loadHeadRevision()).toBe(2);
    expect(await store.loadNode("m1")).toEqual(node("m1"));
    expect(await store.loadNode("m3")).toEqual(node("m3", "m2"));
    expect(await store.loadNode("m2")).toBeUndefined();
    expect(await store.loadNode("absent")).toBeUndefined();
    // Another session's node is not this session's.
    expect(await database.openSession("s2").loadNode("m1")).toBeUndefined();
    expect(await database.openSession("s2").loadHeadRevision()).toBeUndefined();
  });

  it("answer while another process holds the write lock (readers are not blocked)", async () => {
    const file = join(folder, "locked.db");
    const database = await open(file);
    const store = database.openSession("s1");
    await store.commit(commit({ commitId: "t1", graph: append([node("m1")]) }));
    const lock = await holdSqliteWriteLock(file, packageRoot);
    try {
      expect(await store.loadHeadRevision()).toBe(1);
      expect(await store.loadNode("m1")).toEqual(node("m1"));
    } finally {
      await lock.release();
    }
  });
});
