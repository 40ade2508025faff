import { LashRuntime, textInput } from "@lash/core";
import { LashError } from "@lash/protocol";
import { createSqlSessionDatabase, type SqlCommitContext, SqlCommitHookError, type SqlSessionDatabase } from "@lash/stores/sql";
import { dropSchema, freshSchemaName, POSTGRES_URL, postgresTestsEnabled } from "@lash/test-infrastructure/postgres";
import { ScriptedProvider, textStep } from "@lash/testkit";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PostgresBackgroundTaskHost } from "../../src/postgres/index.js";
import { openTestHost } from "./durable-harness.js";

const enabled = await postgresTestsEnabled();

/** What the hook enqueued, seen from inside the commit's transaction. */
interface Enqueued {
  readonly taskId: string;
  readonly commitId: string;
  readonly headRevision: number;
}

// The store and the durable host share one PostgreSQL database (each in a schema of its own), so the
// store's `onCommit` hook can write the task, its event and its pg-boss job in the turn's final commit.
describe.skipIf(!enabled)("a durable task enqueued in the same transaction as a turn's final commit", () => {
  const storeSchema = freshSchemaName();
  const taskSchema = freshSchemaName();
  const bossSchema = freshSchemaName();
  let host: PostgresBackgroundTaskHost;
  let pool: pg.Pool;
  const databases: SqlSessionDatabase[] = [];
  const inputs: unknown[] = [];

  beforeAll(async () => {
    host = await openTestHost({
      schema: taskSchema,
      bossSchema,
      tasks: {
        "summarise-turn": async (context) => {
          inputs.push(context.input);
          return { summary: "summarised", value: null };
        },
      },
    });
    pool = new pg.Pool({ connectionString: POSTGRES_URL, max: 2 });
  });

  afterAll(async () => {
    for (const database of databases) await database.destroy();
    await host?.close();
    await pool?.end();
    for (const schema of [storeSchema, taskSchema, bossSchema]) await dropSchema(schema);
  });

  /** A store database whose hook enqueues a summary task on every final commit (then throws, if told). */
  async function openStoreDatabase(options: {
    failAfterEnqueue: boolean;
  }): Promise<{ database: SqlSessionDatabase; enqueued: Enqueued[] }> {
    const enqueued: Enqueued[] = [];
    const onCommit = async (context: SqlCommitContext): Promise<void> => {
      const { sessionId, commitId } = context.commit;
      if (!commitId.endsWith(":final")) return;
      const taskId = `summary:${sessionId}:${commitId}`;
      await host.enqueue(
        {
          id: taskId,
          kind: "observer",
          producer: "summariser",
          scope: { sessionId },
          task: "summarise-turn",
          input: { sessionId, commitId, headRevision: context.headRevision },
        },
        { transaction: context },
      );
      enqueued.push({ taskId, commitId, headRevision: context.headRevision });
      if (options.failAfterEnqueue) throw new Error("the outbox refused the commit");
    };
    const database = createSqlSessionDatabase({ connection: POSTGRES_URL, schema: storeSchema, maxConnections: 4, onCommit });
    databases.push(database);
    await database.migrateToLatest();
    return { database, enqueued };
  }

  async function runTurn(database: SqlSessionDatabase, sessionId: string): Promise<void> {
    const runtime = await LashRuntime.builder()
      .withSessionId(sessionId)
      .withPolicy({ model: "scripted-model", maxContextTokens: 200_000 })
      .withProvider(new ScriptedProvider([textStep("The answer.", { usage: { inputTokens: 10, outputTokens: 3 } })]))
      .withStore(database.openSession(sessionId))
      .withSessionStoreFactory(database)
      .build();
    await runtime.runTurn(textInput("Summarise this session later."));
  }

  async function storedCommits(sessionId: string): Promise<{ commit_id: string; head_revision: number }[]> {
    const { rows } = await pool.query<{ commit_id: string; head_revision: string }>(
      `select commit_id, head_revision from ${pg.escapeIdentifier(storeSchema)}.lash_commits where session_id = $1 order by head_revision`,
      [sessionId],
    );
    return rows.map((row) => ({ commit_id: row.commit_id, head_revision: Number(row.head_revision) }));
  }

  async function jobCount(taskId: string): Promise<number> {
    const { rows } = await pool.query<{ count: string }>(
      `select count(*) as count from ${pg.escapeIdentifier(bossSchema)}.job where data->>'taskId' = $1`,
      [taskId],
    );
    return Number(rows[0]?.count);
  }

  it("the turn commits, the task exists with its job, and a worker runs it", async () => {
    const { database, enqueued } = await openStoreDatabase({ failAfterEnqueue: false });
    await runTurn(database, "committed-session");

    expect(enqueued).toHaveLength(1);
    const [task] = enqueued;
    if (task === undefined) throw new Error("the hook enqueued nothing");
    expect(task.commitId).toMatch(/:final$/);
    // The session's head is the commit that enqueued the task, and that commit is stored.
    expect(await database.openSession("committed-session").loadHeadRevision()).toBe(task.headRevision);
    expect(await storedCommits("committed-session")).toContainEqual({ commit_id: task.commitId, head_revision: task.headRevision });

    const record = await host.get(task.taskId);
    expect(record).toMatchObject({ id: task.taskId, kind: "observer", scope: { sessionId: "committed-session" } });
    expect(await jobCount(task.taskId)).toBe(1);
    const ended = await host.waitForTerminal(task.taskId);
    expect(ended.state).toBe("completed");
    expect(inputs).toContainEqual({ sessionId: "committed-session", commitId: task.commitId, headRevision: task.headRevision });
  });

  it("a hook that fails after enqueueing fails the turn, and neither the final commit nor the task nor its job exist", async () => {
    const { database, enqueued } = await openStoreDatabase({ failAfterEnqueue: true });
    const error = await runTurn(database, "failed-session").then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(LashError.isInstance(error), String(error)).toBe(true);
    expect(error).toMatchObject({ code: "store_commit_failed" });
    const cause = (error as Error).cause;
    expect(SqlCommitHookError.isInstance(cause), String(cause)).toBe(true);
    expect(cause).toMatchObject({ sessionId: "failed-session", commitId: expect.stringMatching(/:final$/) });

    // The hook ran (and enqueued) inside the transaction that was then rolled back.
    expect(enqueued).toHaveLength(1);
    const [task] = enqueued;
    if (task === undefined) throw new Error("the hook enqueued nothing");
    expect((await storedCommits("failed-session")).map((row) => row.commit_id)).not.toContain(task.commitId);
    expect((await storedCommits("failed-session")).filter((row) => row.commit_id.endsWith(":final"))).toEqual([]);
    const head = await database.openSession("failed-session").loadHeadRevision();
    expect(head === undefined || head < task.headRevision).toBe(true);
    expect(await host.get(task.taskId)).toBeUndefined();
    expect(await host.list({ includeTerminal: true })).not.toContainEqual(expect.objectContaining({ id: task.taskId }));
    expect(await jobCount(task.taskId)).toBe(0);
  });
});
