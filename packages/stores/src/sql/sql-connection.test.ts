import { join, resolve } from "node:path";
import { LashError, StoreUnavailableError } from "@lash/protocol";
import {
  dropSchema,
  freshSchemaName,
  POSTGRES_REQUIRED,
  POSTGRES_URL,
  postgresUnavailableReason,
  runAdminStatement,
} from "@lash/test-infrastructure/postgres";
import Database from "better-sqlite3";
import { Kysely, PostgresDialect, SqliteDialect } from "kysely";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { thrown } from "../../test/fixtures.js";
import { createSqliteTestFolder } from "../../test/sqlite.js";
import {
  createSqlSessionDatabase,
  type LashSqlSchema,
  parseSqlConnectionString,
  redactConnectionString,
  type SqlSessionDatabaseOptions,
} from "./index.js";
import { importOptionalDriver } from "./sql-connection.js";

function configurationError(run: () => unknown): LashError {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  expect(LashError.isInstance(caught), String(caught)).toBe(true);
  expect((caught as LashError).code).toBe("invalid_configuration");
  return caught as LashError;
}

describe("parseSqlConnectionString", () => {
  it("reads SQLite paths: relative to the working directory, absolute, URL-style and in memory", () => {
    expect(parseSqlConnectionString("sqlite:./data/lash.db", "/srv/app")).toEqual({ dialect: "sqlite", filename: "/srv/app/data/lash.db" });
    expect(parseSqlConnectionString("sqlite:lash.db", "/srv/app")).toEqual({ dialect: "sqlite", filename: "/srv/app/lash.db" });
    expect(parseSqlConnectionString("sqlite:/var/lib/lash.db")).toEqual({ dialect: "sqlite", filename: "/var/lib/lash.db" });
    expect(parseSqlConnectionString("sqlite:///var/lib/lash.db")).toEqual({ dialect: "sqlite", filename: "/var/lib/lash.db" });
    expect(parseSqlConnectionString("sqlite::memory:")).toEqual({ dialect: "sqlite", filename: ":memory:" });
    expect(parseSqlConnectionString("sqlite:./x.db")).toEqual({ dialect: "sqlite", filename: resolve("x.db") });
  });

  it("reads PostgreSQL URLs under both scheme spellings", () => {
    expect(parseSqlConnectionString("postgres://user:secret@db:5432/lash")).toEqual({
      dialect: "postgres",
      connectionString: "postgres://user:secret@db:5432/lash",
    });
    expect(parseSqlConnectionString("postgresql://db/lash")).toEqual({ dialect: "postgres", connectionString: "postgresql://db/lash" });
  });

  it("rejects unknown schemes, empty paths and malformed URLs, naming the value without its password", () => {
    expect(configurationError(() => parseSqlConnectionString("mysql://root:hunter2@db/lash")).message).toContain(
      "`mysql://root:***@db/lash`",
    );
    expect(configurationError(() => parseSqlConnectionString("mysql://root:hunter2@db/lash")).message).not.toContain("hunter2");
    expect(configurationError(() => parseSqlConnectionString("./lash.db")).message).toContain("`./lash.db` (no scheme)");
    expect(configurationError(() => parseSqlConnectionString("sqlite:")).message).toContain("names no file");
    expect(configurationError(() => parseSqlConnectionString("")).message).toContain("non-empty");
    expect(configurationError(() => parseSqlConnectionString("postgres://a:b@[bad")).message).toContain("not a valid URL");
  });

  it("redacts passwords in the user info and in parameters", () => {
    expect(redactConnectionString("postgres://user:pa%40ss@host/db?sslmode=require&password=x")).toBe(
      "postgres://user:***@host/db?sslmode=require&password=***",
    );
    expect(redactConnectionString("postgres://user@host/db")).toBe("postgres://user@host/db");
  });
});

describe("createSqlSessionDatabase options", () => {
  it("rejects bad options before connecting, naming what is wrong", () => {
    const kysely = new Kysely<LashSqlSchema>({ dialect: new SqliteDialect({ database: new Database(":memory:") }) });
    const cases: [unknown, string][] = [
      [undefined, "options object"],
      [{}, "exactly one of"],
      [{ connection: "sqlite::memory:", kysely, dialect: "sqlite" }, "exactly one of"],
      [{ connection: "oracle://db" }, "`oracle:`"],
      [{ kysely, dialect: "mysql" }, '"mysql"'],
      [{ kysely: {}, dialect: "sqlite" }, "Kysely instance"],
      [{ connection: "sqlite::memory:", schema: "lash" }, "PostgreSQL option"],
      [{ kysely, dialect: "sqlite", schema: "lash" }, "PostgreSQL option"],
      [{ connection: "postgres://db/lash", busyTimeoutMs: 10 }, "SQLite option"],
      [{ connection: "sqlite::memory:", maxConnections: 4 }, "PostgreSQL options"],
      [{ connection: "postgres://db/lash", maxConnections: 0 }, "`maxConnections` must be a positive integer, got 0"],
      [{ connection: "sqlite::memory:", busyTimeoutMs: -1 }, "`busyTimeoutMs` must be a non-negative number, got -1"],
      [{ connection: "postgres://db/lash", schema: "" }, "`schema` must be a non-empty string"],
    ];
    for (const [options, expected] of cases) {
      expect(configurationError(() => createSqlSessionDatabase(options as SqlSessionDatabaseOptions)).message).toContain(expected);
    }
  });

  it("rejects an empty session id", () => {
    const database = createSqlSessionDatabase({ connection: "sqlite::memory:" });
    let caught: unknown;
    try {
      database.openSession("");
    } catch (error) {
      caught = error;
    }
    expect(caught).toMatchObject({ code: "invalid_argument" });
  });
});

describe("optional drivers", () => {
  it("a driver that is not installed is an invalid_configuration error naming the package to install", async () => {
    // A real failed import: the package below does not exist anywhere.
    const specifier = "lash-driver-that-is-not-installed";
    const error = await thrown(importOptionalDriver(specifier, "sqlite:", () => import(specifier)));
    expect(error).toMatchObject({ code: "invalid_configuration" });
    expect((error as Error).message).toContain(`npm install ${specifier}`);
    expect((error as Error).cause).toMatchObject({ code: "ERR_MODULE_NOT_FOUND" });
  });

  it("other import failures are not disguised as a missing driver", async () => {
    const failure = new Error("the driver crashed while loading");
    expect(await thrown(importOptionalDriver("pg", "postgres:", () => Promise.reject(failure)))).toBe(failure);
  });
});

describe("unreachable databases", () => {
  it("a SQLite file in a folder that does not exist is a StoreUnavailableError naming the path", async () => {
    const folder = await createSqliteTestFolder();
    const filename = join(folder.path, "missing", "lash.db");
    const database = createSqlSessionDatabase({ connection: `sqlite:${filename}` });
    try {
      const error = await thrown(database.migrateToLatest());
      expect(StoreUnavailableError.isInstance(error), String(error)).toBe(true);
      expect((error as Error).message).toContain(filename);
      expect((error as Error).cause).toBeDefined();
    } finally {
      await database.destroy();
      await folder.remove();
    }
  });

  it("a refused PostgreSQL connection is a StoreUnavailableError with the driver error as cause", async () => {
    const database = createSqlSessionDatabase({ connection: "postgres://lash:secret@127.0.0.1:1/lash", connectTimeoutMs: 2_000 });
    try {
      const error = await thrown(database.openSession("s1").loadHeadRevision());
      expect(StoreUnavailableError.isInstance(error), String(error)).toBe(true);
      expect((error as Error).message).toContain("cannot reach");
      expect((error as Error).message).toContain("postgres://lash:***@127.0.0.1:1/lash");
      expect((error as Error).message).not.toContain("secret");
      expect((error as Error).cause).toBeDefined();
      // The failure is not remembered: the next operation tries again (and fails the same way).
      expect(StoreUnavailableError.isInstance(await thrown(database.migrateToLatest()))).toBe(true);
    } finally {
      await database.destroy();
    }
  });
});

const postgresReason = await postgresUnavailableReason();

describe("PostgreSQL availability", () => {
  if (postgresReason !== undefined && !POSTGRES_REQUIRED) {
    // Outside CI a machine without PostgreSQL skips the PostgreSQL tests, and says why.
    it.skip(`PostgreSQL tests skipped: ${postgresReason}`, () => {});
    return;
  }

  it("PostgreSQL is reachable (required when CI=true)", () => {
    expect(postgresReason).toBeUndefined();
  });

  it("a database that does not exist is a StoreUnavailableError", async () => {
    const url = new URL(POSTGRES_URL);
    url.pathname = "/lash_no_such_database";
    const database = createSqlSessionDatabase({ connection: url.toString() });
    try {
      const error = await thrown(database.migrateToLatest());
      expect(StoreUnavailableError.isInstance(error), String(error)).toBe(true);
      expect((error as Error).message).toContain("lash_no_such_database");
    } finally {
      await database.destroy();
    }
  });

  it("without a schema option, the tables go to the connection's current schema (its search_path)", async () => {
    const schema = freshSchemaName();
    const pool = new pg.Pool({ connectionString: POSTGRES_URL, max: 2, options: `-c search_path=${schema}` });
    pool.on("error", () => undefined);
    const kysely = new Kysely<LashSqlSchema>({ dialect: new PostgresDialect({ pool }) });
    try {
      const unresolved = await thrown(createSqlSessionDatabase({ kysely, dialect: "postgres" }).migrateToLatest());
      expect(unresolved).toMatchObject({ code: "invalid_configuration" });
      expect((unresolved as Error).message).toContain("`schema` option");

      await runAdminStatement(`create schema ${pg.escapeIdentifier(schema)}`);
      const database = createSqlSessionDatabase({ kysely, dialect: "postgres" });
      await database.migrateToLatest();
      await database.openSession("s1").saveSessionMeta({
        sessionId: "s1",
        sessionName: "s1",
        createdAt: "2025-01-01T00:00:00.000Z",
        model: "m",
        relation: { type: "root" },
      });
      const rows = await kysely.withSchema(schema).selectFrom("lash_session_meta").select("session_id").execute();
      expect(rows).toEqual([{ session_id: "s1" }]);
    } finally {
      await kysely.destroy();
      await dropSchema(schema);
    }
  });
});
