import { InvalidPersistedDataError } from "@lash/protocol";
import { type Kysely, sql } from "kysely";
import { listingProblem, type SessionListingProblem } from "../shared/session-listing.js";
import { parseNodeRow, parseStoredJson, parseUsageRow } from "./sql-rows.js";
import type { LashSqlSchema } from "./sql-schema.js";
import type { SqlStoreContext } from "./sql-store-context.js";

/** The damage found per session: the first problem of each damaged one. */
export type DamagedSessions = ReadonlyMap<string, SessionListingProblem>;

/**
 * The rows a listing does not read and a load does, checked in the database without reading them
 * out: a head whose leaf is not a live node, live graph nodes and the heads' checkpoints whose text
 * is not JSON (or a checkpoint that is missing), and usage rows whose counts are not integers. A listing entry already shows the damage
 * of what it reads (head revision, config, meta, summary). What this pass finds, it explains by
 * parsing the damaged row the way a load does, so the problem (field and message) is the one the
 * load throws; the field of a node is its place in the session's whole graph (the active path's,
 * for a session without branches). Text that is JSON of the wrong shape is left to loads.
 *
 * SQLite only (`json_valid`): PostgreSQL 15 has no JSON validity test in SQL, so this returns
 * `undefined` there and a caller checks sessions by loading them.
 */
export async function findDamagedSessions(context: SqlStoreContext): Promise<DamagedSessions | undefined> {
  if (context.dialect !== "sqlite") return undefined;
  return context.read(async (database) => {
    const found = new Map<string, SessionListingProblem>();
    const record = (sessionId: string, explain: () => void): void => {
      if (found.has(sessionId)) return;
      try {
        explain();
      } catch (error) {
        if (!InvalidPersistedDataError.isInstance(error)) throw error;
        found.set(sessionId, listingProblem(error));
      }
    };
    // The order of a load: the head's leaf, the nodes, the checkpoint, the ledger.
    for (const row of await headsWithoutLeaf(database)) {
      record(row.session_id, () => {
        throw new InvalidPersistedDataError(
          row.session_id,
          "head.leafNodeId",
          `the head's leaf \`${row.leaf_node_id}\` is not a live node`,
        );
      });
    }
    for (const row of await damagedNodes(database)) {
      const index = await liveNodesBefore(database, row.session_id, row.seq);
      record(row.session_id, () => parseNodeRow(row, row.session_id, `graph.nodes.${index}`));
    }
    for (const row of await damagedCheckpoints(database)) {
      record(row.session_id, () => {
        if (row.hash === null) {
          throw new InvalidPersistedDataError(row.session_id, "head.checkpointRef", `checkpoint \`${row.checkpoint_ref}\` is missing`);
        }
        parseStoredJson(row.content, row.session_id, "checkpoint", `lash_blobs.content of checkpoint \`${row.checkpoint_ref}\``);
      });
    }
    for (const row of await damagedUsageRows(database)) {
      const index = await usageRowsBefore(database, row.session_id, row.seq);
      record(row.session_id, () => parseUsageRow(row, row.session_id, `tokenLedger.${index}`));
    }
    return found;
  });
}

/** Heads that name a leaf no live node has. */
function headsWithoutLeaf(database: Kysely<LashSqlSchema>) {
  return database
    .selectFrom("lash_heads as head")
    .leftJoin("lash_graph_nodes as node", (join) =>
      join.onRef("node.session_id", "=", "head.session_id").onRef("node.node_id", "=", "head.leaf_node_id").on("node.tombstoned", "=", 0),
    )
    .select(["head.session_id", "head.leaf_node_id"])
    .where("head.leaf_node_id", "is not", null)
    .where("node.node_id", "is", null)
    .orderBy("head.session_id")
    .execute();
}

/** Live node rows whose `node_json` is not JSON text. */
function damagedNodes(database: Kysely<LashSqlSchema>) {
  return database
    .selectFrom("lash_graph_nodes")
    .select(["session_id", "seq", "node_id", "parent_node_id", "node_json"])
    .where("tombstoned", "=", 0)
    .where(sql<boolean>`(typeof(node_json) <> 'text' or not json_valid(node_json))`)
    .orderBy("session_id")
    .orderBy("seq")
    .execute();
}

/** The place of a node in its session's whole graph: the live nodes stored before it. */
async function liveNodesBefore(database: Kysely<LashSqlSchema>, sessionId: string, seq: number): Promise<number> {
  const row = await database
    .selectFrom("lash_graph_nodes")
    .select((expression) => expression.fn.countAll<number>().as("count"))
    .where("session_id", "=", sessionId)
    .where("tombstoned", "=", 0)
    .where("seq", "<", seq)
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

/** Heads whose checkpoint blob is missing, or not JSON text. */
function damagedCheckpoints(database: Kysely<LashSqlSchema>) {
  return database
    .selectFrom("lash_heads as head")
    .leftJoin("lash_blobs as blob", (join) =>
      join.onRef("blob.session_id", "=", "head.session_id").onRef("blob.hash", "=", "head.checkpoint_ref"),
    )
    .select(["head.session_id", "head.checkpoint_ref", "blob.hash", "blob.content"])
    .where(sql<boolean>`(blob.hash is null or typeof(blob.content) <> 'text' or not json_valid(blob.content))`)
    .orderBy("head.session_id")
    .execute();
}

/** Usage rows with a count that is not an integer. */
function damagedUsageRows(database: Kysely<LashSqlSchema>) {
  return database
    .selectFrom("lash_usage_deltas")
    .select([
      "session_id",
      "seq",
      "source",
      "model",
      "input_tokens",
      "output_tokens",
      "cached_input_tokens",
      "reasoning_tokens",
      "price_table_date",
    ])
    .where(
      sql<boolean>`(typeof(input_tokens) <> 'integer' or typeof(output_tokens) <> 'integer' or typeof(cached_input_tokens) <> 'integer' or typeof(reasoning_tokens) <> 'integer')`,
    )
    .orderBy("session_id")
    .orderBy("seq")
    .execute();
}

/** The place of a usage row in its session's ledger rows. */
async function usageRowsBefore(database: Kysely<LashSqlSchema>, sessionId: string, seq: number): Promise<number> {
  const row = await database
    .selectFrom("lash_usage_deltas")
    .select((expression) => expression.fn.countAll<number>().as("count"))
    .where("session_id", "=", sessionId)
    .where("seq", "<", seq)
    .executeTakeFirstOrThrow();
  return Number(row.count);
}
