import type { PersistedSessionRead, SessionNodeRecord, SessionReadScope } from "@lash/protocol";
import { InvalidPersistedDataError, LashError, mergeTokenLedger, sessionCheckpointSchema, sessionReadScopeSchema } from "@lash/protocol";
import type { Database, Statement } from "better-sqlite3";
import { type Kysely, sql } from "kysely";
import {
  parseArgument,
  parseHeadConfig,
  parseNodeRow,
  parseStored,
  parseStoredJson,
  parseUsageRow,
  type StoredNodeRow,
  storedInteger,
} from "./sql-rows.js";
import type { LashSqlSchema } from "./sql-schema.js";
import type { SqlStoreContext } from "./sql-store-context.js";

/**
 * Loads a session in one read snapshot: head, config, the nodes of the scope, the checkpoint and
 * the merged ledger. `undefined` when the session has no head.
 */
export async function loadSessionRead(
  context: SqlStoreContext,
  sessionId: string,
  scopeInput: SessionReadScope,
): Promise<PersistedSessionRead | undefined> {
  const scope = parseArgument(sessionReadScopeSchema, scopeInput, "read scope");
  return context.read(async (database) => {
    const head = await database
      .selectFrom("lash_heads")
      .select(["head_revision", "leaf_node_id", "config_json", "checkpoint_ref"])
      .where("session_id", "=", sessionId)
      .executeTakeFirst();
    if (head === undefined) return undefined;
    const headRevision = storedInteger(head.head_revision, sessionId, "head.headRevision", "lash_heads.head_revision");
    const config = parseHeadConfig(head.config_json, sessionId);

    let leafNodeId = head.leaf_node_id ?? undefined;
    let nodes: SessionNodeRecord[];
    if (scope.type === "active_path") {
      leafNodeId = scope.leafNodeId ?? leafNodeId;
      nodes = leafNodeId === undefined ? [] : await loadActivePath(database, sessionId, leafNodeId);
      // Decision 17: a missing active leaf is an error, never an empty graph that a later commit
      // would write back as a wipe.
      if (leafNodeId !== undefined && nodes.length === 0) {
        if (scope.leafNodeId !== undefined) {
          throw new LashError(
            "invalid_argument",
            `active_path load of session \`${sessionId}\` names leaf \`${leafNodeId}\`, which is not a live node`,
          );
        }
        throw new InvalidPersistedDataError(sessionId, "head.leafNodeId", `the head's leaf \`${leafNodeId}\` is not a live node`);
      }
    } else {
      const rows = await database
        .selectFrom("lash_graph_nodes")
        .select(["node_id", "parent_node_id", "node_json"])
        .where("session_id", "=", sessionId)
        .where("tombstoned", "=", 0)
        .orderBy("seq")
        .execute();
      nodes = rows.map((row, index) => parseNodeRow(row, sessionId, `graph.nodes.${index}`));
    }

    const blob = await database
      .selectFrom("lash_blobs")
      .select("content")
      .where("session_id", "=", sessionId)
      .where("hash", "=", head.checkpoint_ref)
      .executeTakeFirst();
    if (blob === undefined)
      throw new InvalidPersistedDataError(sessionId, "head.checkpointRef", `checkpoint \`${head.checkpoint_ref}\` is missing`);
    const source = `lash_blobs.content of checkpoint \`${head.checkpoint_ref}\``;
    const checkpoint = parseStored(
      sessionCheckpointSchema,
      parseStoredJson(blob.content, sessionId, "checkpoint", source),
      sessionId,
      "checkpoint",
      source,
    );

    const usageRows = await database
      .selectFrom("lash_usage_deltas")
      .select(["source", "model", "input_tokens", "output_tokens", "cached_input_tokens", "reasoning_tokens", "price_table_date"])
      .where("session_id", "=", sessionId)
      .orderBy("seq")
      .execute();
    const entries = usageRows.map((row, index) => parseUsageRow(row, sessionId, `tokenLedger.${index}`));

    return {
      sessionId,
      headRevision,
      config,
      graph: leafNodeId === undefined ? { nodes } : { nodes, leafNodeId },
      checkpoint,
      tokenLedger: mergeTokenLedger([], entries),
    };
  });
}

/**
 * The path from the root to `leafNodeId` through `parent_node_id`, by one recursive query from the
 * leaf. The walk stops at a missing or tombstoned parent. The depth is capped by the number of live
 * nodes, so a cycle in stored parents ends; the first repeated node cuts the path here, as the
 * in-memory store does. Empty when the leaf is not a live node.
 */
async function loadActivePath(database: Kysely<LashSqlSchema>, sessionId: string, leafNodeId: string): Promise<SessionNodeRecord[]> {
  // Built without the instance's plugins: Kysely applies them again each time a builder becomes part
  // of another query, and the PostgreSQL text escape applied twice would name another session.
  const liveNodeCount = database
    .withoutPlugins()
    .selectFrom("lash_graph_nodes")
    .select((expression) => expression.fn.countAll().as("count"))
    .where("session_id", "=", sessionId)
    .where("tombstoned", "=", 0);
  const rows = await database
    .withRecursive("active_path(node_id, parent_node_id, node_json, depth)", (creator) =>
      creator
        .selectFrom("lash_graph_nodes")
        .select(["node_id", "parent_node_id", "node_json", sql<number>`0`.as("depth")])
        .where("session_id", "=", sessionId)
        .where("node_id", "=", leafNodeId)
        .where("tombstoned", "=", 0)
        .unionAll(
          creator
            .selectFrom("lash_graph_nodes as node")
            .innerJoin("active_path", "active_path.parent_node_id", "node.node_id")
            .select(["node.node_id", "node.parent_node_id", "node.node_json", sql<number>`${sql.ref("active_path.depth")} + 1`.as("depth")])
            .where("node.session_id", "=", sessionId)
            .where("node.tombstoned", "=", 0)
            .where("active_path.depth", "<", liveNodeCount),
        ),
    )
    .selectFrom("active_path")
    .select(["node_id", "parent_node_id", "node_json", "depth"])
    .orderBy("depth")
    .execute();
  const seen = new Set<string>();
  const walk: StoredNodeRow[] = [];
  for (const row of rows) {
    if (seen.has(row.node_id)) break;
    seen.add(row.node_id);
    walk.push(row);
  }
  walk.reverse();
  return walk.map((row, index) => parseNodeRow(row, sessionId, `graph.nodes.${index}`));
}

interface PointLookups {
  readonly liveNode: Statement<[string, string], StoredNodeRow>;
  readonly headRevision: Statement<[string], { head_revision: unknown }>;
}

const lookupsByDatabase = new WeakMap<Database, PointLookups>();

/** The point lookups a turn makes, prepared once per SQLite connection the store opened. */
function pointLookupsOf(database: Database): PointLookups {
  let lookups = lookupsByDatabase.get(database);
  if (lookups === undefined) {
    lookups = {
      liveNode: database.prepare(
        'select "node_id", "parent_node_id", "node_json" from "lash_graph_nodes" where "session_id" = ? and "node_id" = ? and "tombstoned" = 0',
      ),
      headRevision: database.prepare('select "head_revision" from "lash_heads" where "session_id" = ?'),
    };
    lookupsByDatabase.set(database, lookups);
  }
  return lookups;
}

/** One live node, on or off the active path. */
export async function loadNodeRecord(context: SqlStoreContext, sessionId: string, nodeId: string): Promise<SessionNodeRecord | undefined> {
  if (typeof nodeId !== "string") throw new LashError("invalid_argument", `loadNode needs a node id string, got ${typeof nodeId}`);
  // A runtime asks this of every node it is about to commit: on a connection the store opened, without the query builder.
  const direct = await context.readSqliteDirect((handle) => pointLookupsOf(handle).liveNode.get(sessionId, nodeId));
  const row =
    direct !== undefined
      ? direct.result
      : await context.query((database) =>
          database
            .selectFrom("lash_graph_nodes")
            .select(["node_id", "parent_node_id", "node_json"])
            .where("session_id", "=", sessionId)
            .where("node_id", "=", nodeId)
            .where("tombstoned", "=", 0)
            .executeTakeFirst(),
        );
  return row === undefined ? undefined : parseNodeRow(row, sessionId, "node");
}

/** The head revision, or `undefined` before the first commit (one indexed lookup). */
export async function loadHeadRevision(context: SqlStoreContext, sessionId: string): Promise<number | undefined> {
  const direct = await context.readSqliteDirect((handle) => pointLookupsOf(handle).headRevision.get(sessionId));
  const head =
    direct !== undefined
      ? direct.result
      : await context.query((database) =>
          database.selectFrom("lash_heads").select("head_revision").where("session_id", "=", sessionId).executeTakeFirst(),
        );
  return head === undefined ? undefined : storedInteger(head.head_revision, sessionId, "head.headRevision", "lash_heads.head_revision");
}
