import type { ColumnType } from "kysely";

/**
 * A 64-bit integer column (`bigint` in PostgreSQL, `INTEGER` in SQLite). The `pg` driver returns
 * `int8` as a string so that no precision is lost; SQLite returns a number. Readers convert with
 * a safe-integer check, never with a bare `Number()`.
 */
export type BigIntegerColumn = ColumnType<number | string | bigint, number, number>;

/** The head of a session: one row per committed session, the compare-and-set anchor. */
export interface LashHeadsTable {
  session_id: string;
  /** 1 after the first commit, +1 per commit. */
  head_revision: number;
  leaf_node_id: string | null;
  /** JSON of `PersistedSessionConfig`. */
  config_json: string;
  /** Content hash of the head's checkpoint in `lash_blobs`. */
  checkpoint_ref: string;
  /** Live (non-tombstoned) nodes of the session. */
  node_count: number;
  /** ISO-8601 UTC time of the last commit. */
  updated_at: string;
}

/** One node of a session graph. `parent_node_id` is a column so the active path is one recursive query. */
export interface LashGraphNodesTable {
  session_id: string;
  node_id: string;
  /** Per-session insertion order (1, 2, ...); `full_graph` loads order by it. */
  seq: number;
  parent_node_id: string | null;
  /** JSON of `SessionNodeRecord`. */
  node_json: string;
  /** 0 = live, 1 = tombstoned (an integer so that one schema serves both dialects). */
  tombstoned: number;
}

/** One non-empty usage delta of a commit; the ledger is their merge in `seq` order. */
export interface LashUsageDeltasTable {
  session_id: string;
  seq: number;
  source: string;
  model: string;
  input_tokens: BigIntegerColumn;
  output_tokens: BigIntegerColumn;
  cached_input_tokens: BigIntegerColumn;
  reasoning_tokens: BigIntegerColumn;
}

/** Applied commit ids with the hash of their content, for idempotent replays. */
export interface LashCommitsTable {
  session_id: string;
  commit_id: string;
  /** Hex SHA-256 of the commit's stable JSON. */
  content_hash: string;
  /** The head revision the commit produced (what a replay returns). */
  head_revision: number;
}

/** Listing data of a session (`SessionMeta`), with the filter fields as columns. */
export interface LashSessionMetaTable {
  session_id: string;
  session_name: string;
  created_at: string;
  model: string;
  cwd: string | null;
  parent_session_id: string | null;
  /** `root`, `child` or `handoff`: the relation's type, for the listing filter. */
  relation_type: string;
  /** JSON of `SessionRelation`. */
  relation_json: string;
}

/** Content-addressed blobs of a session (today: checkpoint manifests), keyed by hex SHA-256. */
export interface LashBlobsTable {
  session_id: string;
  hash: string;
  content: string;
}

/**
 * The Kysely database interface of the lash session tables. A caller that builds its own `Kysely`
 * instance types it with this interface (or a superset of it).
 */
export interface LashSqlSchema {
  lash_heads: LashHeadsTable;
  lash_graph_nodes: LashGraphNodesTable;
  lash_usage_deltas: LashUsageDeltasTable;
  lash_commits: LashCommitsTable;
  lash_session_meta: LashSessionMetaTable;
  lash_blobs: LashBlobsTable;
}

/** The SQL dialects the store speaks. */
export type SqlDialectName = "sqlite" | "postgres";
