import {
  dropSchema,
  freshSchemaName,
  POSTGRES_REQUIRED,
  POSTGRES_URL,
  postgresUnavailableReason,
} from "@lash/test-infrastructure/postgres";
import type { BackgroundTaskHostHarness, BackgroundTaskHostInstance } from "@lash/testkit";
import { PostgresBackgroundTaskHost, type PostgresBackgroundTaskHostOptions } from "../../src/postgres/index.js";

/** Short intervals so that tests do not wait on defaults meant for production. */
export const FAST_TEST_OPTIONS = {
  pollIntervalMs: 200,
  maintenanceIntervalSeconds: 1,
  inProcessLeaseSeconds: 3,
} satisfies Partial<PostgresBackgroundTaskHostOptions>;

/** Opens a durable host on the test database with fast intervals. */
export function openTestHost(
  options: Partial<PostgresBackgroundTaskHostOptions> & { schema: string; bossSchema: string },
): Promise<PostgresBackgroundTaskHost> {
  return PostgresBackgroundTaskHost.open({
    connectionString: POSTGRES_URL,
    ...FAST_TEST_OPTIONS,
    onError: (error) => console.error("[durable host]", error),
    ...options,
  });
}

/**
 * The conformance harness of the durable host: every test gets its own lash schema (pg-boss's schema
 * is shared by the file and dropped by `dropAll`).
 */
export function durableHarness(): BackgroundTaskHostHarness & { dropAll(): Promise<void> } {
  const bossSchema = freshSchemaName();
  const schemas = new Set<string>([bossSchema]);
  const instance = async (schema: string): Promise<BackgroundTaskHostInstance> => {
    const host = await openTestHost({ schema, bossSchema });
    return {
      host,
      reopen: async () => {
        await host.close();
        return instance(schema);
      },
      close: () => host.close(),
    };
  };
  return {
    name: "postgres (pg-boss)",
    capabilities: { inProcessWork: true, retries: true, concurrencyLimit: false, durable: true },
    async create() {
      const schema = freshSchemaName();
      schemas.add(schema);
      return instance(schema);
    },
    async skipReason() {
      const reason = await postgresUnavailableReason();
      if (reason !== undefined && POSTGRES_REQUIRED) throw new Error(reason);
      return reason;
    },
    async dropAll() {
      if ((await postgresUnavailableReason()) !== undefined) return;
      for (const schema of schemas) await dropSchema(schema);
    },
  };
}
