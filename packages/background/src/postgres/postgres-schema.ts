import { createHash } from "node:crypto";
import pg from "pg";
import { inTransaction } from "./postgres-queryable.js";

/** The lash tables of the durable host, qualified by the schema they live in. */
export interface DurableTableNames {
  /** The schema, quoted for SQL. */
  readonly schema: string;
  /** One row per task: the contract's record plus the work and lease columns. */
  readonly tasks: string;
  /** The append-only event log subscribers read (ordered by `seq`). */
  readonly events: string;
  /** The LISTEN/NOTIFY channel on which event sequence numbers are announced. */
  readonly channel: string;
  /** The advisory lock key that orders event appends (see `appendEvents`). */
  readonly eventLockKey: string;
}

/** Names the tables of `schema` (an unquoted identifier). */
export function durableTableNames(schema: string): DurableTableNames {
  const quoted = pg.escapeIdentifier(schema);
  // Channel names are identifiers (at most 63 bytes); a digest keeps any schema name within that.
  const digest = createHash("sha256").update(schema).digest("hex").slice(0, 16);
  return {
    schema: quoted,
    tasks: `${quoted}.lash_background_tasks`,
    events: `${quoted}.lash_background_events`,
    channel: `lash_background_${digest}`,
    // A signed 64-bit key from the same digest, so hosts on other schemas never wait on each other.
    eventLockKey: BigInt.asIntN(64, BigInt(`0x${digest}`)).toString(),
  };
}

/**
 * Creates the lash tables when missing. Idempotent, and safe when several processes start at once:
 * the statements run in one transaction under a transaction-scoped advisory lock.
 */
export async function installDurableTables(pool: pg.Pool, names: DurableTableNames): Promise<void> {
  await inTransaction(pool, async (client) => {
    await client.query(`select pg_advisory_xact_lock(${names.eventLockKey})`);
    await client.query(`
    create schema if not exists ${names.schema};
    create table if not exists ${names.tasks} (
      task_id text primary key,
      scope_session_id text not null,
      kind text not null,
      state text not null,
      terminal boolean not null,
      record jsonb not null,
      task_name text,
      input jsonb,
      queue text,
      job_id uuid,
      lease_token uuid,
      lease_owner text,
      lease_expires_at timestamptz,
      cancel_reason text,
      created_at bigint not null,
      updated_at bigint not null
    );
    create index if not exists lash_background_tasks_scope on ${names.tasks} (scope_session_id, created_at);
    create index if not exists lash_background_tasks_live on ${names.tasks} (lease_expires_at) where not terminal;
    create table if not exists ${names.events} (
      seq bigserial primary key,
      task_id text not null,
      event jsonb not null,
      recorded_at timestamptz not null default now()
    );
    create index if not exists lash_background_events_recorded on ${names.events} (recorded_at);
  `);
  });
}
