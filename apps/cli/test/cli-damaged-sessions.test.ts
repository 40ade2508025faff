import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { holdSqliteWriteLock } from "@lash/test-infrastructure/sqlite-lock";
import Database from "better-sqlite3";
import { beforeAll, describe, expect, it } from "vitest";
import { newSessionId, runLash, startLash, temporaryDirectory, waitFor, writeScript } from "./run-lash.js";

const packageRoot = fileURLToPath(new URL("..", import.meta.url));

/** Runs `statements` on the SQLite file with a connection of its own, as a person repairing (or breaking) it would. */
function rawSql(file: string, statements: string, ...parameters: unknown[]): void {
  const database = new Database(file);
  try {
    if (parameters.length === 0) database.exec(statements);
    else database.prepare(statements).run(...parameters);
  } finally {
    database.close();
  }
}

/** One `lash sessions list --json` row, as the tests read it. */
interface ListedRow {
  readonly sessionId: string;
  readonly title: string;
  readonly turns: number | null;
  readonly tokens: number | null;
  readonly problem?: { readonly field: string; readonly message: string };
  readonly empty?: boolean;
}

async function listJson(home: string, ...flags: string[]): Promise<ListedRow[]> {
  const result = await runLash(["sessions", "list", "--json", ...flags], home);
  expect(result.stderr).not.toContain("lash: error:");
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as ListedRow[];
}

describe("damaged sessions in a SQLite store", () => {
  let home: string;
  let file: string;
  let good: string;
  let badNode: string;
  let badMeta: string;
  let badConfig: string;

  beforeAll(async () => {
    home = await temporaryDirectory();
    file = join(home, ".lash", "lash.db");
    const script = await writeScript(home, "text", [{ text: "Hi!", usage: { input: 10, output: 2 } }]);
    const run = async (prompt: string): Promise<string> => newSessionId((await runLash(["run", "--script", script, prompt], home)).stderr);
    good = await run("The good one");
    badNode = await run("A node that is not JSON");
    badMeta = await run("A meta that does not parse");
    badConfig = await run("A config that is not JSON");
    // The damage a crash, a disk or a hand edit leaves: a graph row, a meta row and a head row.
    rawSql(file, "UPDATE lash_graph_nodes SET node_json = '{not json' WHERE session_id = ? AND seq = 2", badNode);
    rawSql(file, "UPDATE lash_session_meta SET relation_json = '{not json' WHERE session_id = ?", badMeta);
    rawSql(file, "UPDATE lash_heads SET config_json = '{not json' WHERE session_id = ?", badConfig);
  });

  it("list: the readable session as before, each damaged one as a row marked damaged with its id and field; exit 0", async () => {
    const result = await runLash(["sessions", "list"], home);
    expect(result.code).toBe(0);
    expect(result.stderr).not.toContain("lash: error:");
    const lines = result.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^ID\s+TITLE\s+MODEL\s+TURNS\s+LAST ACTIVITY \(UTC\)\s+TOKENS$/);
    expect(lines).toHaveLength(5);
    expect(result.stdout).toMatch(new RegExp(`^${good}\\s+The good one\\s+scripted-model\\s+1\\s+\\S+ \\S+\\s+12$`, "m"));
    expect(result.stdout).toMatch(new RegExp(`^${badNode}\\s+damaged: graph\\.nodes\\.1\\s`, "m"));
    expect(result.stdout).toMatch(new RegExp(`^${badMeta}\\s+damaged: meta\\.relation\\s`, "m"));
    expect(result.stdout).toMatch(new RegExp(`^${badConfig}\\s+damaged: config\\s`, "m"));
    // stderr says what is wrong with each, and what can be done.
    expect(result.stderr).toContain("3 sessions cannot be read");
    for (const sessionId of [badNode, badMeta, badConfig]) expect(result.stderr).toContain(sessionId);
    expect(result.stderr).toContain("lash_graph_nodes.node_json");
    expect(result.stderr).toContain("lash sessions rm <id>");
  });

  it("list --json: a damaged session has a `problem` with the field and the store's message, and no figures", async () => {
    const rows = await listJson(home);
    expect(rows.map((row) => row.sessionId).sort()).toEqual([good, badNode, badMeta, badConfig].sort());
    const readable = rows.find((row) => row.sessionId === good);
    expect(readable).toMatchObject({ title: "The good one", turns: 1, tokens: 12 });
    expect(readable).not.toHaveProperty("problem");
    const problems = Object.fromEntries(rows.map((row) => [row.sessionId, row.problem]));
    expect(problems[badNode]).toMatchObject({ field: "graph.nodes.1", message: expect.stringContaining("lash_graph_nodes.node_json") });
    expect(problems[badMeta]).toMatchObject({
      field: "meta.relation",
      message: expect.stringContaining("lash_session_meta.relation_json"),
    });
    expect(problems[badConfig]).toMatchObject({ field: "config", message: expect.stringContaining("lash_heads.config_json") });
    for (const sessionId of [badNode, badMeta, badConfig]) {
      expect(rows.find((row) => row.sessionId === sessionId)).toMatchObject({ turns: null, tokens: null });
    }
  });

  it("show, usage and export of a damaged session: `lash: error:` naming the session and the field, exit 1, no stack", async () => {
    const cases = [
      [badNode, "graph.nodes.1", "lash_graph_nodes.node_json"],
      [badMeta, "meta.relation", "lash_session_meta.relation_json"],
      [badConfig, "config", "lash_heads.config_json"],
    ] as const;
    for (const [sessionId, field, column] of cases) {
      for (const command of ["show", "usage", "export"]) {
        const result = await runLash(["sessions", command, sessionId], home);
        expect(result.code, `${command} ${field}`).toBe(1);
        expect(result.stdout).toBe("");
        expect(result.stderr).toContain(`lash: error: session ${sessionId} is damaged: its stored ${field} cannot be read`);
        expect(result.stderr).toContain(column);
        expect(result.stderr).toContain(`lash sessions rm ${sessionId}`);
        expect(result.stderr).not.toMatch(/\n\s+at /);
      }
    }
    const debug = await runLash(["--debug", "sessions", "show", badNode], home);
    expect(debug.code).toBe(1);
    expect(debug.stderr).toMatch(/\n\s+at /);
  });

  it("rm removes a damaged session, even one whose meta cannot be read; the others stay", async () => {
    for (const sessionId of [badNode, badMeta, badConfig]) {
      const removed = await runLash(["sessions", "rm", sessionId], home);
      expect(removed.stderr).toContain(`removed session ${sessionId}`);
      expect(removed.code).toBe(0);
    }
    const rows = await listJson(home);
    expect(rows).toMatchObject([{ sessionId: good, turns: 1 }]);
    expect(rows[0]?.problem).toBeUndefined();
  });
});

describe("damage in the rows a listing entry does not read", () => {
  it("a checkpoint that is not JSON and a usage count that is not a number: listed damaged without loading, as `show` names them", async () => {
    const home = await temporaryDirectory();
    const file = join(home, ".lash", "lash.db");
    const script = await writeScript(home, "text", [{ text: "Hi!", usage: { input: 10, output: 2 } }]);
    const run = async (prompt: string): Promise<string> => newSessionId((await runLash(["run", "--script", script, prompt], home)).stderr);
    const good = await run("The good one");
    const badCheckpoint = await run("A checkpoint that is not JSON");
    const badUsage = await run("A usage count that is text");
    rawSql(file, "UPDATE lash_blobs SET content = '[' WHERE session_id = ?", badCheckpoint);
    rawSql(file, "UPDATE lash_usage_deltas SET output_tokens = 'many' WHERE session_id = ?", badUsage);

    const rows = await listJson(home);
    expect(rows.find((row) => row.sessionId === good)).toMatchObject({ turns: 1, tokens: 12 });
    const problems = Object.fromEntries(rows.map((row) => [row.sessionId, row.problem]));
    expect(problems[good]).toBeUndefined();
    expect(problems[badCheckpoint]).toMatchObject({ field: "checkpoint", message: expect.stringContaining("lash_blobs.content") });
    expect(problems[badUsage]).toMatchObject({
      field: "tokenLedger.0.usage.outputTokens",
      message: expect.stringContaining("lash_usage_deltas.output_tokens"),
    });
    for (const [sessionId, field] of [
      [badCheckpoint, "checkpoint"],
      [badUsage, "tokenLedger.0.usage.outputTokens"],
    ] as const) {
      const shown = await runLash(["sessions", "show", sessionId], home);
      expect(shown.code).toBe(1);
      expect(shown.stderr).toContain(`lash: error: session ${sessionId} is damaged: its stored ${field} cannot be read`);
    }
  });
});

describe("empty sessions: a meta saved, no commit", () => {
  it("a `lash run` killed (SIGKILL) between its meta and its first commit leaves one: hidden from the list, shown marked empty with --all, not deleted", async () => {
    const home = await temporaryDirectory();
    const file = join(home, ".lash", "lash.db");
    const script = await writeScript(home, "text", [{ text: "Hi!" }]);
    const kept = newSessionId((await runLash(["run", "--script", script, "A real turn"], home)).stderr);
    // The first commit of a session inserts its head row: a trigger that computes for minutes holds
    // that commit open, uncommitted, until the process is killed.
    rawSql(
      file,
      "CREATE TRIGGER slow_first_commit BEFORE INSERT ON lash_heads BEGIN SELECT count(*) FROM (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 10000000000) SELECT x FROM c); END",
    );
    const killed = startLash(["run", "--script", script, "Never committed"], home);
    try {
      // `new session` is printed once the meta is saved, just before the turn starts.
      await waitFor(killed.stderr, (text) => text.includes("new session"));
      await new Promise((resolve) => setTimeout(resolve, 300));
    } finally {
      killed.child.kill("SIGKILL");
    }
    const empty = newSessionId((await killed.result).stderr);
    rawSql(file, "DROP TRIGGER slow_first_commit");

    const table = await runLash(["sessions", "list"], home);
    expect(table.code).toBe(0);
    expect(table.stdout).toContain(kept);
    expect(table.stdout).not.toContain(empty);
    expect(table.stderr).toContain("1 empty session (never committed) not shown; `lash sessions list --all` shows it");
    expect((await listJson(home)).map((row) => row.sessionId)).toEqual([kept]);

    const all = await runLash(["sessions", "list", "--all"], home);
    expect(all.code).toBe(0);
    expect(all.stdout).toMatch(new RegExp(`^${empty}\\s+\\(empty\\) Never committed\\s+scripted-model\\s+0\\s`, "m"));
    expect(all.stdout).toMatch(new RegExp(`^${kept}\\s+A real turn\\s`, "m"));
    expect(all.stderr).not.toContain("not shown");
    const rows = await listJson(home, "--all");
    expect(rows.find((row) => row.sessionId === empty)).toMatchObject({ title: "Never committed", turns: 0, tokens: 0, empty: true });
    expect(rows.find((row) => row.sessionId === kept)).not.toHaveProperty("empty");

    // Still stored: it can be continued, and then it is a session like any other.
    expect((await runLash(["run", "--session", empty, "--script", script, "Now it counts"], home)).code).toBe(0);
    expect((await listJson(home)).map((row) => row.sessionId).sort()).toEqual([kept, empty].sort());
  });

  it("a `lash run` whose first commit failed leaves one too, hidden the same way", async () => {
    const home = await temporaryDirectory();
    const file = join(home, ".lash", "lash.db");
    const script = await writeScript(home, "text", [{ text: "Hi!" }]);
    expect((await runLash(["sessions", "list"], home)).code).toBe(0);
    rawSql(file, "CREATE TRIGGER refuse_first_commit BEFORE INSERT ON lash_heads BEGIN SELECT RAISE(ABORT, 'refused by the test'); END");
    const failed = await runLash(["run", "--script", script, "Never committed"], home);
    expect(failed.code).toBe(1);
    const empty = newSessionId(failed.stderr);
    const table = await runLash(["sessions", "list"], home);
    expect(table.code).toBe(0);
    expect(table.stdout).toBe("");
    expect(table.stderr).toContain("no sessions in");
    expect(table.stderr).toContain("1 empty session (never committed) not shown");
    expect((await listJson(home, "--all")).map((row) => [row.sessionId, row.empty])).toEqual([[empty, true]]);
  });
});

describe("a SQLite store locked by another process, and one that cannot be used", () => {
  it("a new store whose first migration waits on the lock: says it is locked by another process and to retry, not to set LASH_HOME (exit 1)", async () => {
    const home = await temporaryDirectory();
    const file = join(home, "locked.db");
    const lock = await holdSqliteWriteLock(file, packageRoot);
    try {
      const result = await runLash(["sessions", "list", "--store", `sqlite:${file}`], home, { env: { LASH_SQLITE_BUSY_TIMEOUT: "0.3" } });
      expect(result.stderr).toContain(`lash: error: the store sqlite:${file} is locked by another process`);
      expect(result.stderr).toContain("database is locked");
      expect(result.stderr).toContain("retry");
      expect(result.stderr).not.toContain("writable");
      expect(result.stderr).not.toContain("LASH_HOME");
      expect(result.stderr).not.toMatch(/\n\s+at /);
      expect(result.code).toBe(1);
    } finally {
      await lock.release();
    }
    // Released, the same command migrates the file and works.
    const after = await runLash(["sessions", "list", "--store", `sqlite:${file}`], home);
    expect(after.code).toBe(0);
    expect(after.stderr).toContain(`no sessions in sqlite:${file}`);
  });

  it("a migrated store locked while `lash run` saves its session: the same message, exit 1, and no session left behind", async () => {
    const home = await temporaryDirectory();
    const file = join(home, ".lash", "lash.db");
    const script = await writeScript(home, "text", [{ text: "Hi!" }]);
    expect((await runLash(["sessions", "list"], home)).code).toBe(0);
    const lock = await holdSqliteWriteLock(file, packageRoot);
    try {
      const result = await runLash(["run", "--script", script, "hi"], home, { env: { LASH_SQLITE_BUSY_TIMEOUT: "0.3" } });
      expect(result.stderr).toContain(`lash: error: the store sqlite:${file} is locked by another process`);
      expect(result.stderr).toContain("retry");
      expect(result.stderr).not.toMatch(/\n\s+at /);
      expect(result.code).toBe(1);
    } finally {
      await lock.release();
    }
    expect(await listJson(home, "--all")).toEqual([]);
  });

  it("lash db migrate on a locked store says the same, not the store's bare error", async () => {
    const home = await temporaryDirectory();
    const file = join(home, "migrate.db");
    const lock = await holdSqliteWriteLock(file, packageRoot);
    try {
      const result = await runLash(["db", "migrate", "--store", `sqlite:${file}`], home, { env: { LASH_SQLITE_BUSY_TIMEOUT: "0.3" } });
      expect(result.stderr).toContain(`lash: error: the store sqlite:${file} is locked by another process`);
      expect(result.stderr).toContain("retry");
      expect(result.stderr).not.toMatch(/\n\s+at /);
      expect(result.code).toBe(1);
    } finally {
      await lock.release();
    }
    expect((await runLash(["db", "migrate", "--store", `sqlite:${file}`], home)).code).toBe(0);
  });

  it("LASH_SQLITE_BUSY_TIMEOUT must be a number of seconds (exit 2)", async () => {
    const home = await temporaryDirectory();
    const result = await runLash(["sessions", "list"], home, { env: { LASH_SQLITE_BUSY_TIMEOUT: "soon" } });
    expect(result.stderr).toContain('lash: error: LASH_SQLITE_BUSY_TIMEOUT must be a number of seconds from 0.001 to 2147483, got "soon"');
    expect(result.code).toBe(2);
  });

  it("a store file that cannot be opened (a folder in its place) keeps the writable-folder hint; a file that is no database gets neither hint", async () => {
    const home = await temporaryDirectory();
    const folder = join(home, "not-a-file.db");
    await mkdir(folder);
    const cannotOpen = await runLash(["sessions", "list", "--store", `sqlite:${folder}`], home);
    expect(cannotOpen.stderr).toContain(`lash: error: the store sqlite:${folder} cannot be used`);
    expect(cannotOpen.stderr).toContain("set LASH_HOME to a writable folder");
    expect(cannotOpen.stderr).not.toContain("locked");
    expect(cannotOpen.code).toBe(2);

    const text = join(home, "notes.db");
    await writeFile(text, "these are notes, not a SQLite database\n".repeat(200));
    const notDatabase = await runLash(["sessions", "list", "--store", `sqlite:${text}`], home);
    expect(notDatabase.stderr).toContain(`lash: error: the store sqlite:${text} cannot be used`);
    expect(notDatabase.stderr).toContain("not a database");
    expect(notDatabase.stderr).toContain("--store");
    expect(notDatabase.stderr).not.toContain("writable");
    expect(notDatabase.stderr).not.toContain("locked");
    expect(notDatabase.code).toBe(2);
  });
});
