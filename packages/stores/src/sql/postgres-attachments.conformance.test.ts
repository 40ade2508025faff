import {
  dropSchema,
  freshSchemaName,
  POSTGRES_REQUIRED,
  POSTGRES_URL,
  postgresUnavailableReason,
} from "@lash/test-infrastructure/postgres";
import { type AttachmentStoreBackend, describeAttachmentStoreConformance, sessionStoreReferences } from "@lash/testkit";
import { createSqlSessionDatabase, type SqlSessionDatabase } from "./index.js";

function open(schema: string, maxAttachmentBytes: number | undefined): SqlSessionDatabase {
  return createSqlSessionDatabase({
    connection: POSTGRES_URL,
    schema,
    maxConnections: 4,
    maxAttachmentBytes,
  });
}

/** A backend over one schema of its own; `reopen` destroys the object and opens a new one on the schema. */
function postgresBackend(schema: string, database: SqlSessionDatabase, maxAttachmentBytes: number | undefined): AttachmentStoreBackend {
  return {
    store: database.attachments,
    ...sessionStoreReferences((sessionId) => database.openSession(sessionId)),
    async reopen() {
      await database.destroy();
      return postgresBackend(schema, open(schema, maxAttachmentBytes), maxAttachmentBytes);
    },
    async close() {
      await database.destroy();
      await dropSchema(schema);
    },
  };
}

describeAttachmentStoreConformance({
  name: "postgres",
  capabilities: { durable: true },
  // Under CI an unreachable server fails every test instead of skipping them.
  skipReason: async () => (POSTGRES_REQUIRED ? undefined : postgresUnavailableReason()),
  async setup({ maxAttachmentBytes }) {
    const schema = freshSchemaName();
    const database = open(schema, maxAttachmentBytes);
    try {
      await database.migrateToLatest();
    } catch (error) {
      await database.destroy();
      throw error;
    }
    return postgresBackend(schema, database, maxAttachmentBytes);
  },
});
