import type { AttachmentGcReport } from "@lash/protocol";
import { ATTACHMENT_REFERENCE_MARKERS, collectAttachmentIds } from "@lash/protocol";
import type { ExpressionBuilder, Kysely } from "kysely";
import { chunked } from "./sql-commit.js";
import { parseStoredJson } from "./sql-rows.js";
import type { LashSqlSchema } from "./sql-schema.js";
import type { SqlStoreContext } from "./sql-store-context.js";

/** Rows read per query while looking for references, and blobs considered per deletion. */
const PAGE = 200;

/** `LIKE` patterns for text that contains a marker (none holds `%` or backslash; `_` only matches itself too). */
const REFERENCE_PATTERNS = ATTACHMENT_REFERENCE_MARKERS.map((marker) => `%${marker}%`);

/** Graph rows that may hold an attachment reference (see `ATTACHMENT_REFERENCE_MARKERS`). */
function nodeMayReference(where: ExpressionBuilder<LashSqlSchema, "lash_graph_nodes">) {
  return where.or(REFERENCE_PATTERNS.map((pattern) => where("node_json", "like", pattern)));
}

/** Checkpoint blobs that may hold an attachment reference. */
function checkpointMayReference(where: ExpressionBuilder<LashSqlSchema, "lash_heads" | "lash_blobs">) {
  return where.or(REFERENCE_PATTERNS.map((pattern) => where("lash_blobs.content", "like", pattern)));
}

/*
 * Which session references which attachment is read from the sessions' own rows when `gc` runs,
 * not kept in a table of its own: a commit then writes nothing for its images (the commit paths of
 * both dialects stay as they are), deleting a session or vacuuming its nodes needs no bookkeeping,
 * and a reference can never be out of date. The price is a scan of the live graph nodes at each
 * `gc`, narrowed by `LIKE` to the rows that can hold a reference before any JSON is parsed.
 */

/** Every attachment id the live nodes and the head checkpoints of every session reference. */
export async function referencedAttachmentIds(context: SqlStoreContext): Promise<Set<string>> {
  const referenced = new Set<string>();
  let nodeCursor: { sessionId: string; seq: number } | undefined;
  for (;;) {
    const cursor = nodeCursor;
    const rows = await context.query((database) => {
      let query = database
        .selectFrom("lash_graph_nodes")
        .select(["session_id", "seq", "node_id", "node_json"])
        .where("tombstoned", "=", 0)
        .where(nodeMayReference);
      if (cursor !== undefined) {
        query = query.where((where) =>
          where.or([
            where("session_id", ">", cursor.sessionId),
            where.and([where("session_id", "=", cursor.sessionId), where("seq", ">", cursor.seq)]),
          ]),
        );
      }
      return query.orderBy("session_id").orderBy("seq").limit(PAGE).execute();
    });
    for (const row of rows) {
      const source = `lash_graph_nodes.node_json of node \`${row.node_id}\``;
      collectAttachmentIds(parseStoredJson(row.node_json, row.session_id, `graph.nodes.${row.node_id}`, source), referenced);
    }
    const last = rows.at(-1);
    if (last === undefined || rows.length < PAGE) break;
    nodeCursor = { sessionId: last.session_id, seq: Number(last.seq) };
  }
  let headCursor: string | undefined;
  for (;;) {
    const after = headCursor;
    const rows = await context.query((database) => {
      let query = database
        .selectFrom("lash_heads")
        .innerJoin("lash_blobs", (join) =>
          join.onRef("lash_blobs.session_id", "=", "lash_heads.session_id").onRef("lash_blobs.hash", "=", "lash_heads.checkpoint_ref"),
        )
        .select(["lash_heads.session_id as session_id", "lash_blobs.content as content"])
        .where(checkpointMayReference);
      if (after !== undefined) query = query.where("lash_heads.session_id", ">", after);
      return query.orderBy("lash_heads.session_id").limit(PAGE).execute();
    });
    for (const row of rows)
      collectAttachmentIds(parseStoredJson(row.content, row.session_id, "checkpoint", "lash_blobs.content"), referenced);
    const last = rows.at(-1);
    if (last === undefined || rows.length < PAGE) break;
    headCursor = last.session_id;
  }
  return referenced;
}

/** Deletes the given blobs when they are still older than `cutoff` (a `put` since renews them). */
async function deleteOldBlobs(
  database: Kysely<LashSqlSchema>,
  ids: readonly string[],
  cutoff: string,
): Promise<{ count: number; bytes: number }> {
  const deleted = await database
    .deleteFrom("lash_attachments")
    .where("attachment_id", "in", ids)
    .where("stored_at", "<=", cutoff)
    .returning(["attachment_id", "byte_length"])
    .execute();
  if (deleted.length === 0) return { count: 0, bytes: 0 };
  await database
    .deleteFrom("lash_attachment_chunks")
    .where(
      "attachment_id",
      "in",
      deleted.map((row) => row.attachment_id),
    )
    .execute();
  return { count: deleted.length, bytes: deleted.reduce((sum, row) => sum + Number(row.byte_length), 0) };
}

/**
 * `AttachmentStore.gc` on a SQL database: gathers the references first (a damaged row throws before
 * anything is deleted), then pages through the blobs stored at least `minimumAgeMs` ago and deletes
 * the unreferenced ones, each page in one write transaction.
 */
export async function collectUnreferencedAttachments(context: SqlStoreContext, minimumAgeMs: number): Promise<AttachmentGcReport> {
  const cutoff = new Date(Date.now() - minimumAgeMs).toISOString();
  const referenced = await referencedAttachmentIds(context);
  let deletedCount = 0;
  let deletedBytes = 0;
  let cursor: string | undefined;
  for (;;) {
    const after = cursor;
    const page = await context.query((database) => {
      let query = database.selectFrom("lash_attachments").select("attachment_id").where("stored_at", "<=", cutoff);
      if (after !== undefined) query = query.where("attachment_id", ">", after);
      return query.orderBy("attachment_id").limit(PAGE).execute();
    });
    const unreferenced = page.map((row) => row.attachment_id).filter((id) => !referenced.has(id));
    for (const ids of chunked(unreferenced)) {
      const deleted = await context.write((database) => deleteOldBlobs(database, ids, cutoff));
      deletedCount += deleted.count;
      deletedBytes += deleted.bytes;
    }
    const last = page.at(-1);
    if (last === undefined || page.length < PAGE) break;
    cursor = last.attachment_id;
  }
  const remaining = await context.query((database) =>
    database
      .selectFrom("lash_attachments")
      .select((expression) => expression.fn.countAll<number | string | bigint>().as("count"))
      .executeTakeFirstOrThrow(),
  );
  return { referencedCount: referenced.size, retainedCount: Number(remaining.count), deletedCount, deletedBytes };
}
