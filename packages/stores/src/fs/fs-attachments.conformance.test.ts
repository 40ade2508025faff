import { type AttachmentStoreBackend, describeAttachmentStoreConformance, sessionStoreReferences } from "@lash/testkit";
import { type TemporaryRoot, temporaryRoot } from "../../test/fixtures.js";
import { createFileSessionDatabase, type FileSessionDatabase } from "./index.js";

/** A backend over one root; `reopen` drops the database object and opens a new one on the same root. */
function fileBackend(root: TemporaryRoot, database: FileSessionDatabase, maxAttachmentBytes: number | undefined): AttachmentStoreBackend {
  return {
    store: database.attachments,
    ...sessionStoreReferences((sessionId) => database.openSession(sessionId)),
    async reopen() {
      await database.close();
      const reopened = createFileSessionDatabase({ root: root.path, maxAttachmentBytes });
      return fileBackend(root, reopened, maxAttachmentBytes);
    },
    async close() {
      await database.close();
      await root.remove();
    },
  };
}

describeAttachmentStoreConformance({
  name: "filesystem",
  capabilities: { durable: true },
  async setup({ maxAttachmentBytes }) {
    const root = await temporaryRoot();
    return fileBackend(root, createFileSessionDatabase({ root: root.path, maxAttachmentBytes }), maxAttachmentBytes);
  },
});
