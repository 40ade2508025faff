import { type Insertable, type Kysely, sql } from "kysely";
import type { Migration } from "kysely/migration";
import { parseJsonWithinDepth } from "../shared/json-depth.js";
import type { LashSessionSummariesTable, LashSqlSchema, SqlDialectName } from "./sql-schema.js";

/** Sessions read, and summary rows written, per step of the backfill. */
const BACKFILL_PAGE = 500;

/**
 * The second schema step: `lash_session_summaries`, one row per session with a head or a meta, so
 * that a listing shows the model, turns, activity and tokens of a page of sessions without loading
 * them, newest first through an index. Existing sessions get their row here, computed from their
 * stored rows; what cannot be read (damage) is stored as unknown (`NULL`), never as a number.
 */
export function createSessionSummaries(dialect: SqlDialectName): Migration {
  // Activity times sort as text: the "C" collation keeps PostgreSQL's order byte order, as in SQLite.
  const text = dialect === "postgres" ? sql`text collate "C"` : sql`text`;
  return {
    async up(database: Kysely<unknown>): Promise<void> {
      await database.schema
        .createTable("lash_session_summaries")
        .ifNotExists()
        .addColumn("session_id", text, (column) => column.primaryKey())
        .addColumn("last_activity_at", text, (column) => column.notNull())
        .addColumn("turn_count", "integer")
        .addColumn("model", "text")
        .addColumn("input_tokens", "bigint")
        .addColumn("output_tokens", "bigint")
        .addColumn("cached_input_tokens", "bigint")
        .addColumn("reasoning_tokens", "bigint")
        .addColumn("relation_type", "text")
        .addColumn("parent_session_id", text)
        .execute();
      // The newest sessions first, paged by (activity, id): all of them, those of one relation type,
      // the children of one parent.
      await database.schema
        .createIndex("lash_session_summaries_activity")
        .ifNotExists()
        .on("lash_session_summaries")
        .columns(["last_activity_at", "session_id"])
        .execute();
      await database.schema
        .createIndex("lash_session_summaries_relation_activity")
        .ifNotExists()
        .on("lash_session_summaries")
        .columns(["relation_type", "last_activity_at", "session_id"])
        .execute();
      await database.schema
        .createIndex("lash_session_summaries_parent_activity")
        .ifNotExists()
        .on("lash_session_summaries")
        .columns(["parent_session_id", "last_activity_at", "session_id"])
        .execute();
      await backfillSummaries(database as Kysely<LashSqlSchema>);
    },

    async down(database: Kysely<unknown>): Promise<void> {
      await database.schema.dropTable("lash_session_summaries").ifExists().execute();
    },
  };
}

/** The turn counter of a stored checkpoint's JSON, or `null` when it cannot be read. */
function turnCountOf(checkpointJson: unknown): number | null {
  if (typeof checkpointJson !== "string") return null;
  const reading = parseJsonWithinDepth(checkpointJson);
  if (!reading.ok || typeof reading.value !== "object" || reading.value === null) return null;
  const turnIndex = (reading.value as { turnState?: { turnIndex?: unknown } }).turnState?.turnIndex;
  return typeof turnIndex === "number" && Number.isSafeInteger(turnIndex) && turnIndex >= 0 ? turnIndex : null;
}

/** The model of a stored config's JSON, or `null` when it cannot be read. */
function modelOf(configJson: unknown): string | null {
  if (typeof configJson !== "string") return null;
  const reading = parseJsonWithinDepth(configJson);
  if (!reading.ok || typeof reading.value !== "object" || reading.value === null) return null;
  const model = (reading.value as { model?: unknown }).model;
  return typeof model === "string" ? model : null;
}

/** A stored sum as a count, or `null` when it is not one (a damaged row made it something else). */
function countOf(value: unknown): number | null {
  const number = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : typeof value === "bigint" ? Number(value) : value;
  return typeof number === "number" && Number.isSafeInteger(number) && number >= 0 ? number : null;
}

/**
 * Gives every existing session its summary row: sessions with a head from their head, checkpoint
 * and usage rows (one page of heads at a time, so memory stays bounded), then sessions with only a
 * meta from the meta's creation time.
 */
async function backfillSummaries(database: Kysely<LashSqlSchema>): Promise<void> {
  let after: string | undefined;
  for (;;) {
    let page = database
      .selectFrom("lash_heads as head")
      .leftJoin("lash_blobs as blob", (join) =>
        join.onRef("blob.session_id", "=", "head.session_id").onRef("blob.hash", "=", "head.checkpoint_ref"),
      )
      .leftJoin("lash_session_meta as meta", "meta.session_id", "head.session_id")
      .select(["head.session_id", "head.updated_at", "head.config_json", "blob.content", "meta.relation_type", "meta.parent_session_id"]);
    if (after !== undefined) page = page.where("head.session_id", ">", after);
    const heads = await page.orderBy("head.session_id").limit(BACKFILL_PAGE).execute();
    const last = heads.at(-1);
    if (last === undefined) break;
    after = last.session_id;
    const sessionIds = heads.map((head) => head.session_id);
    const sums = await database
      .selectFrom("lash_usage_deltas")
      .select((expression) => [
        "session_id",
        expression.fn.sum<string | number | bigint | null>("input_tokens").as("input_tokens"),
        expression.fn.sum<string | number | bigint | null>("output_tokens").as("output_tokens"),
        expression.fn.sum<string | number | bigint | null>("cached_input_tokens").as("cached_input_tokens"),
        expression.fn.sum<string | number | bigint | null>("reasoning_tokens").as("reasoning_tokens"),
      ])
      .where("session_id", "in", sessionIds)
      .groupBy("session_id")
      .execute();
    const usageBySession = new Map(sums.map((row) => [row.session_id, row]));
    const rows = heads.map((head): Insertable<LashSessionSummariesTable> => {
      const usage = usageBySession.get(head.session_id);
      return {
        session_id: head.session_id,
        last_activity_at: typeof head.updated_at === "string" ? head.updated_at : "",
        turn_count: turnCountOf(head.content),
        model: modelOf(head.config_json),
        // No usage row at all is a sum of zero.
        input_tokens: usage === undefined ? 0 : countOf(usage.input_tokens),
        output_tokens: usage === undefined ? 0 : countOf(usage.output_tokens),
        cached_input_tokens: usage === undefined ? 0 : countOf(usage.cached_input_tokens),
        reasoning_tokens: usage === undefined ? 0 : countOf(usage.reasoning_tokens),
        relation_type: head.relation_type,
        parent_session_id: head.parent_session_id,
      };
    });
    await database
      .insertInto("lash_session_summaries")
      .values(rows)
      .onConflict((conflict) => conflict.column("session_id").doNothing())
      .execute();
  }
  // Sessions with a meta and no commit: their activity is their creation.
  await database
    .insertInto("lash_session_summaries")
    .columns([
      "session_id",
      "last_activity_at",
      "turn_count",
      "model",
      "input_tokens",
      "output_tokens",
      "cached_input_tokens",
      "reasoning_tokens",
      "relation_type",
      "parent_session_id",
    ])
    .expression((expression) =>
      expression
        .selectFrom("lash_session_meta as meta")
        .select([
          "meta.session_id",
          "meta.created_at",
          sql<number>`0`.as("turn_count"),
          sql<null>`null`.as("model"),
          sql<number>`0`.as("input_tokens"),
          sql<number>`0`.as("output_tokens"),
          sql<number>`0`.as("cached_input_tokens"),
          sql<number>`0`.as("reasoning_tokens"),
          "meta.relation_type",
          "meta.parent_session_id",
        ])
        .where((where) =>
          where.not(
            where.exists(
              where
                .selectFrom("lash_session_summaries as summary")
                .select("summary.session_id")
                .whereRef("summary.session_id", "=", "meta.session_id"),
            ),
          ),
        ),
    )
    .execute();
}
