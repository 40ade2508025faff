import { mkdir, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { runLash, temporaryDirectory } from "./run-lash.js";

let home: string;
let work: string;

beforeEach(async () => {
  home = await temporaryDirectory();
  work = join(home, "work");
  await mkdir(work);
});

/** Every file and folder under `directory`, relative to it. */
async function contents(directory: string): Promise<string[]> {
  return (await readdir(directory, { recursive: true })).sort();
}

const ACCEPTED_FORMS = ["sqlite:<file>", "postgres://", "postgresql://", "fs:<dir>"];

describe("a mistyped store location", () => {
  for (const store of ["postgress://db/lash", "postgres:/db", "sqllite:x", "http://db.internal/lash"]) {
    it(`${store} is a usage error naming the accepted forms, and creates no file`, async () => {
      const result = await runLash(["sessions", "list", "--store", store], home, { cwd: work });
      expect(result.stderr).toContain(`lash: error: --store ${JSON.stringify(store)}`);
      for (const form of ACCEPTED_FORMS) expect(result.stderr).toContain(form);
      expect(result.code).toBe(2);
      expect(await contents(work)).toEqual([]);
    });
  }

  it("is named by where it came from: LASH_STORE, or the config file's field", async () => {
    const fromEnv = await runLash(["sessions", "list"], home, { cwd: work, env: { LASH_STORE: "postgress://db/lash" } });
    expect(fromEnv.code).toBe(2);
    expect(fromEnv.stderr).toContain('lash: error: LASH_STORE "postgress://db/lash" has an unknown scheme "postgress:"');
    expect(fromEnv.stderr).toContain("did you mean postgres://?");
    await mkdir(join(home, ".lash"));
    const configPath = join(home, ".lash", "config.json");
    await writeFile(configPath, JSON.stringify({ store: "sqllite:x" }));
    const fromFile = await runLash(["sessions", "list"], home, { cwd: work });
    expect(fromFile.code).toBe(2);
    expect(fromFile.stderr).toContain(`lash: error: the config file ${configPath}: \`store\` "sqllite:x" has an unknown scheme`);
    expect(await contents(work)).toEqual([]);
    expect(await contents(join(home, ".lash"))).toEqual(["config.json"]);
  });

  it("schemes are case-insensitive: PostgreSQL:// is a PostgreSQL URL, SQLite: a SQLite file", async () => {
    const postgres = await runLash(["config", "--json", "--store", "PostgreSQL://lash@127.0.0.1:1/lash"], home, { cwd: work });
    expect(postgres.code).toBe(0);
    expect(JSON.parse(postgres.stdout).settings.store).toEqual({ value: "postgresql://lash@127.0.0.1:1/lash", source: "flag --store" });
    // Port 1 refuses the connection: the command tried PostgreSQL (exit 1), and wrote no SQLite file.
    const listed = await runLash(["sessions", "list", "--store", "PostgreSQL://lash@127.0.0.1:1/lash"], home, { cwd: work });
    expect(listed.stderr).toContain("lash: error: the store is unavailable");
    expect(listed.code).toBe(1);
    expect(await contents(work)).toEqual([]);
    const sqlite = await runLash(["sessions", "list", "--store", "SQLite:sessions.db"], home, { cwd: work });
    expect(sqlite.code).toBe(0);
    expect(sqlite.stderr).toContain(`no sessions in sqlite:${join(work, "sessions.db")}`);
  });

  it("plain paths (with ./ before a colon) and the other accepted forms still work", async () => {
    for (const store of ["plain.db", "./odd:name.db", `sqlite://${join(work, "abs.db")}`, "fs:sessions"]) {
      const result = await runLash(["sessions", "list", "--store", store], home, { cwd: work });
      expect(result.code, store).toBe(0);
    }
    expect(await contents(work)).toEqual(expect.arrayContaining(["abs.db", "odd:name.db", "plain.db", "sessions"]));
  });
});
