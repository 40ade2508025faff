import { createSubagentTools, LocalBackgroundTaskHost } from "@lash/background";
import { PostgresBackgroundTaskHost } from "@lash/background/postgres";
import { RuntimeEnvironment } from "@lash/core";
import type { BackgroundTaskHost, BackgroundTaskRecord, ModelProvider } from "@lash/protocol";
import { formatTable } from "../render/text-table.js";
import type { CliStore } from "../store/open-store.js";

/** A command's background task host, and whether other processes can see its tasks. */
export interface CliTaskHost {
  readonly host: BackgroundTaskHost;
  /** True on a PostgreSQL store: tasks are records in the database, listed and cancelled from any process. */
  readonly durable: boolean;
  /** Settles tasks whose process died (their lease expired): failed or retried by their attempt policy. */
  settleAbandoned(): Promise<void>;
  close(): Promise<void>;
}

/** The background side of a command's sessions: a task host and the environment that offers subagents. */
export interface TaskEnvironment extends CliTaskHost {
  readonly environment: RuntimeEnvironment;
}

/**
 * The task host of a store. On PostgreSQL it is the durable host, in the store's database: the tables
 * go in the schema `lash_background` (`<schema>_background` when the store URL names a `schema`) and
 * pg-boss's in `pgboss` (`<schema>_pgboss`). This process runs no named tasks (`concurrency: 0`): its
 * subagents are in-process work whose records, leases and cancellation live in the database. Other
 * stores get the in-process host, whose tasks end with the process.
 */
export async function openTaskHost(store: CliStore): Promise<CliTaskHost> {
  if (store.postgres !== undefined) {
    const { connection, schema } = store.postgres;
    const host = await PostgresBackgroundTaskHost.open({
      connectionString: connection,
      schema: schema === undefined ? "lash_background" : `${schema}_background`,
      bossSchema: schema === undefined ? "pgboss" : `${schema}_pgboss`,
      concurrency: 0,
    });
    return { host, durable: true, settleAbandoned: () => host.sweepExpiredLeases(), close: () => host.close() };
  }
  const host = new LocalBackgroundTaskHost();
  return { host, durable: false, settleAbandoned: async () => undefined, close: () => host.close() };
}

/**
 * An environment whose sessions can start subagents (`spawn_agent`, `await_agent`, `cancel_agent`,
 * `list_agents`) as background tasks of the store's task host (`openTaskHost`). Child sessions are
 * stored next to their parent, and nest at most two deep. `close()` when the command ends.
 */
export async function createTaskEnvironment(provider: ModelProvider, store: CliStore): Promise<TaskEnvironment> {
  const tasks = await openTaskHost(store);
  const environment = RuntimeEnvironment.builder()
    .withProvider(provider)
    .withBackgroundTaskHost(tasks.host)
    .withToolProvider(createSubagentTools({ maxDepth: 2 }))
    .withSessionStoreFactory(store.factory)
    .build();
  return { ...tasks, environment };
}

/** Background tasks as a table: id, kind, state, session, age, summary. */
export function formatTaskTable(records: readonly BackgroundTaskRecord[], now = Date.now()): string {
  const age = (since: number): string => {
    const seconds = Math.max(0, Math.round((now - since) / 1000));
    return seconds < 120 ? `${seconds}s` : `${Math.round(seconds / 60)}m`;
  };
  return formatTable(
    ["ID", "KIND", "STATE", "SESSION", "STARTED", "SUMMARY"],
    records.map((record) => [
      record.id,
      record.kind,
      record.state,
      record.scope.sessionId,
      `${age(record.createdAt)} ago`,
      (record.result?.summary ?? record.failure?.summary ?? "").replaceAll("\n", " ").slice(0, 60),
    ]),
  );
}
