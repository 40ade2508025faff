import { collectAttachmentIds } from "@lash/protocol";
import { describeAttachmentStoreConformance, sessionStoreReferences } from "@lash/testkit";
import { InMemoryAttachmentStore } from "./in-memory-attachment-store.js";
import { InMemorySessionDatabase } from "./in-memory-session-database.js";

/**
 * What the sessions of an in-memory database reference: the in-memory attachment store sees no
 * sessions of its own, so a host that wants `gc` gives it this kind of reference source.
 */
async function referencedIds(database: InMemorySessionDatabase): Promise<Set<string>> {
  const referenced = new Set<string>();
  let cursor: string | undefined;
  do {
    const page = database.listSessions(cursor === undefined ? {} : { cursor });
    for (const session of page.sessions) {
      const read = await database.openSession(session.sessionId).loadSession({ type: "full_graph" });
      if (read === undefined) continue;
      collectAttachmentIds(read.graph.nodes, referenced);
      collectAttachmentIds(read.checkpoint, referenced);
    }
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return referenced;
}

// The in-memory store keeps blobs as long as the object: it declares no durability.
describeAttachmentStoreConformance({
  name: "in-memory",
  capabilities: { durable: false },
  async setup({ maxAttachmentBytes }) {
    const database = new InMemorySessionDatabase();
    return {
      store: new InMemoryAttachmentStore({ maxAttachmentBytes, references: () => referencedIds(database) }),
      ...sessionStoreReferences((sessionId) => database.openSession(sessionId)),
      close: async () => {},
    };
  },
});
