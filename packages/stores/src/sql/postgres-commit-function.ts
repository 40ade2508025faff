import { type Kysely, sql } from "kysely";
import type { Migration } from "kysely/migration";
import type { SqlDialectName } from "./sql-schema.js";

/**
 * The PostgreSQL commit as one server-side function, so a commit is one round trip: one statement,
 * its own transaction. It applies the `SessionStore` commit contract in the order of the query-builder
 * path (`applyCommit` in sql-commit.ts), decides nothing the shared commit rules decide for the
 * caller, and reports every rejection as a row (nothing written), so that the caller throws the very
 * errors the other paths throw:
 *
 * - `stored`: the commit id was applied before (`revision`, `stored_hash`): a replay or a
 *   `CommitIdConflictError`;
 * - `head_conflict`: the head is not at the expected revision (`revision` = the head, `head_exists`);
 * - `graph_rejected`: the graph delta breaks a rule (`taken_node_ids`, `head_leaf_node_id`,
 *   `leaf_is_live`, for the caller to name the rule through `checkGraphCommitDelta`);
 * - `retry`: a concurrent first commit of the session vanished (deleted) while this one waited;
 * - `applied`: stored at `revision`.
 *
 * Writers of one session serialize on the head row: `FOR UPDATE` waits for a writer in flight and
 * then reads the head it left. A first commit claims the head by inserting it before writing
 * anything else; losing that race is decided from what the winner committed. `checkpoint` commits
 * turn `synchronous_commit` off for their own transaction (ADR 0030).
 */
export function commitFunctionSql(schema: string): string {
  const table = (name: string): string => `${quoteIdentifier(schema)}.${name}`;
  return `
create or replace function ${table("lash_commit")}(
  p_session_id text,
  p_commit_id text,
  p_expected_revision integer,
  p_content_hash text,
  p_graph_type text,
  p_leaf_node_id text,
  p_node_ids text[],
  p_parent_node_ids text[],
  p_node_jsons text[],
  p_invalid_locally boolean,
  p_usage_sources text[],
  p_usage_models text[],
  p_input_tokens bigint[],
  p_output_tokens bigint[],
  p_cached_input_tokens bigint[],
  p_reasoning_tokens bigint[],
  p_config_json text,
  p_checkpoint_ref text,
  p_checkpoint_json text,
  p_now text,
  p_turn_count integer,
  p_model text,
  p_added_usage bigint[],
  p_checkpoint_durability boolean,
  p_usage_price_table_dates text[]
) returns table (
  outcome text,
  revision integer,
  stored_hash text,
  head_exists boolean,
  head_leaf_node_id text,
  taken_node_ids text[],
  leaf_is_live boolean
)
language plpgsql
as $function$
declare
  v_head_exists boolean;
  v_actual integer := 0;
  v_head_leaf text;
  v_node_count integer := 0;
  v_revision integer;
  v_taken text[] := '{}';
  v_leaf text;
  v_leaf_incoming boolean := false;
  v_leaf_live boolean := false;
  v_node_start integer := 1;
  v_usage_start integer := 1;
  v_stored_hash text;
  v_stored_revision integer;
begin
  if p_checkpoint_durability then
    perform set_config('synchronous_commit', 'off', true);
  end if;

  select h.head_revision, h.leaf_node_id, h.node_count, h.next_node_seq, h.next_usage_seq
    into v_actual, v_head_leaf, v_node_count, v_node_start, v_usage_start
    from ${table("lash_heads")} h where h.session_id = p_session_id for update;
  v_head_exists := found;
  if not v_head_exists then
    -- A session without a head has no rows: its numbers start at 1.
    v_actual := 0;
    v_node_count := 0;
    v_node_start := 1;
    v_usage_start := 1;
  end if;

  select c.content_hash, c.head_revision into v_stored_hash, v_stored_revision
    from ${table("lash_commits")} c where c.session_id = p_session_id and c.commit_id = p_commit_id;
  if found then
    return query select 'stored'::text, v_stored_revision, v_stored_hash, v_head_exists, null::text, null::text[], null::boolean;
    return;
  end if;

  if (v_head_exists and p_expected_revision is distinct from v_actual) or (not v_head_exists and p_expected_revision is not null) then
    return query select 'head_conflict'::text, v_actual, null::text, v_head_exists, null::text, null::text[], null::boolean;
    return;
  end if;
  v_revision := v_actual + 1;

  v_node_count := case
    when p_graph_type = 'replace_full' then cardinality(p_node_ids)
    when p_graph_type = 'append' then v_node_count + cardinality(p_node_ids)
    else v_node_count
  end;
  v_leaf := case when p_graph_type = 'replace_full' then p_leaf_node_id else coalesce(p_leaf_node_id, v_head_leaf) end;
  if not v_head_exists then
    -- The first commit claims the session before it reads anything else: a concurrent first commit
    -- waits here for this one (or this one for it), so nodes it stored are never mistaken for taken ids.
    insert into ${table("lash_heads")} (session_id, head_revision, leaf_node_id, config_json, checkpoint_ref, node_count, updated_at)
      values (p_session_id, v_revision, v_leaf, p_config_json, p_checkpoint_ref, v_node_count, p_now)
      on conflict (session_id) do nothing;
    if not found then
      select c.content_hash, c.head_revision into v_stored_hash, v_stored_revision
        from ${table("lash_commits")} c where c.session_id = p_session_id and c.commit_id = p_commit_id;
      if found then
        return query select 'stored'::text, v_stored_revision, v_stored_hash, true, null::text, null::text[], null::boolean;
        return;
      end if;
      select h.head_revision into v_actual from ${table("lash_heads")} h where h.session_id = p_session_id;
      if found then
        return query select 'head_conflict'::text, v_actual, null::text, true, null::text, null::text[], null::boolean;
      else
        return query select 'retry'::text, 0, null::text, false, null::text, null::text[], null::boolean;
      end if;
      return;
    end if;
  end if;

  if p_graph_type = 'append' and cardinality(p_node_ids) > 0 then
    -- Tombstoned rows count: a tombstoned id stays taken until vacuum.
    select coalesce(array_agg(g.node_id), '{}') into v_taken
      from ${table("lash_graph_nodes")} g where g.session_id = p_session_id and g.node_id = any(p_node_ids);
  end if;
  if v_leaf is not null then
    v_leaf_incoming := p_graph_type <> 'unchanged' and v_leaf = any(p_node_ids);
    if not v_leaf_incoming and p_graph_type <> 'replace_full' then
      v_leaf_live := exists (
        select 1 from ${table("lash_graph_nodes")} g where g.session_id = p_session_id and g.node_id = v_leaf and g.tombstoned = 0
      );
    end if;
  end if;
  if p_invalid_locally or cardinality(v_taken) > 0 or (v_leaf is not null and not v_leaf_incoming and not v_leaf_live) then
    -- Nothing of a refused commit stays: a first commit gives its claim back.
    if not v_head_exists then
      delete from ${table("lash_heads")} h where h.session_id = p_session_id;
    end if;
    return query select 'graph_rejected'::text, v_actual, null::text, v_head_exists, v_head_leaf, v_taken, v_leaf_live;
    return;
  end if;

  -- The head keeps the next sequence numbers (migration 0006).
  if p_graph_type = 'replace_full' then
    -- Every row of the session goes, tombstoned ones included: the new graph is the whole graph.
    delete from ${table("lash_graph_nodes")} g where g.session_id = p_session_id;
    v_node_start := 1;
  end if;
  if p_graph_type <> 'unchanged' and cardinality(p_node_ids) > 0 then
    insert into ${table("lash_graph_nodes")} (session_id, node_id, seq, parent_node_id, node_json, tombstoned)
      select p_session_id, n.node_id, v_node_start + n.position - 1, n.parent_node_id, n.node_json, 0
        from unnest(p_node_ids, p_parent_node_ids, p_node_jsons) with ordinality as n(node_id, parent_node_id, node_json, position);
    v_node_start := v_node_start + cardinality(p_node_ids);
  end if;
  if cardinality(p_usage_sources) > 0 then
    insert into ${table("lash_usage_deltas")}
        (session_id, seq, source, model, input_tokens, output_tokens, cached_input_tokens, reasoning_tokens, price_table_date)
      select p_session_id, v_usage_start + u.position - 1, u.source, u.model, u.input_tokens, u.output_tokens,
             u.cached_input_tokens, u.reasoning_tokens, u.price_table_date
        from unnest(p_usage_sources, p_usage_models, p_input_tokens, p_output_tokens, p_cached_input_tokens, p_reasoning_tokens,
                    p_usage_price_table_dates)
          with ordinality as u(source, model, input_tokens, output_tokens, cached_input_tokens, reasoning_tokens, price_table_date,
                               position);
    v_usage_start := v_usage_start + cardinality(p_usage_sources);
  end if;
  insert into ${table("lash_blobs")} (session_id, hash, content) values (p_session_id, p_checkpoint_ref, p_checkpoint_json)
    on conflict (session_id, hash) do nothing;
  if v_head_exists then
    update ${table("lash_heads")} h
      set head_revision = v_revision, leaf_node_id = v_leaf, config_json = p_config_json, checkpoint_ref = p_checkpoint_ref,
          node_count = v_node_count, updated_at = p_now, next_node_seq = v_node_start, next_usage_seq = v_usage_start
      where h.session_id = p_session_id;
  else
    update ${table("lash_heads")} h set next_node_seq = v_node_start, next_usage_seq = v_usage_start
      where h.session_id = p_session_id;
  end if;
  insert into ${table("lash_commits")} (session_id, commit_id, content_hash, head_revision)
    values (p_session_id, p_commit_id, p_content_hash, v_revision);
  insert into ${table("lash_session_summaries")} as s
      (session_id, last_activity_at, turn_count, model, input_tokens, output_tokens, cached_input_tokens, reasoning_tokens)
    values (p_session_id, p_now, p_turn_count, p_model, p_added_usage[1], p_added_usage[2], p_added_usage[3], p_added_usage[4])
    on conflict (session_id) do update set
      last_activity_at = excluded.last_activity_at,
      turn_count = excluded.turn_count,
      model = excluded.model,
      input_tokens = s.input_tokens + excluded.input_tokens,
      output_tokens = s.output_tokens + excluded.output_tokens,
      cached_input_tokens = s.cached_input_tokens + excluded.cached_input_tokens,
      reasoning_tokens = s.reasoning_tokens + excluded.reasoning_tokens;
  return query select 'applied'::text, v_revision, null::text, v_head_exists, null::text, null::text[], null::boolean;
end;
$function$`;
}

/** A double-quoted SQL identifier. */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * The migration that installs `lash_commit` in the lash schema (PostgreSQL only; SQLite commits in
 * process). `schema` is the schema of the lash tables; without it, the connection's current schema,
 * where Kysely's unqualified tables go too.
 */
export function createPostgresCommitFunction(dialect: SqlDialectName, schema: string | undefined): Migration {
  return {
    async up(database: Kysely<unknown>): Promise<void> {
      if (dialect !== "postgres") return;
      const target = schema ?? (await currentSchema(database));
      await sql.raw(commitFunctionSql(target)).execute(database);
    },
    async down(database: Kysely<unknown>): Promise<void> {
      if (dialect !== "postgres") return;
      const target = schema ?? (await currentSchema(database));
      await sql.raw(`drop function if exists ${quoteIdentifier(target)}.lash_commit`).execute(database);
    },
  };
}

/**
 * The signature `lash_commit` had before usage rows recorded their price table's date: the migration
 * that adds the date drops it, because a function with a new parameter list is a second function in
 * PostgreSQL, not a replacement.
 */
const COMMIT_FUNCTION_WITHOUT_PRICE_DATES =
  "lash_commit(text, text, integer, text, text, text, text[], text[], text[], boolean, text[], text[], bigint[], bigint[], bigint[], bigint[], text, text, text, text, integer, text, bigint[], boolean)";

/**
 * The migration that gives every usage row the date of the price table in force when its tokens were
 * spent (`TokenLedgerEntry.priceTableDate`): a nullable column (rows written before it have no date),
 * and on PostgreSQL the commit function that writes it, in place of the one that did not.
 */
export function addUsagePriceTableDates(dialect: SqlDialectName, schema: string | undefined): Migration {
  return {
    async up(database: Kysely<unknown>): Promise<void> {
      await database.schema.alterTable("lash_usage_deltas").addColumn("price_table_date", "text").execute();
      if (dialect !== "postgres") return;
      const target = schema ?? (await currentSchema(database));
      await sql.raw(`drop function if exists ${quoteIdentifier(target)}.${COMMIT_FUNCTION_WITHOUT_PRICE_DATES}`).execute(database);
      await sql.raw(commitFunctionSql(target)).execute(database);
    },
    async down(database: Kysely<unknown>): Promise<void> {
      await database.schema.alterTable("lash_usage_deltas").dropColumn("price_table_date").execute();
    },
  };
}

export async function currentSchema(database: Kysely<unknown>): Promise<string> {
  const result = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(database);
  const schema = result.rows[0]?.schema;
  if (typeof schema !== "string") throw new Error("the connection has no current schema: pass the `schema` option");
  return schema;
}
