import { randomUUID } from "node:crypto";
import type { BackgroundTaskEvent } from "@lash/protocol";
import { dropSchema, freshSchemaName, POSTGRES_URL, postgresTestsEnabled } from "@lash/test-infrastructure/postgres";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PostgresBackgroundTaskHost } from "../../src/postgres/index.js";
import { openTestHost } from "./durable-harness.js";

const enabled = await postgresTestsEnabled();

describe.skipIf(!enabled)("durable host: enqueue in the caller's transaction", () => {
  const schema = freshSchemaName();
  const bossSchema = freshSchemaName();
  let pool: pg.Pool;
  let host: PostgresBackgroundTaskHost;
  const inputs: unknown[] = [];

  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: POSTGRES_URL });
    host = await openTestHost({
      schema,
      bossSchema,
      tasks: {
        summarise: async (context) => {
          inputs.push(context.input);
          return { summary: "summarised", value: { turns: 1 } };
        },
      },
    });
    // The application's own table, written in the same transaction as the enqueue (a turn commit).
    await pool.query(`create table ${pg.escapeIdentifier(schema)}.app_turns (turn_id text primary key)`);
  });

  afterAll(async () => {
    await host?.close();
    await pool?.end();
    await dropSchema(schema);
    await dropSchema(bossSchema);
  });

  async function jobCount(taskId: string): Promise<number> {
    const { rows } = await pool.query<{ count: string }>(
      `select count(*) as count from ${pg.escapeIdentifier(bossSchema)}.job where data->>'taskId' = $1`,
      [taskId],
    );
    return Number(rows[0]?.count);
  }

  it("a committed transaction makes the turn, the task, its event and its job visible together; the task then runs", async () => {
    const taskId = `summary:${randomUUID()}`;
    const events: BackgroundTaskEvent[] = [];
    const subscription = host.subscribe({ sessionId: "s1" }).subscribe((event) => events.push(event));
    const client = await pool.connect();
    try {
      await client.query("begin");
      await client.query(`insert into ${pg.escapeIdentifier(schema)}.app_turns (turn_id) values ($1)`, ["turn-1"]);
      const record = await host.enqueue(
        { id: taskId, kind: "observer", producer: "test", scope: { sessionId: "s1" }, task: "summarise", input: { turn: "turn-1" } },
        { transaction: client },
      );
      expect(record.state).toBe("pending");
      // Not committed yet: other connections see neither the task nor its job.
      expect(await host.get(taskId)).toBeUndefined();
      expect(await jobCount(taskId)).toBe(0);
      await client.query("commit");
    } finally {
      client.release();
    }
    const ended = await host.waitForTerminal(taskId);
    expect(ended.state).toBe("completed");
    expect(ended.result).toEqual({ summary: "summarised", value: { turns: 1 } });
    expect(ended.attempt.attempt).toBe(1);
    expect(inputs).toContainEqual({ turn: "turn-1" });
    expect(await jobCount(taskId)).toBe(1);
    const turns = await pool.query(`select turn_id from ${pg.escapeIdentifier(schema)}.app_turns`);
    expect(turns.rows).toEqual([{ turn_id: "turn-1" }]);
    expect(events.filter((event) => event.taskId === taskId).map((event) => event.type)).toEqual([
      "registered",
      "state_changed",
      "completed",
    ]);
    subscription.unsubscribe();
  });

  it("a rolled-back transaction leaves no turn, no task, no event and no job", async () => {
    const taskId = `summary:${randomUUID()}`;
    const events: BackgroundTaskEvent[] = [];
    const subscription = host.subscribe().subscribe((event) => events.push(event));
    const client = await pool.connect();
    try {
      await client.query("begin");
      await client.query(`insert into ${pg.escapeIdentifier(schema)}.app_turns (turn_id) values ($1)`, ["turn-2"]);
      await host.enqueue(
        { id: taskId, kind: "observer", producer: "test", scope: { sessionId: "s1" }, task: "summarise" },
        { transaction: client },
      );
      await client.query("rollback");
    } finally {
      client.release();
    }
    expect(await host.get(taskId)).toBeUndefined();
    expect(await host.list({ includeTerminal: true })).not.toContainEqual(expect.objectContaining({ id: taskId }));
    expect(await jobCount(taskId)).toBe(0);
    const turns = await pool.query(`select turn_id from ${pg.escapeIdentifier(schema)}.app_turns where turn_id = 'turn-2'`);
    expect(turns.rows).toEqual([]);
    // A later task's events arrive; the rolled-back one never does.
    const marker = await host.register({ id: `marker:${randomUUID()}`, kind: "other", producer: "test", scope: { sessionId: "s1" } });
    expect(events.map((event) => event.taskId)).toEqual([marker.id]);
    subscription.unsubscribe();
  });

  it("a bad enqueue request is an invalid_argument error naming the field, and writes nothing", async () => {
    const error = await host
      .enqueue({ id: "bad", kind: "other", producer: "test", scope: { sessionId: "s1" }, task: "summarise", leaseSeconds: 0 })
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: "invalid_argument" });
    expect(String((error as Error).message)).toContain("leaseSeconds");
    const badName = await host
      .enqueue({ id: "bad", kind: "other", producer: "test", scope: { sessionId: "s1" }, task: "no spaces" })
      .catch((caught: unknown) => caught);
    expect(badName).toMatchObject({ code: "invalid_argument" });
    expect(await host.get("bad")).toBeUndefined();
  });
});

describe("durable host: opening", () => {
  it("an unreachable database is a store_unavailable error, and bad options an invalid_configuration one", async () => {
    const unreachable = await PostgresBackgroundTaskHost.open({ connectionString: "postgres://postgres@127.0.0.1:1/none" }).catch(
      (error: unknown) => error,
    );
    expect(unreachable).toMatchObject({ code: "store_unavailable" });
    const bad = await PostgresBackgroundTaskHost.open({ connectionString: POSTGRES_URL, leaseSeconds: -1 }).catch(
      (error: unknown) => error,
    );
    expect(bad).toMatchObject({ code: "invalid_configuration" });
    expect(String((bad as Error).message)).toContain("leaseSeconds");
  });
});
