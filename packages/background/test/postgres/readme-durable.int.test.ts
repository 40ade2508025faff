import { dropSchema, freshSchemaName, POSTGRES_URL, postgresTestsEnabled } from "@lash/test-infrastructure/postgres";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { PostgresBackgroundTaskHost } from "../../src/postgres/index.js";

const enabled = await postgresTestsEnabled();

// The README's "Durable host (PostgreSQL)" examples, run as written on the test database (with the
// test's own schemas, short intervals, and console output captured instead of printed).
describe.skipIf(!enabled)("README examples: durable host", () => {
  const schema = freshSchemaName();
  const bossSchema = freshSchemaName();
  const testOptions = { schema, bossSchema, pollIntervalMs: 200, maintenanceIntervalSeconds: 1 };

  afterAll(async () => {
    await dropSchema(schema);
    await dropSchema(bossSchema);
  });

  it("a worker process, enqueueing, observing, cancelling, and enqueueing in your own transaction", async () => {
    const logged: string[] = [];
    const console = { log: (...values: unknown[]) => logged.push(values.map(String).join(" ")) };

    // A worker process.
    const worker = await PostgresBackgroundTaskHost.open({
      connectionString: POSTGRES_URL,
      ...testOptions,
      tasks: {
        "summarise-session": async ({ input, attempt, signal, progress }) => {
          await progress(`attempt ${attempt} started`);
          const sessionId = (input as { sessionId: string }).sessionId;
          signal.throwIfAborted();
          return { summary: `summarised ${sessionId}`, value: { sessionId } };
        },
      },
      concurrency: 4,
      leaseSeconds: 300,
    });

    // Enqueueing, observing, cancelling.
    const pool = new pg.Pool({ connectionString: POSTGRES_URL });
    const host = await PostgresBackgroundTaskHost.open({ pool, ...testOptions });
    host.subscribe({ sessionId: "session-1" }).subscribe((event) => console.log(event.type, event.record.state));
    await host.enqueue({
      id: "summary:session-1:turn-7",
      kind: "observer",
      producer: "summariser",
      scope: { sessionId: "session-1" },
      task: "summarise-session",
      input: { sessionId: "session-1" },
      attempt: { attempt: 0, maxAttempts: 3 },
    });
    const ended = await host.waitForTerminal("summary:session-1:turn-7");
    console.log(ended.state, ended.result?.summary);
    expect(logged.at(-1)).toBe("completed summarised session-1");

    await host.enqueue({
      id: "long-job",
      kind: "other",
      producer: "app",
      scope: { sessionId: "session-1" },
      task: "summarise-session",
      input: { sessionId: "session-1" },
    });
    await host.requestCancel("long-job", "user pressed stop");
    // Either the worker finished it first, or the cancel ended it: it never stays live.
    expect(["completed", "cancelled"]).toContain((await host.waitForTerminal("long-job")).state);

    // Enqueueing in your own transaction (the app's table lives in the test schema).
    await pool.query(`create table ${pg.escapeIdentifier(schema)}.app_turns (turn_id text primary key)`);
    const client = await pool.connect();
    try {
      await client.query("begin");
      await client.query(`insert into ${pg.escapeIdentifier(schema)}.app_turns (turn_id) values ($1)`, ["turn-7"]);
      await host.enqueue(
        {
          id: "summary:turn-7",
          kind: "observer",
          producer: "app",
          scope: { sessionId: "session-1" },
          task: "summarise-session",
          input: { sessionId: "session-1" },
        },
        { transaction: client },
      );
      await client.query("commit");
    } finally {
      client.release();
    }
    expect((await host.waitForTerminal("summary:turn-7")).state).toBe("completed");

    await host.close();
    await pool.end();
    await worker.close();
    expect(logged.slice(0, 3)).toEqual(["registered pending", "state_changed running", "progress running"]);
  });
});
