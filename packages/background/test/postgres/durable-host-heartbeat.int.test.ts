import { randomUUID } from "node:crypto";
import type { BackgroundTaskEvent } from "@lash/protocol";
import { dropSchema, freshSchemaName, POSTGRES_URL, postgresTestsEnabled } from "@lash/test-infrastructure/postgres";
import pg from "pg";
import { PgBoss } from "pg-boss";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DurableTaskWorkContext, PostgresBackgroundTaskHost } from "../../src/postgres/index.js";
import { openTestHost } from "./durable-harness.js";

const enabled = await postgresTestsEnabled();

/** A timeout for waits on leases and sweeps, never a time assertion. */
const HEARTBEAT_TEST_TIMEOUT_MS = 60_000;
const LEASE_SECONDS = 2;

/** What the long attempt saw while it ran. */
interface Observed {
  attempts: number[];
  claimedLease?: Date;
  renewedLease?: Date;
  jobStartedOn?: Date;
  jobHeartbeatOn?: Date | null;
  abortedWhileRunning?: boolean;
}

describe.skipIf(!enabled)("durable host: a named attempt keeps its lease while it runs", () => {
  const schema = freshSchemaName();
  const bossSchema = freshSchemaName();
  const queuePrefix = "beat-";
  const taskName = "long-task";
  let admin: pg.Client;
  let observer: PostgresBackgroundTaskHost;
  let worker: PostgresBackgroundTaskHost;
  let boss: PgBoss;
  const observed: Observed = { attempts: [] };

  async function leaseOf(taskId: string): Promise<Date> {
    const { rows } = await admin.query<{ lease_expires_at: Date }>(
      `select lease_expires_at from ${pg.escapeIdentifier(schema)}.lash_background_tasks where task_id = $1`,
      [taskId],
    );
    const lease = rows[0]?.lease_expires_at;
    if (lease === undefined) throw new Error(`task ${taskId} has no lease`);
    return lease;
  }

  /** Waits until the database clock is past `moment` (the lease's own clock, so no local clock is trusted). */
  async function untilDatabasePasses(moment: Date): Promise<void> {
    for (;;) {
      const { rows } = await admin.query<{ passed: boolean }>("select now() > $1::timestamptz as passed", [moment]);
      if (rows[0]?.passed === true) return;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  /**
   * Runs until a whole lease after the lease it was claimed with ran out (two leases in all), then has
   * both hosts sweep, so a lease that was not renewed would have been taken from it; then completes.
   */
  async function longAttempt(context: DurableTaskWorkContext): Promise<{ summary: string }> {
    const taskId = context.record.id;
    observed.attempts.push(context.attempt);
    const claimedLease = await leaseOf(taskId);
    observed.claimedLease = claimedLease;
    await untilDatabasePasses(new Date(claimedLease.getTime() + LEASE_SECONDS * 1000));
    await observer.sweepExpiredLeases();
    await worker.sweepExpiredLeases();
    observed.renewedLease = await leaseOf(taskId);
    const [job] = await boss.findJobs(`${queuePrefix}${taskName}`, { data: { taskId } });
    observed.jobStartedOn = job?.startedOn;
    observed.jobHeartbeatOn = job?.heartbeatOn;
    observed.abortedWhileRunning = context.signal.aborted;
    return { summary: "ran through" };
  }

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: POSTGRES_URL });
    await admin.connect();
    // The observer defines no tasks (only the worker claims), but it enqueues to the same queues.
    observer = await openTestHost({ schema, bossSchema, queuePrefix });
    worker = await openTestHost({ schema, bossSchema, queuePrefix, tasks: { [taskName]: longAttempt } });
    // A second pg-boss client on the same schema reads the job as pg-boss keeps it.
    boss = new PgBoss({ connectionString: POSTGRES_URL, schema: bossSchema, supervise: false, schedule: false, migrate: false, max: 2 });
    boss.on("error", (error) => console.error("[pg-boss]", error));
    await boss.start();
  });

  afterAll(async () => {
    await worker?.close();
    await observer?.close();
    await boss?.stop({ graceful: false });
    await admin?.end();
    await dropSchema(schema);
    await dropSchema(bossSchema);
  });

  it(
    "an attempt that runs well past its lease completes once, is not retried, and renews both its lease row and its pg-boss job",
    async () => {
      const events: BackgroundTaskEvent[] = [];
      const subscription = observer.subscribe().subscribe((event) => events.push(event));
      const taskId = `long:${randomUUID()}`;
      await observer.enqueue({
        id: taskId,
        kind: "other",
        producer: "test",
        scope: { sessionId: "s1" },
        task: taskName,
        attempt: { attempt: 0, maxAttempts: 3 },
        leaseSeconds: LEASE_SECONDS,
      });
      const ended = await observer.waitForTerminal(taskId);
      subscription.unsubscribe();

      expect(ended).toMatchObject({ state: "completed", result: { summary: "ran through" }, attempt: { attempt: 1, maxAttempts: 3 } });
      expect(observed.attempts).toEqual([1]);
      expect(observed.abortedWhileRunning).toBe(false);
      // The lease row was moved past the lease the claim wrote, and pg-boss saw heartbeats after the claim.
      expect(observed.renewedLease?.getTime()).toBeGreaterThan(observed.claimedLease?.getTime() ?? Number.POSITIVE_INFINITY);
      expect(observed.jobHeartbeatOn?.getTime()).toBeGreaterThan(observed.jobStartedOn?.getTime() ?? Number.POSITIVE_INFINITY);
      const trail = events
        .filter((event) => event.taskId === taskId)
        .map((event) => (event.type === "state_changed" ? `state_changed:${event.state}` : event.type));
      expect(trail).toEqual(["registered", "state_changed:running", "completed"]);
      const [job] = await boss.findJobs(`${queuePrefix}${taskName}`, { data: { taskId } });
      expect(job).toMatchObject({ state: "completed", retryCount: 0 });
    },
    HEARTBEAT_TEST_TIMEOUT_MS,
  );
});
