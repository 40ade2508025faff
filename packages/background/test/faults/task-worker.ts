/**
 * A worker process for the fault tests: opens a durable host that runs the named tasks below, prints
 * `ready`, then one line per event of its work (`started <taskId> <attempt>`, `aborted <taskId>`),
 * until it is killed or receives SIGTERM (then it closes the host and exits).
 *
 *   node task-worker.mjs <connectionString> <schema> <bossSchema> <mode: hang|complete|spawn> [concurrency] [taskId]
 *
 * `hang`: every attempt waits until its signal aborts (a worker to kill while it holds tasks);
 * `complete`: every attempt completes at once with `done by <pid>`;
 * `spawn`: claims nothing, but runs one in-process task `taskId` (`spawnManaged` in session `s1`)
 * that waits until its signal aborts, and prints `spawned <taskId>`.
 */
import { type DurableTaskWorkContext, PostgresBackgroundTaskHost } from "../../src/postgres/index.js";

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

function untilAborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
}

async function main(): Promise<void> {
  const [connectionString, schema, bossSchema, mode, concurrency, spawnId] = process.argv.slice(2);
  if (
    !connectionString ||
    !schema ||
    !bossSchema ||
    (mode !== "hang" && mode !== "complete" && mode !== "spawn") ||
    (mode === "spawn" && !spawnId)
  ) {
    throw new Error("usage: task-worker <connectionString> <schema> <bossSchema> <hang|complete|spawn> [concurrency] [taskId]");
  }
  const work = async (context: DurableTaskWorkContext) => {
    say(`started ${context.record.id} ${context.attempt}`);
    if (mode === "complete") return { summary: `done by ${process.pid}` };
    await untilAborted(context.signal);
    say(`aborted ${context.record.id}`);
    throw new Error(`aborted in ${process.pid}`);
  };
  const host = await PostgresBackgroundTaskHost.open({
    connectionString,
    schema,
    bossSchema,
    tasks: { "fault-task": work },
    concurrency: mode === "spawn" ? 0 : concurrency === undefined ? 4 : Number(concurrency),
    pollIntervalMs: 200,
    maintenanceIntervalSeconds: 1,
    inProcessLeaseSeconds: 3,
    onError: (error) => process.stderr.write(`host error: ${error instanceof Error ? error.message : String(error)}\n`),
  });
  process.on("SIGTERM", () => {
    void host.close().then(() => process.exit(0));
  });
  if (mode === "spawn" && spawnId) {
    await host.spawnManaged({ sessionId: "s1" }, { id: spawnId, kind: "monitor", producer: "task-worker" }, async (context) => {
      say(`started ${context.record.id} ${context.attempt}`);
      await untilAborted(context.signal);
      say(`aborted ${context.record.id}`);
      throw new Error(`aborted in ${process.pid}`);
    });
    say(`spawned ${spawnId}`);
  }
  say(`ready ${host.instanceId}`);
}

main().catch((error: unknown) => {
  process.stderr.write(`task-worker failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
