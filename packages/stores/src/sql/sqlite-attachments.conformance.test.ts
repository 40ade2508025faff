import { type AttachmentStoreBackend, describeAttachmentStoreConformance, sessionStoreReferences } from "@lash/testkit";
import { createSqliteTestFolder, type SqliteTestFolder } from "../../test/sqlite.js";
import { createSqlSessionDatabase, type SqlSessionDatabase } from "./index.js";

/** A backend over one database file; `reopen` destroys the object and opens a new one on the file. */
function sqliteBackend(
  folder: SqliteTestFolder,
  database: SqlSessionDatabase,
  maxAttachmentBytes: number | undefined,
): AttachmentStoreBackend {
  return {
    store: database.attachments,
    ...sessionStoreReferences((sessionId) => database.openSession(sessionId)),
    async reopen() {
      await database.destroy();
      const reopened = createSqlSessionDatabase({ connection: folder.connection(), maxAttachmentBytes });
      return sqliteBackend(folder, reopened, maxAttachmentBytes);
    },
    async close() {
      await database.destroy();
      await folder.remove();
    },
  };
}

describeAttachmentStoreConformance({
  name: "sqlite",
  capabilities: { durable: true },
  async setup({ maxAttachmentBytes }) {
    const folder = await createSqliteTestFolder();
    const database = createSqlSessionDatabase({ connection: folder.connection(), maxAttachmentBytes });
    await database.migrateToLatest();
    return sqliteBackend(folder, database, maxAttachmentBytes);
  },
});
