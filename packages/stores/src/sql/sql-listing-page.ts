import { LashError } from "@lash/protocol";
import { type AliasedSelectQueryBuilder, type Kysely, type Selectable, sql } from "kysely";
import { parseJsonWithinDepth } from "../shared/json-depth.js";
import type { LashHeadsTable, LashSessionMetaTable, LashSessionSummariesTable, LashSqlSchema } from "./sql-schema.js";

/**
 * The listing's one statement: a page of session ids (the `page` subquery, in the listing's order)
 * with the head, meta and summary rows of each. One statement is one snapshot, and on PostgreSQL one
 * round trip (no transaction around it).
 */

/** Which sessions a page holds. */
export interface ListingFilter {
  readonly parentSessionId: string | undefined;
  readonly relationType: string | undefined;
}

/** Where a page of the activity order starts: after this session, in (activity, id) descending. */
export interface ActivityPosition {
  readonly lastActivityAt: string;
  readonly sessionId: string;
}

/** The rows of one listed session; `undefined` for a row the session does not have. */
export interface ListingRows {
  readonly sessionId: string;
  readonly head: Pick<LashHeadsTable, "head_revision" | "config_json"> | undefined;
  readonly meta: LashSessionMetaTable | undefined;
  readonly summary: Omit<Selectable<LashSessionSummariesTable>, "session_id"> | undefined;
}

/** Reads a `nextCursor` of the activity order (`["<activity>","<id>"]`); anything else is the caller's mistake. */
export function parseActivityCursor(cursor: string): ActivityPosition {
  const reading = parseJsonWithinDepth(cursor);
  const value = reading.ok ? reading.value : undefined;
  if (Array.isArray(value) && value.length === 2 && typeof value[0] === "string" && typeof value[1] === "string") {
    return { lastActivityAt: value[0], sessionId: value[1] };
  }
  throw new LashError(
    "invalid_argument",
    "invalid session list query at `cursor`: not a cursor of the `lastActivity` order (pass the `nextCursor` of the previous page)",
  );
}

/** The `nextCursor` of the activity order after `rows` (its last entry). */
export function activityCursor(rows: ListingRows): string {
  return JSON.stringify([String(rows.summary?.last_activity_at ?? ""), rows.sessionId]);
}

/** The columns every page reads: the page's id, and the head, meta and summary columns of each session. */
const LISTING_COLUMNS = [
  "page.session_id",
  "head.session_id as head_session_id",
  "head.head_revision",
  "head.config_json",
  "meta.session_id as meta_session_id",
  "meta.session_name as meta_session_name",
  "meta.created_at as meta_created_at",
  "meta.model as meta_model",
  "meta.cwd as meta_cwd",
  "meta.parent_session_id as meta_parent_session_id",
  "meta.relation_type as meta_relation_type",
  "meta.relation_json as meta_relation_json",
  "summary.session_id as summary_session_id",
  "summary.last_activity_at",
  "summary.turn_count",
  "summary.model as summary_model",
  "summary.input_tokens",
  "summary.output_tokens",
  "summary.cached_input_tokens",
  "summary.reasoning_tokens",
] as const;

/** One row of a page: every column of `LISTING_COLUMNS`, `null` where the session lacks the row. */
interface PageRow {
  readonly session_id: string;
  readonly head_session_id: string | null;
  readonly head_revision: unknown;
  readonly config_json: unknown;
  readonly meta_session_id: string | null;
  readonly meta_session_name: unknown;
  readonly meta_created_at: unknown;
  readonly meta_model: unknown;
  readonly meta_cwd: unknown;
  readonly meta_parent_session_id: unknown;
  readonly meta_relation_type: unknown;
  readonly meta_relation_json: unknown;
  readonly summary_session_id: string | null;
  readonly last_activity_at: unknown;
  readonly turn_count: unknown;
  readonly summary_model: unknown;
  readonly input_tokens: unknown;
  readonly output_tokens: unknown;
  readonly cached_input_tokens: unknown;
  readonly reasoning_tokens: unknown;
}

function rowsOf(row: PageRow): ListingRows {
  // The columns of a present row are whatever the database holds: the listing's parsers check
  // every one of them (a damaged value is a `problem`, never trusted), hence the casts.
  return {
    sessionId: row.session_id,
    head:
      row.head_session_id === null
        ? undefined
        : ({ head_revision: row.head_revision, config_json: row.config_json } as ListingRows["head"]),
    meta:
      row.meta_session_id === null
        ? undefined
        : ({
            session_id: row.meta_session_id,
            session_name: row.meta_session_name,
            created_at: row.meta_created_at,
            model: row.meta_model,
            cwd: row.meta_cwd,
            parent_session_id: row.meta_parent_session_id,
            relation_type: row.meta_relation_type,
            relation_json: row.meta_relation_json,
          } as LashSessionMetaTable),
    summary:
      row.summary_session_id === null
        ? undefined
        : ({
            last_activity_at: row.last_activity_at,
            turn_count: row.turn_count,
            model: row.summary_model,
            input_tokens: row.input_tokens,
            output_tokens: row.output_tokens,
            cached_input_tokens: row.cached_input_tokens,
            reasoning_tokens: row.reasoning_tokens,
          } as ListingRows["summary"]),
  };
}

/**
 * The instance the page subquery is built on. Kysely applies an instance's plugins to a query
 * builder each time it becomes part of another query, so a subquery built on the store's instance
 * would get the PostgreSQL text escape twice; built without plugins, it gets them once, with the
 * outer query (the schema binding and the escape reach every node of it).
 */
function withoutNestedPlugins(database: Kysely<LashSqlSchema>): Kysely<LashSqlSchema> {
  return database.withoutPlugins();
}

/** What the page subquery gives: the ids in the listing's order (and the activity it orders by). */
interface PageColumns {
  session_id: string;
  last_activity_at: string | null;
}

/**
 * Reads the head, meta and summary rows of each session of `page`, in the listing's order. PostgreSQL
 * probes each table's primary key per page row through lateral joins: left to itself, its planner
 * joins a page of 50 rows against whole tables by hashing them, a cost that grows with the database.
 * SQLite probes the keys by itself, and has no lateral joins.
 */
function readPage(
  database: Kysely<LashSqlSchema>,
  page: AliasedSelectQueryBuilder<PageColumns, "page">,
  lateral: boolean,
  order: "sessionId" | "lastActivity",
) {
  const source = database.selectFrom(page);
  const joined = lateral
    ? source
        .leftJoinLateral(
          (creator) =>
            creator
              .selectFrom("lash_heads")
              .select(["lash_heads.session_id", "lash_heads.head_revision", "lash_heads.config_json"])
              .whereRef("lash_heads.session_id", "=", "page.session_id")
              // One row by its key; the limit also keeps the planner from turning the probe into a join.
              .limit(1)
              .as("head"),
          (join) => join.onTrue(),
        )
        .leftJoinLateral(
          (creator) =>
            creator
              .selectFrom("lash_session_meta")
              .selectAll("lash_session_meta")
              .whereRef("lash_session_meta.session_id", "=", "page.session_id")
              // One row by its key; the limit also keeps the planner from turning the probe into a join.
              .limit(1)
              .as("meta"),
          (join) => join.onTrue(),
        )
        .leftJoinLateral(
          (creator) =>
            creator
              .selectFrom("lash_session_summaries")
              .selectAll("lash_session_summaries")
              .whereRef("lash_session_summaries.session_id", "=", "page.session_id")
              // One row by its key; the limit also keeps the planner from turning the probe into a join.
              .limit(1)
              .as("summary"),
          (join) => join.onTrue(),
        )
        .select(LISTING_COLUMNS)
    : source
        .leftJoin("lash_heads as head", "head.session_id", "page.session_id")
        .leftJoin("lash_session_meta as meta", "meta.session_id", "page.session_id")
        .leftJoin("lash_session_summaries as summary", "summary.session_id", "page.session_id")
        .select(LISTING_COLUMNS);
  return order === "sessionId"
    ? joined.orderBy("page.session_id")
    : joined.orderBy("page.last_activity_at", "desc").orderBy("page.session_id", "desc");
}

/**
 * Up to `limit + 1` sessions after `cursor` in code-point order of id (one more than the page says
 * whether more follow): without a filter, one index range of the heads and one of the metas, merged
 * (a session may have either); with one, a range of the metas.
 */
export async function pageById(
  database: Kysely<LashSqlSchema>,
  lateral: boolean,
  { parentSessionId, relationType }: ListingFilter,
  cursor: string | undefined,
  limit: number,
): Promise<ListingRows[]> {
  const plain = withoutNestedPlugins(database);
  const metas = plain
    .selectFrom("lash_session_meta")
    .select("session_id")
    .$if(parentSessionId !== undefined, (query) => query.where("parent_session_id", "=", parentSessionId ?? ""))
    .$if(relationType !== undefined, (query) => query.where("relation_type", "=", relationType ?? ""))
    .$if(cursor !== undefined, (query) => query.where("session_id", ">", cursor ?? ""))
    .orderBy("session_id")
    .limit(limit + 1);
  const metaIds = plain.selectFrom(metas.as("meta_page")).select(["meta_page.session_id", sql<null>`null`.as("last_activity_at")]);
  const filtered = parentSessionId !== undefined || relationType !== undefined;
  const heads = plain
    .selectFrom("lash_heads")
    .select("session_id")
    .$if(cursor !== undefined, (query) => query.where("session_id", ">", cursor ?? ""))
    .orderBy("session_id")
    .limit(limit + 1);
  // A filter reads the meta: the heads add nothing then.
  const ids = filtered
    ? metaIds
    : plain
        .selectFrom(heads.as("head_page"))
        .select(["head_page.session_id", sql<null>`null`.as("last_activity_at")])
        .union(metaIds);
  const rows = await readPage(database, ids.as("page"), lateral, "sessionId")
    .limit(limit + 1)
    .execute();
  return rows.map(rowsOf);
}

/**
 * Up to `limit + 1` sessions after `position`, newest activity first: one descending range of a
 * summaries' index ending in `(last_activity_at, session_id)` (a row-value comparison, which both
 * dialects use the index for).
 */
export async function pageByActivity(
  database: Kysely<LashSqlSchema>,
  lateral: boolean,
  { parentSessionId, relationType }: ListingFilter,
  position: ActivityPosition | undefined,
  limit: number,
): Promise<ListingRows[]> {
  const ranked = withoutNestedPlugins(database)
    .selectFrom("lash_session_summaries as ranked")
    .select(["ranked.session_id", "ranked.last_activity_at"])
    // The summary's copies of the meta's filter columns: each filter has its (…, activity, id) index.
    .$if(parentSessionId !== undefined, (query) => query.where("ranked.parent_session_id", "=", parentSessionId ?? ""))
    .$if(relationType !== undefined, (query) => query.where("ranked.relation_type", "=", relationType ?? ""))
    .$if(position !== undefined, (query) =>
      query.where((where) =>
        where(
          where.refTuple("ranked.last_activity_at", "ranked.session_id"),
          "<",
          where.tuple(position?.lastActivityAt ?? "", position?.sessionId ?? ""),
        ),
      ),
    )
    .orderBy("ranked.last_activity_at", "desc")
    .orderBy("ranked.session_id", "desc")
    .limit(limit + 1);
  const rows = await readPage(database, ranked.as("page"), lateral, "lastActivity").execute();
  return rows.map(rowsOf);
}
