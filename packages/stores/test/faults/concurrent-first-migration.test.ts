import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { StoreUnavailableError } from "@lash/protocol";
import { bundleForChildProcess } from "@lash/test-infrastructure/child-process";
import { holdSqliteWriteLock } from "@lash/test-infrastructure/sqlite-lock";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSqlSessionDatabase, LASH_MIGRATION_TABLE, lashMigrations, SqliteDatabaseBusyError } from "../../src/sql/index.js";
import { commit, thrown } from "../fixtures.js";

const PROCESSES = 8;
const ROUNDS = 4;
const packageRoot = fileURLToPath(new URL("../..", import.meta.url));

interface Outcome {
  readonly ok: boolean;
  readonly applied?: readonly string[];
  readonly error?: { readonly name: string; readonly code: unknown; readonly message: string };
}

interface MigratingProcess {
  readonly child: ChildProcess;
  readonly ready: Promise<void>;
  readonly finished: Promise<{ code: number | null; outcome: Outcome | undefined; stderr: string }>;
}

/** Starts one child that opens `file`, waits for `go` on stdin, migrates and commits `sessionId`. */
function startMigrating(bundle: string, file: string, sessionId: string): MigratingProcess {
  const child = spawn(process.execPath, [bundle, file, sessionId], { cwd: packageRoot, stdio: ["pipe", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  let signalReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => {
    signalReady = resolve;
  });
  child.stdout?.setEncoding("utf8");
  child.stdout?.on("data", (chunk: string) => {
    stdout += chunk;
    if (stdout.includes("ready\n")) signalReady();
  });
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (chunk: string) => (stderr += chunk));
  const finished = once(child, "exit").then(([code]) => {
    signalReady();
    const line = stdout.split("\n").find((entry) => entry.startsWith("{"));
    return { code: code as number | null, outcome: line === undefined ? undefined : (JSON.parse(line) as Outcome), stderr };
  });
  return { child, ready, finished };
}

describe("first use of a new SQLite file from several processes", () => {
  let folder: string;
  let bundle: string;

  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), "lash-first-migration-"));
    bundle = await bundleForChildProcess({
      entry: fileURLToPath(new URL("./migrate-process.ts", import.meta.url)),
      packageRoot,
      external: ["better-sqlite3", "pg", "pg-native"],
    });
  }, 60_000);
  afterAll(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  it(`${PROCESSES} processes migrating one new file at once all succeed; one applies the migrations, the others find them applied (${ROUNDS} rounds)`, {
    timeout: 240_000,
  }, async () => {
    const known = Object.keys(lashMigrations("sqlite")).sort();
    for (let round = 1; round <= ROUNDS; round += 1) {
      const file = join(folder, `round-${round}.db`);
      const processes = Array.from({ length: PROCESSES }, (_, index) => startMigrating(bundle, file, `p${index}`));
      // Every process has loaded its code and opened its database object before any migrates.
      await Promise.all(processes.map((entry) => entry.ready));
      for (const entry of processes) entry.child.stdin?.end("go\n");
      const results = await Promise.all(processes.map((entry) => entry.finished));

      // Every failure of the round at once, with its error, rather than the first one alone.
      const failures = results.filter((result) => result.code !== 0 || result.outcome?.ok !== true || result.stderr !== "");
      expect({ round, failures }).toEqual({ round, failures: [] });
      // The migrations ran once: a late arrival re-checks the schema under the lock and does nothing.
      const appliers = results.filter((result) => (result.outcome?.applied ?? []).length > 0);
      expect(appliers).toHaveLength(1);
      expect(appliers[0]?.outcome?.applied).toEqual(known);

      const raw = new Database(file, { readonly: true });
      try {
        const rows = raw.prepare(`select name from ${LASH_MIGRATION_TABLE} order by name`).all() as { name: string }[];
        expect(rows.map((row) => row.name)).toEqual(known);
      } finally {
        raw.close();
      }
      const database = createSqlSessionDatabase({ connection: `sqlite:${file}` });
      try {
        expect(await database.migrateToLatest()).toEqual({ appliedMigrations: [], latestMigration: known.at(-1) });
        const listed = await database.listSessions();
        expect(listed.sessions.map((session) => [session.sessionId, session.headRevision])).toEqual(
          Array.from({ length: PROCESSES }, (_, index) => [`p${index}`, 1]),
        );
      } finally {
        await database.destroy();
      }
    }
  });
});

describe("a SQLite lock another process holds for longer than busyTimeoutMs", () => {
  let folder: string;

  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), "lash-sqlite-busy-"));
  });
  afterAll(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  it("fails migrateToLatest and commits with SqliteDatabaseBusyError saying the database is locked; released, the same object works", async () => {
    const file = join(folder, "locked.db");
    const lock = await holdSqliteWriteLock(file, packageRoot);
    const database = createSqlSessionDatabase({ connection: `sqlite:${file}`, busyTimeoutMs: 300 });
    try {
      const migrating = await thrown(database.migrateToLatest());
      expect(SqliteDatabaseBusyError.isInstance(migrating)).toBe(true);
      // Still the contract's retryable error, with the driver's error as its cause.
      expect(StoreUnavailableError.isInstance(migrating)).toBe(true);
      expect(migrating).toMatchObject({ code: "store_unavailable", operation: "migrating", waitedMs: 300, cause: { code: "SQLITE_BUSY" } });
      expect((migrating as Error).message).toContain("database is locked");
      expect((migrating as Error).message).toContain(file);
      expect((migrating as Error).message).not.toMatch(/cannot reach|writable|permission/i);
      await lock.release();
      expect((await database.migrateToLatest()).appliedMigrations).toEqual(Object.keys(lashMigrations("sqlite")).sort());

      const again = await holdSqliteWriteLock(file, packageRoot);
      const committing = await thrown(database.openSession("s1").commit(commit({ commitId: "t1" })));
      await again.release();
      expect(SqliteDatabaseBusyError.isInstance(committing)).toBe(true);
      expect((committing as Error).message).toContain("database is locked");
      expect(await database.openSession("s1").commit(commit({ commitId: "t1" }))).toMatchObject({ headRevision: 1 });
    } finally {
      await database.destroy();
    }
  });
});
