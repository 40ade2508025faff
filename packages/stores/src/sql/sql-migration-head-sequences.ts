import { type Kysely, sql } from "kysely";
import type { Migration } from "kysely/migration";
import { commitFunctionSql, currentSchema } from "./postgres-commit-function.js";
import type { SqlDialectName } from "./sql-schema.js";

/**
 * Migration 0006: the head row keeps the `seq` of the session's next graph node and next usage row
 * (`next_node_seq`, `next_usage_seq`), so a commit reads them with the head instead of looking up
 * `max(seq)` in two indexes. Existing heads are filled from their rows; on PostgreSQL the commit
 * function that keeps them replaces the one that did not (same parameters, so `create or replace`).
 * The columns are never null (default 1, the numbers of a session without rows), so no commit path
 * needs the rows' maximum.
 */
export function addHeadSequences(dialect: SqlDialectName, schema: string | undefined): Migration {
  return {
    async up(database: Kysely<unknown>): Promise<void> {
      for (const column of ["next_node_seq", "next_usage_seq"]) {
        await database.schema
          .alterTable("lash_heads")
          .addColumn(column, "integer", (definition) => definition.notNull().defaultTo(1))
          .execute();
      }
      // Raw SQL does not go through the schema binding of the migrator's instance: PostgreSQL names it.
      const target = dialect === "postgres" ? (schema ?? (await currentSchema(database))) : undefined;
      const table = (name: string) => (target === undefined ? sql.id(name) : sql.id(target, name));
      await sql`
        update ${table("lash_heads")} set
          next_node_seq = coalesce((select max(g.seq) from ${table("lash_graph_nodes")} g where g.session_id = ${table("lash_heads")}.session_id), 0) + 1,
          next_usage_seq = coalesce((select max(u.seq) from ${table("lash_usage_deltas")} u where u.session_id = ${table("lash_heads")}.session_id), 0) + 1
      `.execute(database);
      if (target !== undefined) await sql.raw(commitFunctionSql(target)).execute(database);
    },
    async down(database: Kysely<unknown>): Promise<void> {
      await database.schema.alterTable("lash_heads").dropColumn("next_usage_seq").execute();
      await database.schema.alterTable("lash_heads").dropColumn("next_node_seq").execute();
    },
  };
}
