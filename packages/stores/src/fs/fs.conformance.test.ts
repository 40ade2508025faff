import { describeSessionStoreConformance, type SessionStoreBackend } from "@lash/testkit";
import { type TemporaryRoot, temporaryRoot } from "../../test/fixtures.js";
import { createFileSessionDatabase, type FileSessionDatabase } from "./index.js";

/** A backend over one root; `reopen` drops the database object and opens a new one on the same root. */
function fileBackend(root: TemporaryRoot, database: FileSessionDatabase): SessionStoreBackend {
  return {
    openSession: (sessionId) => database.openSession(sessionId),
    factory: database,
    async reopen() {
      await database.close();
      return fileBackend(root, createFileSessionDatabase({ root: root.path }));
    },
    async close() {
      await database.close();
      await root.remove();
    },
  };
}

describeSessionStoreConformance({
  name: "filesystem",
  capabilities: { activePathScope: true, durable: true, sessionSummaries: true },
  async setup() {
    const root = await temporaryRoot();
    return fileBackend(root, createFileSessionDatabase({ root: root.path }));
  },
});
