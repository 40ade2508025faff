import { dropSchema, freshSchemaName, POSTGRES_URL, postgresTestsEnabled, runAdminStatement } from "@lash/test-infrastructure/postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newSessionId, runLash, startLash, temporaryDirectory, waitFor, writeScript } from "./run-lash.js";

const schema = freshSchemaName("lash_cli_");
const enabled = await postgresTestsEnabled();

function storeUrl(): string {
  const url = new URL(POSTGRES_URL);
  url.searchParams.set("schema", schema);
  return url.toString();
}

describe.skipIf(!enabled)("a PostgreSQL store", () => {
  let home: string;

  beforeAll(async () => {
    home = await temporaryDirectory();
  });

  afterAll(async () => {
    if (enabled) await dropSchema(schema, `${schema}_background`, `${schema}_pgboss`);
  });

  it("must be migrated first (the error says how), then runs and lists sessions", async () => {
    const script = await writeScript(home, "pg", [{ text: "Stored in PostgreSQL.", usage: { input: 11, output: 4 } }]);
    await runAdminStatement(`create schema if not exists "${schema}"`);
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

    const live = JSON.parse((await runLash(["tasks", "list", "--json", "--store", storeUrl()], home)).stdout) as {
      id: string;
      kind: string;
      state: string;
      scope: { sessionId: string };
    }[];
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
      const listed = JSON.parse((await runLash(["tasks", "list", "--all", "--json", "--store", storeUrl()], home)).stdout) as {
        state: string;
      }[];
      if (listed[0]?.state === "cancelled") break;
      if (polls === 50) throw new Error(`the task did not end cancelled: ${JSON.stringify(listed)}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    run.child.kill("SIGINT");
    const ended = await run.result;
    expect(ended.code).toBe(130);
    const all = JSON.parse((await runLash(["tasks", "list", "--all", "--json", "--store", storeUrl()], home)).stdout) as {
      id: string;
      state: string;
      scope: { sessionId: string };
    }[];
    expect(all).toEqual([expect.objectContaining({ id: taskId, state: "cancelled", scope: { sessionId: newSessionId(ended.stderr) } })]);
    expect((await runLash(["tasks", "list", "--store", storeUrl()], home)).stderr).toContain("no live background tasks");
  });
});
