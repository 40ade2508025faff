import { randomUUID } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newSessionId, runLash, temporaryDirectory, writeScript } from "./run-lash.js";

const POSTGRES_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const schema = `lash_cli_${randomUUID().replaceAll("-", "").slice(0, 16)}`;

async function admin(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 3_000 });
  client.on("error", () => undefined);
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

/** Why PostgreSQL cannot be used here, or `undefined`. Under CI an unreachable server fails instead. */
async function unavailableReason(): Promise<string | undefined> {
  try {
    await admin("select 1");
    return undefined;
  } catch (error) {
    return `PostgreSQL at ${POSTGRES_URL.replace(/:[^:@/]*@/, ":***@")} is unreachable (${(error as Error).message}); set DATABASE_URL to run these tests`;
  }
}

const reason = await unavailableReason();
if (reason !== undefined) {
  if (process.env.CI === "true") throw new Error(`CI=true, so the PostgreSQL tests fail: ${reason}`);
  console.warn(`[lash] PostgreSQL tests of the CLI skipped: ${reason}`);
}

function storeUrl(): string {
  const url = new URL(POSTGRES_URL);
  url.searchParams.set("schema", schema);
  return url.toString();
}

describe.skipIf(reason !== undefined)("a PostgreSQL store", () => {
  let home: string;

  beforeAll(async () => {
    home = await temporaryDirectory();
  });

  afterAll(async () => {
    if (reason === undefined) await admin(`drop schema if exists "${schema}" cascade`);
  });

  it("must be migrated first (the error says how), then runs and lists sessions", async () => {
    const script = await writeScript(home, "pg", [{ text: "Stored in PostgreSQL.", usage: { input: 11, output: 4 } }]);
    await admin(`create schema if not exists "${schema}"`);
    const unmigrated = await runLash(["run", "--store", storeUrl(), "--script", script, "hi"], home);
    expect(unmigrated.code).toBe(2);
    expect(unmigrated.stderr).toContain("run `lash db migrate` (with the same --store) first");

    const migrated = await runLash(["db", "migrate", "--store", storeUrl()], home);
    expect(migrated.code).toBe(0);
    expect(migrated.stdout).toContain("applied");
    const again = await runLash(["db", "migrate", "--store", storeUrl()], home);
    expect(again.stdout).toContain("is up to date");

    const run = await runLash(["run", "--store", storeUrl(), "--script", script, "hi"], home);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe("Stored in PostgreSQL.\n");
    const listed = JSON.parse((await runLash(["sessions", "list", "--json"], home, { env: { LASH_STORE: storeUrl() } })).stdout);
    expect(listed).toMatchObject([{ sessionId: newSessionId(run.stderr), turns: 1, tokens: 15 }]);
  });
});
