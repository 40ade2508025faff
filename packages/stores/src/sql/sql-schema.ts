import type { ColumnType } from "kysely";

/**
 * A 64-bit integer column (`bigint` in PostgreSQL, `INTEGER` in SQLite). The `pg` driver returns
 * `int8` as a string so that no precision is lost; SQLite returns a number. Readers convert with
 * a safe-integer check, never with a bare `Number()`.
 */
export type BigIntegerColumn = ColumnType<number | string | bigint, number, number>;

/** A `BigIntegerColumn` that may hold `NULL`. */
export type NullableBigIntegerColumn = ColumnType<number | string | bigint | null, number | null, number | null>;

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
  /**
   * The `seq` the session's next graph node and next usage row get (migration 0006): kept here so
   * that a commit needs no `max(seq)` lookup. 1 when a head is inserted without them.
   */
  next_node_seq: ColumnType<number, number | undefined, number>;
  next_usage_seq: ColumnType<number, number | undefined, number>;
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
  /** `YYYY-MM-DD` of the price table in force when the tokens were spent; null when none was recorded. */
  price_table_date: ColumnType<string | null, string | null | undefined, string | null>;
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

/**
 * What a listing shows of a session without loading it, one row per session that has a head or a
 * meta: written in the transaction of every commit (and when a meta is first written), so it is
 * always the summary of the head (ADR 0030 and the stores README).
 */
export interface LashSessionSummariesTable {
  session_id: string;
  /** ISO-8601 UTC time of the last commit; for a session without a commit, its meta's `createdAt`. */
  last_activity_at: string;
  /**
   * Completed turns: the turn counter of the head's checkpoint (0 before the first commit). `NULL`
   * (here and below) means unknown: the migration that made the row could not read the session's
   * rows (they are damaged, and loading the session says how).
   */
  turn_count: number | null;
  /** The model of the head's config; `null` before the first commit. */
  model: string | null;
  /**
   * Lifetime usage: the sums of every usage delta committed to the session. An unknown sum stays
   * unknown (`NULL` plus a number is `NULL` in SQL).
   */
  input_tokens: NullableBigIntegerColumn;
  output_tokens: NullableBigIntegerColumn;
  cached_input_tokens: NullableBigIntegerColumn;
  reasoning_tokens: NullableBigIntegerColumn;
  /**
   * Copies of the meta's filter columns (`null` without a meta), so that a filtered listing in
   * activity order is one index range too.
   */
  relation_type: string | null;
  parent_session_id: string | null;
}

/** Content-addressed blobs of a session (today: checkpoint manifests), keyed by hex SHA-256. */
export interface LashBlobsTable {
  session_id: string;
  hash: string;
  content: string;
}

/**
 * One content-addressed attachment (an image of a message), shared by every session that references
 * it; its bytes are in `lash_attachment_chunks`. Written before the commit that references it.
 */
export interface LashAttachmentsTable {
  /** Hex SHA-256 of the bytes. */
  attachment_id: string;
  /** Detected from the bytes when they were stored. */
  media_type: string;
  byte_length: BigIntegerColumn;
  /** Rows in `lash_attachment_chunks` (0 to `chunk_count - 1`); 0 for no bytes. */
  chunk_count: number;
  /** ISO-8601 UTC time of the last `put` of these bytes; `gc` keeps blobs younger than its minimum age. */
  stored_at: string;
}

/** One chunk of an attachment's bytes (`ATTACHMENT_CHUNK_BYTES`, the last one shorter). */
export interface LashAttachmentChunksTable {
  attachment_id: string;
  chunk_index: number;
  /** `bytea` in PostgreSQL, `BLOB` in SQLite; both drivers return a `Buffer`. */
  content: Uint8Array;
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
  lash_session_summaries: LashSessionSummariesTable;
  lash_blobs: LashBlobsTable;
  lash_attachments: LashAttachmentsTable;
  lash_attachment_chunks: LashAttachmentChunksTable;
}

/** The SQL dialects the store speaks. */
export type SqlDialectName = "sqlite" | "postgres";
