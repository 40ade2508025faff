import {
  dropSchema,
  freshSchemaName,
  POSTGRES_REQUIRED,
  POSTGRES_URL,
  postgresUnavailableReason,
} from "@lash/test-infrastructure/postgres";
import { describeSessionStoreConformance, type SessionStoreBackend } from "@lash/testkit";
import { createSqlSessionDatabase, type SqlSessionDatabase } from "./index.js";

function open(schema: string): SqlSessionDatabase {
  return createSqlSessionDatabase({ connection: POSTGRES_URL, schema, maxConnections: 4 });
}

/** A backend over one schema of its own; `reopen` destroys the object and opens a new one on the schema. */
function postgresBackend(schema: string, database: SqlSessionDatabase): SessionStoreBackend {
  return {
    openSession: (sessionId) => database.openSession(sessionId),
    factory: database,
    async reopen() {
      await database.destroy();
      return postgresBackend(schema, open(schema));
    },
    async close() {
      await database.destroy();
      await dropSchema(schema);
    },
  };
}

describeSessionStoreConformance({
  name: "postgres",
  capabilities: { activePathScope: true, durable: true, sessionSummaries: true },
  // Under CI an unreachable server fails every test instead of skipping them.
  skipReason: async () => (POSTGRES_REQUIRED ? undefined : postgresUnavailableReason()),
  async setup() {
    const schema = freshSchemaName();
    const database = open(schema);
    try {
      await database.migrateToLatest();
    } catch (error) {
      await database.destroy();
      throw error;
    }
    return postgresBackend(schema, database);
  },
});
