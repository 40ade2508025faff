import type { GcReport, VacuumReport } from "@lash/protocol";
import { LashError } from "@lash/protocol";
import { chunked } from "./sql-commit.js";
import { storedInteger } from "./sql-rows.js";
import type { SqlStoreContext } from "./sql-store-context.js";

/**
 * Deletes everything the session owns in one transaction. The head goes first: in PostgreSQL that
 * takes the head row's lock, so a commit in flight finishes before (or conflicts after) the delete.
 */
export async function deleteSession(context: SqlStoreContext, sessionId: string): Promise<void> {
  await context.write(async (database) => {
    await database.deleteFrom("lash_heads").where("session_id", "=", sessionId).execute();
    await database.deleteFrom("lash_graph_nodes").where("session_id", "=", sessionId).execute();
    await database.deleteFrom("lash_usage_deltas").where("session_id", "=", sessionId).execute();
    await database.deleteFrom("lash_commits").where("session_id", "=", sessionId).execute();
    await database.deleteFrom("lash_blobs").where("session_id", "=", sessionId).execute();
    await database.deleteFrom("lash_session_meta").where("session_id", "=", sessionId).execute();
    await database.deleteFrom("lash_session_summaries").where("session_id", "=", sessionId).execute();
  });
}

/** Marks nodes tombstoned (unknown ids are ignored) and recounts the head's live nodes. */
export async function tombstoneNodes(context: SqlStoreContext, sessionId: string, nodeIds: readonly string[]): Promise<void> {
  if (!Array.isArray(nodeIds) || nodeIds.some((nodeId) => typeof nodeId !== "string")) {
    throw new LashError("invalid_argument", "tombstoneNodes needs an array of node id strings");
  }
  const unique = [...new Set(nodeIds)];
  if (unique.length === 0) return;
  await context.write(async (database) => {
    await context.lockHead(database, sessionId);
    for (const ids of chunked(unique)) {
      await database
        .updateTable("lash_graph_nodes")
        .set({ tombstoned: 1 })
        .where("session_id", "=", sessionId)
        .where("node_id", "in", ids)
        .where("tombstoned", "=", 0)
        .execute();
    }
    const counted = await database
      .selectFrom("lash_graph_nodes")
      .select((expression) => expression.fn.countAll<number | string | bigint>().as("count"))
      .where("session_id", "=", sessionId)
      .where("tombstoned", "=", 0)
      .executeTakeFirstOrThrow();
    await database
      .updateTable("lash_heads")
      .set({ node_count: storedInteger(counted.count, sessionId, "head.nodeCount") })
      .where("session_id", "=", sessionId)
      .execute();
  });
}

/** Deletes the session's tombstoned nodes for good (their ids become free again). */
export async function vacuum(context: SqlStoreContext, sessionId: string): Promise<VacuumReport> {
  return context.write(async (database) => {
    await context.lockHead(database, sessionId);
    const result = await database
      .deleteFrom("lash_graph_nodes")
      .where("session_id", "=", sessionId)
      .where("tombstoned", "=", 1)
      .executeTakeFirst();
    return { removedNodeCount: Number(result.numDeletedRows) };
  });
}

/**
 * Deletes the session's blobs that the head's checkpoint does not reach. A checkpoint is a single
 * manifest blob today, so the reachable set is the head's `checkpoint_ref` alone. The head row is
 * locked first, so a concurrent commit cannot add a new checkpoint between the read and the delete.
 */
export async function gcUnreachable(context: SqlStoreContext, sessionId: string): Promise<GcReport> {
  return context.write(async (database) => {
    await context.lockHead(database, sessionId);
    const head = await database.selectFrom("lash_heads").select("checkpoint_ref").where("session_id", "=", sessionId).executeTakeFirst();
    let deletion = database.deleteFrom("lash_blobs").where("session_id", "=", sessionId);
    if (head !== undefined) deletion = deletion.where("hash", "!=", head.checkpoint_ref);
    const deleted = await deletion.executeTakeFirst();
    const retained = await database
      .selectFrom("lash_blobs")
      .select((expression) => expression.fn.countAll<number | string | bigint>().as("count"))
      .where("session_id", "=", sessionId)
      .executeTakeFirstOrThrow();
    return {
      rootCount: head === undefined ? 0 : 1,
      retainedBlobCount: storedInteger(retained.count, sessionId, "blobs.count"),
      deletedBlobCount: Number(deleted.numDeletedRows),
    };
  });
}
