import { randomUUID } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newSessionId, runLash, startLash, temporaryDirectory, waitFor, writeScript } from "./run-lash.js";

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
    if (reason === undefined) {
      for (const name of [schema, `${schema}_background`, `${schema}_pgboss`]) await admin(`drop schema if exists "${name}" cascade`);
    }
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

  it("stores subagent tasks: another process lists them, cancels a running one, and sees how each ended", async () => {
    // Runs after the migration above. The parent spawns a subagent, then both stream slowly.
    const words = Array.from({ length: 200 }, (_, index) => `w${index}`).join(" ");
    const script = await writeScript(home, "pg-subagent", [
      { toolCalls: [{ name: "spawn_agent", args: { task: "Count slowly." } }] },
      { text: words, chunks: 200, chunkDelayMs: 100 },
      { text: words, chunks: 200, chunkDelayMs: 100 },
    ]);
    const run = startLash(["run", "--store", storeUrl(), "--script", script, "start a subagent"], home);
    await waitFor(run.stderr, (text) => /✓ spawn_agent/.test(text));

    const live = JSON.parse((await runLash(["tasks", "list", "--json", "--store", storeUrl()], home)).stdout) as { id: string; kind: string; state: string; scope: { sessionId: string } }[];
    expect(live).toHaveLength(1);
    expect(live[0]).toMatchObject({ kind: "subagent", state: "running" });
    const taskId = live[0]?.id ?? "";
    expect(taskId).toMatch(/^subagent:/);

    const cancelled = await runLash(["tasks", "cancel", taskId, "--store", storeUrl()], home);
    expect(cancelled.code).toBe(0);
    expect(cancelled.stdout).toMatch(new RegExp(`^${taskId}: (cancel_requested|cancelled)\n$`));
    const unknown = await runLash(["tasks", "cancel", "subagent:none", "--store", storeUrl()], home);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("no background task subagent:none");

    // The process running the subagent sees the cancel and ends it; the parent turn goes on.
    for (let polls = 0; ; polls += 1) {
      const listed = JSON.parse((await runLash(["tasks", "list", "--all", "--json", "--store", storeUrl()], home)).stdout) as { state: string }[];
      if (listed[0]?.state === "cancelled") break;
      if (polls === 50) throw new Error(`the task did not end cancelled: ${JSON.stringify(listed)}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    run.child.kill("SIGINT");
    const ended = await run.result;
    expect(ended.code).toBe(130);
    const all = JSON.parse((await runLash(["tasks", "list", "--all", "--json", "--store", storeUrl()], home)).stdout) as { id: string; state: string; scope: { sessionId: string } }[];
    expect(all).toEqual([expect.objectContaining({ id: taskId, state: "cancelled", scope: { sessionId: newSessionId(ended.stderr) } })]);
    expect((await runLash(["tasks", "list", "--store", storeUrl()], home)).stderr).toContain("no live background tasks");
  });
});
