import { describeSessionStoreConformance, type SessionStoreBackend } from "@lash/testkit";
import { createSqliteTestFolder, type SqliteTestFolder } from "../../test/sqlite.js";
import { createSqlSessionDatabase, type SqlSessionDatabase } from "./index.js";

/** A backend over one database file; `reopen` destroys the object and opens a new one on the file. */
function sqliteBackend(folder: SqliteTestFolder, database: SqlSessionDatabase): SessionStoreBackend {
  return {
    openSession: (sessionId) => database.openSession(sessionId),
    factory: database,
    async reopen() {
      await database.destroy();
      return sqliteBackend(folder, createSqlSessionDatabase({ connection: folder.connection() }));
    },
    async close() {
      await database.destroy();
      await folder.remove();
    },
  };
}

describeSessionStoreConformance({
  name: "sqlite",
  capabilities: { activePathScope: true, durable: true, sessionSummaries: true },
  async setup() {
    const folder = await createSqliteTestFolder();
    const database = createSqlSessionDatabase({ connection: folder.connection() });
    await database.migrateToLatest();
    return sqliteBackend(folder, database);
  },
});
