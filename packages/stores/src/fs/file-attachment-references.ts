import { collectAttachmentIds, type SessionStore } from "@lash/protocol";
import type { FileAccess } from "./file-access.js";
import { listSessions } from "./session-listing.js";

/** Sessions listed per page while gathering references. */
const PAGE = 500;

/**
 * Every attachment id the sessions under `root` reference: in their live graph nodes (a full load,
 * which leaves tombstoned nodes out) and in their head checkpoints. The references are read from
 * the sessions each time rather than recorded at commit time, so a commit writes no extra file and
 * a deleted session's references are gone with it. A session that cannot be loaded throws
 * (`InvalidPersistedDataError`): what it references is unknown, so nothing may be collected.
 */
export async function referencedAttachmentIds(
  access: FileAccess,
  root: string,
  openSession: (sessionId: string) => SessionStore,
): Promise<Set<string>> {
  const referenced = new Set<string>();
  let cursor: string | undefined;
  do {
    const page = await listSessions(access, root, cursor === undefined ? { limit: PAGE } : { limit: PAGE, cursor });
    for (const session of page.sessions) {
      const read = await openSession(session.sessionId).loadSession({ type: "full_graph" });
      if (read === undefined) continue;
      for (const node of read.graph.nodes) collectAttachmentIds(node, referenced);
      if (read.checkpoint !== undefined) collectAttachmentIds(read.checkpoint, referenced);
    }
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return referenced;
}
