import { randomUUID } from "node:crypto";
import type { BackgroundTaskEvent } from "@lash/protocol";
import { dropSchema, freshSchemaName, POSTGRES_URL, postgresTestsEnabled } from "@lash/test-infrastructure/postgres";
import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { DurableTaskRequest, PostgresBackgroundTaskHost } from "../../src/postgres/index.js";
import { startTaskWorker, type WorkerLine, type WorkerProcess } from "../faults/worker-process.js";
import { openTestHost } from "./durable-harness.js";

const enabled = await postgresTestsEnabled();

/** A timeout for waits on other processes and lease expiry, never a time assertion. */
const PROCESS_TEST_TIMEOUT_MS = 60_000;

function request(id: string, maxAttempts: number, leaseSeconds = 2): DurableTaskRequest {
  return {
    id,
    kind: "other",
    producer: "test",
    scope: { sessionId: "s1" },
    task: "fault-task",
    attempt: { attempt: 0, maxAttempts },
    leaseSeconds,
  };
}

/** Resolves once `predicate(events)` holds, checked after every event of `host`. */
function eventsUntil(
  host: PostgresBackgroundTaskHost,
  events: readonly BackgroundTaskEvent[],
  predicate: (events: readonly BackgroundTaskEvent[]) => boolean,
): Promise<void> {
  return new Promise((resolve) => {
    if (predicate(events)) return resolve();
    const subscription = host.subscribe().subscribe(() => {
      // The test's own subscription was made first, so `events` already holds this event.
      if (predicate(events)) {
        subscription.unsubscribe();
        resolve();
      }
    });
  });
}

function starts(lines: readonly WorkerLine[], taskId: string): number[] {
  return lines.filter((line) => line.word === "started" && line.values[0] === taskId).map((line) => Number(line.values[1]));
}

describe.skipIf(!enabled)("durable host: worker processes", () => {
  const schema = freshSchemaName();
  const bossSchema = freshSchemaName();
  let host: PostgresBackgroundTaskHost;
  const workers: WorkerProcess[] = [];

  beforeAll(async () => {
    // This process only enqueues and observes: it defines no tasks, so it never claims work.
    host = await openTestHost({ schema, bossSchema });
  });

  afterAll(async () => {
    await host?.close();
    await dropSchema(schema);
    await dropSchema(bossSchema);
  });

  afterEach(async () => {
    // A worker left over by a failed test must not claim the next test's tasks.
    for (const started of workers.splice(0)) await started.kill();
  });

  async function worker(mode: "hang" | "complete" | "spawn", concurrency = 4, spawnId?: string): Promise<WorkerProcess> {
    const started = await startTaskWorker(POSTGRES_URL, schema, bossSchema, mode, concurrency, spawnId);
    workers.push(started);
    return started;
  }

  it(
    "hosts that open at once with the same new task all open (its queue is created once)",
    async () => {
      const name = `fresh-${randomUUID().slice(0, 8)}`;
      const hosts = await Promise.all(
        Array.from({ length: 4 }, () =>
          openTestHost({ schema, bossSchema, queuePrefix: "fresh-", tasks: { [name]: async () => ({ summary: "ok" }) } }),
        ),
      );
      try {
        const taskId = `fresh:${randomUUID()}`;
        await hosts[0]?.enqueue({ id: taskId, kind: "other", producer: "test", scope: { sessionId: "s1" }, task: name });
        expect((await host.waitForTerminal(taskId)).state).toBe("completed");
      } finally {
        await Promise.all(hosts.map((opened) => opened.close()));
      }
    },
    PROCESS_TEST_TIMEOUT_MS,
  );

  it(
    "several worker processes share the queue: every task runs exactly once, in one of them",
    async () => {
      const pool = await Promise.all([worker("complete", 3), worker("complete", 3), worker("complete", 3)]);
      const ids = Array.from({ length: 24 }, (_, index) => `shared:${index}:${randomUUID()}`);
      for (const id of ids) await host.enqueue(request(id, 1, 60));
      const ended = await Promise.all(ids.map((id) => host.waitForTerminal(id)));
      expect(ended.map((record) => record.state)).toEqual(ids.map(() => "completed"));
      for (const id of ids) expect(pool.flatMap((process) => starts(process.lines, id))).toEqual([1]);
      const pids = new Set(ended.map((record) => record.result?.summary));
      for (const summary of pids) expect(pool.map((process) => `done by ${process.child.pid}`)).toContain(summary);
    },
    PROCESS_TEST_TIMEOUT_MS,
  );

  it(
    "a cancel requested in this process aborts the work another process runs; the task ends cancelled",
    async () => {
      const events: BackgroundTaskEvent[] = [];
      const subscription = host.subscribe().subscribe((event) => events.push(event));
      const holder = await worker("hang");
      const taskId = `cancel:${randomUUID()}`;
      await host.enqueue(request(taskId, 3, 60));
      await holder.until((lines) => starts(lines, taskId).length === 1);
      const requested = await host.requestCancel(taskId, "user pressed stop");
      expect(requested.state).toBe("cancel_requested");
      await holder.until((lines) => lines.some((line) => line.word === "aborted" && line.values[0] === taskId));
      const ended = await host.waitForTerminal(taskId);
      expect(ended.state).toBe("cancelled");
      expect(ended.failure?.summary).toBe("user pressed stop");
      // Not retried although attempts were left: a cancelled task is final.
      expect(starts(holder.lines, taskId)).toEqual([1]);
      await eventsUntil(host, events, (seen) => seen.some((event) => event.taskId === taskId && event.type === "cancelled"));
      const trail = events
        .filter((event) => event.taskId === taskId)
        .map((event) => (event.type === "state_changed" ? `state_changed:${event.state}` : event.type));
      expect(trail).toEqual(["registered", "state_changed:running", "state_changed:cancel_requested", "cancel_requested", "cancelled"]);
      subscription.unsubscribe();
      await holder.kill();
    },
    PROCESS_TEST_TIMEOUT_MS,
  );

  it(
    "workers killed with SIGKILL while holding tasks: after each lease expires another worker takes them over, within each attempt policy, and no record is lost",
    async () => {
      const events: BackgroundTaskEvent[] = [];
      const subscription = host.subscribe().subscribe((event) => events.push(event));
      // Two kills in a row: attempts 1 and 2 are lost with their workers, attempt 3 completes.
      const KILLS = 2;
      const retried = [`crash:${randomUUID()}`, `crash:${randomUUID()}`, `crash:${randomUUID()}`];
      const single = `crash-once:${randomUUID()}`;
      for (const id of retried) await host.enqueue(request(id, KILLS + 1));
      await host.enqueue(request(single, 1));
      const all = [...retried, single];

      const victims: WorkerProcess[] = [];
      for (let round = 1; round <= KILLS; round += 1) {
        const victim = await worker("hang", 8);
        victims.push(victim);
        await victim.until((lines) => retried.every((id) => starts(lines, id).length === 1));
        if (round === 1) await victim.until((lines) => starts(lines, single).length === 1);
        const live = await host.list({ sessionId: "s1" });
        expect(live.filter((record) => retried.includes(record.id)).map((record) => [record.state, record.attempt.attempt])).toEqual(
          retried.map(() => ["running", round]),
        );
        await victim.kill();
        expect((await victim.exited).signal).toBe("SIGKILL");
      }
      const rescuer = await worker("complete", 8);

      const ended = await Promise.all(all.map((id) => host.waitForTerminal(id)));
      for (const [index, id] of retried.entries()) {
        expect(ended[index]).toMatchObject({ id, state: "completed", attempt: { attempt: KILLS + 1, maxAttempts: KILLS + 1 } });
        expect(ended[index]?.result?.summary).toBe(`done by ${rescuer.child.pid}`);
        // Attempt n ran in the n-th worker and nowhere else: never more attempts than the policy allows.
        expect(victims.map((victim) => starts(victim.lines, id))).toEqual(victims.map((_, round) => [round + 1]));
        expect(starts(rescuer.lines, id)).toEqual([KILLS + 1]);
      }
      // One attempt allowed: the lost attempt fails the task, and no later worker runs it.
      expect(ended[3]).toMatchObject({ id: single, state: "failed", attempt: { attempt: 1, maxAttempts: 1 } });
      expect(ended[3]?.failure?.summary).toContain("ran past its lease");
      expect([...victims.slice(1), rescuer].flatMap((process) => starts(process.lines, single))).toEqual([]);

      // Every lost attempt was announced once; every record is still there, ended; none is left running.
      await eventsUntil(host, events, (seen) =>
        retried.every((id) => seen.some((event) => event.taskId === id && event.type === "completed")),
      );
      for (const id of retried) {
        const retrying = events.filter((event) => event.taskId === id && event.type === "retrying");
        expect(retrying.map((event) => event.type === "retrying" && event.attempt)).toEqual([2, 3]);
      }
      const records = await host.list({ sessionId: "s1", includeTerminal: true });
      expect(
        records
          .filter((record) => all.includes(record.id))
          .map((record) => record.id)
          .sort(),
      ).toEqual([...all].sort());
      expect(await host.list({ sessionId: "s1" })).toEqual([]);
      subscription.unsubscribe();
    },
    PROCESS_TEST_TIMEOUT_MS,
  );

  it(
    "cancelling a task no worker claimed yet ends it at once and cancels its job, so no worker ever runs it",
    async () => {
      const taskId = `unclaimed:${randomUUID()}`;
      // No worker runs: the job waits in its queue.
      await host.enqueue(request(taskId, 3, 60));
      const cancelled = await host.requestCancel(taskId, "not needed");
      expect(cancelled).toMatchObject({ state: "cancelled", failure: { summary: "not needed" } });
      const late = await worker("complete");
      // A marker task enqueued after it is run by the worker; the cancelled one never is.
      const marker = `marker:${randomUUID()}`;
      await host.enqueue(request(marker, 1, 60));
      expect((await host.waitForTerminal(marker)).state).toBe("completed");
      expect(starts(late.lines, taskId)).toEqual([]);
      expect(await host.get(taskId)).toEqual(cancelled);
    },
    PROCESS_TEST_TIMEOUT_MS,
  );

  it(
    "a named attempt that fails is retried through the queue by its attempt policy",
    async () => {
      const taskId = `flaky:${randomUUID()}`;
      const attempts: number[] = [];
      const local = await openTestHost({
        schema,
        bossSchema,
        queuePrefix: "local-",
        tasks: {
          "fault-task": async (context) => {
            attempts.push(context.attempt);
            if (context.attempt < 3) throw new Error(`attempt ${context.attempt} failed`);
            return { summary: "third time lucky" };
          },
        },
      });
      try {
        const events: BackgroundTaskEvent[] = [];
        const subscription = local.subscribe().subscribe((event) => events.push(event));
        await local.enqueue(request(taskId, 3, 60));
        const ended = await local.waitForTerminal(taskId);
        expect(ended).toMatchObject({
          state: "completed",
          result: { summary: "third time lucky" },
          attempt: { attempt: 3, maxAttempts: 3 },
        });
        expect(attempts).toEqual([1, 2, 3]);
        const retrying = events.filter((event) => event.taskId === taskId && event.type === "retrying");
        expect(retrying.map((event) => (event.type === "retrying" ? [event.attempt, event.error] : []))).toEqual([
          [2, "attempt 1 failed"],
          [3, "attempt 2 failed"],
        ]);
        subscription.unsubscribe();
      } finally {
        await local.close();
      }
    },
    PROCESS_TEST_TIMEOUT_MS,
  );

  it(
    "in-process work of another process: a cancel from here aborts it there; a killed owner's task is failed, not lost",
    async () => {
      const cancelled = `spawned:${randomUUID()}`;
      const owner = await worker("spawn", 0, cancelled);
      await owner.until((lines) => starts(lines, cancelled).length === 1);
      expect((await host.get(cancelled))?.state).toBe("running");
      await host.requestCancel(cancelled, "stop from another process");
      await owner.until((lines) => lines.some((line) => line.word === "aborted" && line.values[0] === cancelled));
      expect(await host.waitForTerminal(cancelled)).toMatchObject({
        state: "cancelled",
        failure: { summary: "stop from another process" },
      });

      const orphaned = `spawned:${randomUUID()}`;
      const killed = await worker("spawn", 0, orphaned);
      await killed.until((lines) => starts(lines, orphaned).length === 1);
      await killed.kill();
      // Nobody else has the function: once the owner's lease runs out, a sweep here fails the task.
      const ended = await host.waitForTerminal(orphaned);
      expect(ended.state).toBe("failed");
      expect(ended.failure?.summary).toContain("stopped");
    },
    PROCESS_TEST_TIMEOUT_MS,
  );

  it("the periodic check stops an attempt whose lease was taken over even when no event said so", async () => {
    const taskId = `taken-over:${randomUUID()}`;
    let abortReason: unknown;
    const started = new Promise<void>((resolveStarted) => {
      void host.spawnManaged({ sessionId: "s1" }, { id: taskId, kind: "monitor", producer: "test" }, async (context) => {
        resolveStarted();
        await new Promise<void>((resolve) => context.signal.addEventListener("abort", () => resolve(), { once: true }));
        abortReason = context.signal.reason;
        return { summary: "late result" };
      });
    });
    await started;
    // Another owner's claim, written without an event (a fault no public API causes).
    const admin = new pg.Client({ connectionString: POSTGRES_URL });
    await admin.connect();
    try {
      await admin.query(
        `update ${pg.escapeIdentifier(schema)}.lash_background_tasks set lease_token = $2, lease_owner = 'elsewhere' where task_id = $1`,
        [taskId, randomUUID()],
      );
    } finally {
      await admin.end();
    }
    await host.sweepExpiredLeases();
    expect(String(abortReason)).toContain("lost its lease");
    // The stale attempt's late result is fenced off: the record is the new owner's to end.
    await host.register({ id: `marker:${randomUUID()}`, kind: "other", producer: "test", scope: { sessionId: "s1" } });
    expect((await host.get(taskId))?.state).toBe("running");
    await host.complete(taskId, { state: "failed", summary: "ended by its new owner" });
  });

  it(
    "closing a worker host hands its named attempt back to the queue and ends its in-process tasks cancelled",
    async () => {
      const named = `handover:${randomUUID()}`;
      const managed = `handover-managed:${randomUUID()}`;
      let markStarted: () => void = () => {};
      const started = new Promise<void>((resolve) => (markStarted = resolve));
      const closing = await openTestHost({
        schema,
        bossSchema,
        queuePrefix: "handover-",
        tasks: {
          "fault-task": async (context) => {
            markStarted();
            await new Promise<void>((resolve) => context.signal.addEventListener("abort", () => resolve(), { once: true }));
            throw new Error("stopped");
          },
        },
      });
      await closing.enqueue(request(named, 2, 60));
      await started;
      await closing.spawnManaged({ sessionId: "s1" }, { id: managed, kind: "monitor", producer: "test" }, () => new Promise(() => {}));
      await closing.close();
      expect(await host.get(managed)).toMatchObject({ state: "cancelled", failure: { summary: "host closed" } });
      expect(await host.get(named)).toMatchObject({ state: "running", attempt: { attempt: 2 } });

      const next = await openTestHost({
        schema,
        bossSchema,
        queuePrefix: "handover-",
        tasks: { "fault-task": async (context) => ({ summary: `attempt ${context.attempt}` }) },
      });
      try {
        expect(await host.waitForTerminal(named)).toMatchObject({ state: "completed", result: { summary: "attempt 2" } });
      } finally {
        await next.close();
      }
    },
    PROCESS_TEST_TIMEOUT_MS,
  );
});
