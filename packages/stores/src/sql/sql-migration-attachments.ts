import { type Kysely, sql } from "kysely";
import type { Migration } from "kysely/migration";
import type { SqlDialectName } from "./sql-schema.js";

/**
 * The attachment tables: one header row per content-addressed blob (`lash_attachments`) and its
 * bytes in chunks of `ATTACHMENT_CHUNK_BYTES` (`lash_attachment_chunks`), so a large blob is written
 * and streamed one bounded row at a time. Blobs are shared by every session of the database; which
 * session references which blob is read from the sessions' own rows when `gc` runs (see
 * sql-attachment-gc.ts), so a commit writes nothing more than it did.
 */
export function createAttachmentTables(dialect: SqlDialectName): Migration {
  // Ids and times compare as text: the "C" collation keeps PostgreSQL's order byte order, as in SQLite.
  const text = dialect === "postgres" ? sql`text collate "C"` : sql`text`;
  const bytes = dialect === "postgres" ? sql`bytea` : sql`blob`;
  return {
    async up(database: Kysely<unknown>): Promise<void> {
      await database.schema
        .createTable("lash_attachments")
        .ifNotExists()
        .addColumn("attachment_id", text, (column) => column.primaryKey())
        .addColumn("media_type", "text", (column) => column.notNull())
        .addColumn("byte_length", "bigint", (column) => column.notNull())
        .addColumn("chunk_count", "integer", (column) => column.notNull())
        .addColumn("stored_at", text, (column) => column.notNull())
        .execute();
      // `gc` pages through the blobs old enough to collect.
      await database.schema
        .createIndex("lash_attachments_stored_at")
        .ifNotExists()
        .on("lash_attachments")
        .columns(["stored_at", "attachment_id"])
        .execute();
      await database.schema
        .createTable("lash_attachment_chunks")
        .ifNotExists()
        .addColumn("attachment_id", text, (column) => column.notNull())
        .addColumn("chunk_index", "integer", (column) => column.notNull())
        .addColumn("content", bytes, (column) => column.notNull())
        .addPrimaryKeyConstraint("lash_attachment_chunks_pk", ["attachment_id", "chunk_index"])
        .execute();
    },

    async down(database: Kysely<unknown>): Promise<void> {
      await database.schema.dropTable("lash_attachment_chunks").ifExists().execute();
      await database.schema.dropTable("lash_attachments").ifExists().execute();
    },
  };
}
