import { type Kysely, sql } from "kysely";
import type { Migration, MigrationProvider } from "kysely/migration";
import { addUsagePriceTableDates, createPostgresCommitFunction } from "./postgres-commit-function.js";
import { createAttachmentTables } from "./sql-migration-attachments.js";
import { addHeadSequences } from "./sql-migration-head-sequences.js";
import { createSessionSummaries } from "./sql-migration-summaries.js";
import type { SqlDialectName } from "./sql-schema.js";

/**
 * Kysely's bookkeeping tables for the lash migrations. They are not Kysely's defaults
 * (`kysely_migration`), so a host that runs its own Kysely migrations in the same database keeps
 * its history apart from ours.
 */
export const LASH_MIGRATION_TABLE = "lash_migration";
export const LASH_MIGRATION_LOCK_TABLE = "lash_migration_lock";

/**
 * Column type of every id column. PostgreSQL compares text by the database's collation (often
 * `en_US.UTF-8`, which is not code-point order); `"C"` makes `ORDER BY session_id` and the listing
 * cursor follow code points, like SQLite's BINARY collation.
 */
function idType(dialect: SqlDialectName) {
  return dialect === "postgres" ? sql`text collate "C"` : sql`text`;
}

/**
 * The first schema: every table keyed by `session_id`. Migrations are written for both dialects at
 * once; `bigint` is a 64-bit integer in PostgreSQL and has INTEGER affinity in SQLite.
 */
function createSessionTables(dialect: SqlDialectName): Migration {
  const id = idType(dialect);
  return {
    async up(database: Kysely<unknown>): Promise<void> {
      await database.schema
        .createTable("lash_heads")
        .ifNotExists()
        .addColumn("session_id", id, (column) => column.primaryKey())
        .addColumn("head_revision", "integer", (column) => column.notNull())
        .addColumn("leaf_node_id", id)
        .addColumn("config_json", "text", (column) => column.notNull())
        .addColumn("checkpoint_ref", id, (column) => column.notNull())
        .addColumn("node_count", "integer", (column) => column.notNull())
        .addColumn("updated_at", "text", (column) => column.notNull())
        .execute();

      await database.schema
        .createTable("lash_graph_nodes")
        .ifNotExists()
        .addColumn("session_id", id, (column) => column.notNull())
        .addColumn("node_id", id, (column) => column.notNull())
        .addColumn("seq", "integer", (column) => column.notNull())
        .addColumn("parent_node_id", id)
        .addColumn("node_json", "text", (column) => column.notNull())
        .addColumn("tombstoned", "integer", (column) => column.notNull().defaultTo(0))
        .addPrimaryKeyConstraint("lash_graph_nodes_pk", ["session_id", "node_id"])
        .execute();
      await database.schema
        .createIndex("lash_graph_nodes_session_seq")
        .ifNotExists()
        .unique()
        .on("lash_graph_nodes")
        .columns(["session_id", "seq"])
        .execute();

      await database.schema
        .createTable("lash_usage_deltas")
        .ifNotExists()
        .addColumn("session_id", id, (column) => column.notNull())
        .addColumn("seq", "integer", (column) => column.notNull())
        .addColumn("source", "text", (column) => column.notNull())
        .addColumn("model", "text", (column) => column.notNull())
        .addColumn("input_tokens", "bigint", (column) => column.notNull())
        .addColumn("output_tokens", "bigint", (column) => column.notNull())
        .addColumn("cached_input_tokens", "bigint", (column) => column.notNull())
        .addColumn("reasoning_tokens", "bigint", (column) => column.notNull())
        .addPrimaryKeyConstraint("lash_usage_deltas_pk", ["session_id", "seq"])
        .execute();

      await database.schema
        .createTable("lash_commits")
        .ifNotExists()
        .addColumn("session_id", id, (column) => column.notNull())
        .addColumn("commit_id", id, (column) => column.notNull())
        .addColumn("content_hash", "text", (column) => column.notNull())
        .addColumn("head_revision", "integer", (column) => column.notNull())
        .addPrimaryKeyConstraint("lash_commits_pk", ["session_id", "commit_id"])
        .execute();

      await database.schema
        .createTable("lash_session_meta")
        .ifNotExists()
        .addColumn("session_id", id, (column) => column.primaryKey())
        .addColumn("session_name", "text", (column) => column.notNull())
        .addColumn("created_at", "text", (column) => column.notNull())
        .addColumn("model", "text", (column) => column.notNull())
        .addColumn("cwd", "text")
        .addColumn("parent_session_id", id)
        .addColumn("relation_type", "text", (column) => column.notNull())
        .addColumn("relation_json", "text", (column) => column.notNull())
        .execute();
      // The listing filters: children of a parent, sessions of one relation type (both paged by id).
      await database.schema
        .createIndex("lash_session_meta_parent")
        .ifNotExists()
        .on("lash_session_meta")
        .columns(["parent_session_id", "session_id"])
        .execute();
      await database.schema
        .createIndex("lash_session_meta_relation")
        .ifNotExists()
        .on("lash_session_meta")
        .columns(["relation_type", "session_id"])
        .execute();

      await database.schema
        .createTable("lash_blobs")
        .ifNotExists()
        .addColumn("session_id", id, (column) => column.notNull())
        .addColumn("hash", id, (column) => column.notNull())
        .addColumn("content", "text", (column) => column.notNull())
        .addPrimaryKeyConstraint("lash_blobs_pk", ["session_id", "hash"])
        .execute();
    },

    async down(database: Kysely<unknown>): Promise<void> {
      for (const table of ["lash_blobs", "lash_session_meta", "lash_commits", "lash_usage_deltas", "lash_graph_nodes", "lash_heads"]) {
        await database.schema.dropTable(table).ifExists().execute();
      }
    },
  };
}

/** Where the lash migrations run. */
export interface LashMigrationOptions {
  /**
   * PostgreSQL: the schema of the lash tables, where the commit function is installed too. Default:
   * the connection's current schema (where Kysely's unqualified tables go).
   */
  readonly schema?: string | undefined;
}

/**
 * The lash migrations in application order. Names sort in that order (Kysely runs them sorted) and
 * never change once released: a database remembers the names it ran.
 */
export function lashMigrations(dialect: SqlDialectName, options: LashMigrationOptions = {}): Record<string, Migration> {
  return {
    "0001_create_session_tables": createSessionTables(dialect),
    "0002_session_summaries": createSessionSummaries(dialect),
    "0003_postgres_commit_function": createPostgresCommitFunction(dialect, options.schema),
    "0004_usage_price_table_dates": addUsagePriceTableDates(dialect, options.schema),
    "0005_attachments": createAttachmentTables(dialect),
    "0006_head_sequences": addHeadSequences(dialect, options.schema),
  };
}

/** The names of the lash migrations, oldest first. */
export function lashMigrationNames(): string[] {
  return Object.keys(lashMigrations("sqlite")).sort();
}

/**
 * An in-code migration provider (no folder discovery): migrations ship inside the package and run
 * only when the host calls `migrateToLatest()`.
 */
export function createLashMigrationProvider(dialect: SqlDialectName, options: LashMigrationOptions = {}): MigrationProvider {
  return {
    async getMigrations(): Promise<Record<string, Migration>> {
      return lashMigrations(dialect, options);
    },
  };
}
