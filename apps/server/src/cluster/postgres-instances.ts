import { PostgresBackgroundTaskHost } from "@lash/background/postgres";
import type { BackgroundTaskHost } from "@lash/protocol";
import { type AgentProfile, profilesWantTaskHost } from "../profiles/agent-profile.js";
import type { ServerStore } from "../store/server-store.js";
import { createPostgresTurnCluster } from "./postgres-turn-cluster.js";
import type { TurnCluster } from "./turn-cluster.js";

/** What the instances serving one PostgreSQL store share besides the sessions, as `startServer` opened it. */
export interface SharedInstanceResources {
  /** The turns of every instance: cross-instance cancel and reattach (absent when the caller gave its own). */
  readonly cluster?: TurnCluster;
  /** The durable task host subagents run on (absent without subagents, or when the caller gave its own). */
  readonly backgroundTaskHost?: BackgroundTaskHost;
  /** Closes what was opened here (after the server drained). */
  close(): Promise<void>;
}

/**
 * Opens what lets several server processes serve one PostgreSQL store, for what the caller did not
 * give: the turn cluster (table `lash_server_turns` in the server's schema, LISTEN/NOTIFY on the
 * schema's channel) and, when a profile has subagents, the durable task host of
 * `@lash/background/postgres` in the schemas the `lash` command uses for the same store
 * (`lash_background` and `pgboss`, or `<schema>_background` and `<schema>_pgboss`), so `lash tasks
 * list` shows the server's tasks too. This process runs no named tasks: its subagents are
 * in-process work whose records, leases and cancellation live in the database. Any other store:
 * nothing to open.
 */
export async function openSharedInstanceResources(options: {
  readonly store: ServerStore;
  readonly profiles: Readonly<Record<string, AgentProfile>>;
  readonly cluster?: TurnCluster | undefined;
  readonly backgroundTaskHost?: BackgroundTaskHost | undefined;
}): Promise<SharedInstanceResources> {
  const target = options.store.postgres;
  if (target === undefined) return { close: async () => undefined };
  const cluster =
    options.cluster === undefined
      ? await createPostgresTurnCluster({ connectionString: target.connectionString, schema: target.schema })
      : undefined;
  let host: PostgresBackgroundTaskHost | undefined;
  if (options.backgroundTaskHost === undefined && profilesWantTaskHost(options.profiles)) {
    try {
      host = await PostgresBackgroundTaskHost.open({
        connectionString: target.connectionString,
        schema: target.schema === undefined ? "lash_background" : `${target.schema}_background`,
        bossSchema: target.schema === undefined ? "pgboss" : `${target.schema}_pgboss`,
        concurrency: 0,
      });
    } catch (error) {
      await cluster?.close();
      throw error;
    }
  }
  return {
    ...(cluster === undefined ? {} : { cluster }),
    ...(host === undefined ? {} : { backgroundTaskHost: host }),
    close: async () => {
      await cluster?.close();
      await host?.close();
    },
  };
}
