import {
  BackgroundTaskConflictError,
  type BackgroundTaskRecord,
  backgroundTaskRecordSchema,
  isTerminalBackgroundTaskState,
  type JsonValue,
  LashError,
} from "@lash/protocol";
import type { PostgresQueryable } from "./postgres-queryable.js";
import type { DurableTableNames } from "./postgres-schema.js";

/**
 * A task row: the contract's record plus what the durable host needs to run and fence its work.
 * `taskName` / `queue` / `jobId` are set for named work (a pg-boss job); in-process work has a lease
 * but no job; a record-only task (`register`) has neither.
 */
export interface TaskRow {
  readonly record: BackgroundTaskRecord;
  readonly taskName: string | undefined;
  readonly input: JsonValue | undefined;
  readonly queue: string | undefined;
  readonly jobId: string | undefined;
  /** Drawn anew by every claim; a worker's writes must name it (the fencing token). */
  readonly leaseToken: string | undefined;
  /** The host instance that holds the lease. */
  readonly leaseOwner: string | undefined;
  /** When the lease runs out (epoch milliseconds). */
  readonly leaseExpiresAt: number | undefined;
  /** The reason of a pending cancel request (the record keeps it only once the task ended). */
  readonly cancelReason: string | undefined;
}

interface StoredRow {
  task_id: string;
  record: unknown;
  task_name: string | null;
  input: JsonValue | null;
  queue: string | null;
  job_id: string | null;
  lease_token: string | null;
  lease_owner: string | null;
  lease_expires_at: Date | null;
  cancel_reason: string | null;
}

const COLUMNS = "task_id, record, task_name, input, queue, job_id, lease_token, lease_owner, lease_expires_at, cancel_reason";

/** Parses a stored row; a record that fails validation is an error naming the task and the field. */
function parseRow(row: StoredRow): TaskRow {
  const parsed = backgroundTaskRecordSchema.safeParse(row.record);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new LashError(
      "invalid_persisted_data",
      `background task \`${row.task_id}\` has an invalid stored record (${issue === undefined ? "unknown" : `${issue.path.map(String).join(".")}: ${issue.message}`})`,
    );
  }
  return {
    record: parsed.data,
    taskName: row.task_name ?? undefined,
    input: row.input ?? undefined,
    queue: row.queue ?? undefined,
    jobId: row.job_id ?? undefined,
    leaseToken: row.lease_token ?? undefined,
    leaseOwner: row.lease_owner ?? undefined,
    leaseExpiresAt: row.lease_expires_at === null ? undefined : row.lease_expires_at.getTime(),
    cancelReason: row.cancel_reason ?? undefined,
  };
}

/** Reads one task, or `undefined`; `lock` takes its row lock for the rest of the transaction. */
export async function readTaskRow(
  client: PostgresQueryable,
  names: DurableTableNames,
  taskId: string,
  lock = false,
): Promise<TaskRow | undefined> {
  const { rows } = await client.query<StoredRow>(`select ${COLUMNS} from ${names.tasks} where task_id = $1${lock ? " for update" : ""}`, [
    taskId,
  ]);
  const row = rows[0];
  return row === undefined ? undefined : parseRow(row);
}

/** Reads the tasks a `where` clause selects (its parameters in `values`). */
export async function readTaskRows(
  client: PostgresQueryable,
  names: DurableTableNames,
  where: string,
  values: unknown[],
): Promise<TaskRow[]> {
  const { rows } = await client.query<StoredRow>(`select ${COLUMNS} from ${names.tasks} where ${where}`, values);
  return rows.map(parseRow);
}

function rowValues(row: TaskRow): unknown[] {
  return [
    row.record.id,
    row.record.scope.sessionId,
    row.record.kind,
    row.record.state,
    isTerminalBackgroundTaskState(row.record.state),
    JSON.stringify(row.record),
    row.taskName ?? null,
    row.input === undefined ? null : JSON.stringify(row.input),
    row.queue ?? null,
    row.jobId ?? null,
    row.leaseToken ?? null,
    row.leaseOwner ?? null,
    row.leaseExpiresAt === undefined ? null : new Date(row.leaseExpiresAt),
    row.record.createdAt,
    row.record.updatedAt,
    row.cancelReason ?? null,
  ];
}

/**
 * Inserts a new task, or replaces an ended one with the same id. A live task with that id (also one
 * committed by a concurrent insert) → `BackgroundTaskConflictError`, and nothing is written.
 */
export async function insertTaskRow(client: PostgresQueryable, names: DurableTableNames, row: TaskRow): Promise<void> {
  const inserted = await client.query(
    `insert into ${names.tasks} (task_id, scope_session_id, kind, state, terminal, record, task_name, input, queue, job_id,
       lease_token, lease_owner, lease_expires_at, created_at, updated_at, cancel_reason)
     values ($1, $2, $3, $4, $5, $6::jsonb, $7, $8::jsonb, $9, $10, $11, $12, $13, $14, $15, $16)
     on conflict (task_id) do update set
       scope_session_id = excluded.scope_session_id, kind = excluded.kind, state = excluded.state,
       terminal = excluded.terminal, record = excluded.record, task_name = excluded.task_name,
       input = excluded.input, queue = excluded.queue, job_id = excluded.job_id,
       lease_token = excluded.lease_token, lease_owner = excluded.lease_owner,
       lease_expires_at = excluded.lease_expires_at, created_at = excluded.created_at,
       updated_at = excluded.updated_at, cancel_reason = excluded.cancel_reason
     where ${names.tasks}.terminal
     returning task_id`,
    rowValues(row),
  );
  if (inserted.rows.length === 1) return;
  const existing = await client.query<{ scope_session_id: string }>(`select scope_session_id from ${names.tasks} where task_id = $1`, [
    row.record.id,
  ]);
  throw new BackgroundTaskConflictError(row.record.id, existing.rows[0]?.scope_session_id ?? row.record.scope.sessionId);
}

/** Writes an existing task's row (the caller holds its lock). */
export async function updateTaskRow(client: PostgresQueryable, names: DurableTableNames, row: TaskRow): Promise<void> {
  await client.query(
    `update ${names.tasks} set scope_session_id = $2, kind = $3, state = $4, terminal = $5, record = $6::jsonb,
       task_name = $7, input = $8::jsonb, queue = $9, job_id = $10, lease_token = $11, lease_owner = $12,
       lease_expires_at = $13, created_at = $14, updated_at = $15, cancel_reason = $16
     where task_id = $1`,
    rowValues(row),
  );
}

/** Deletes a task's row (no event: `unregisterExternal`). */
export async function deleteTaskRow(client: PostgresQueryable, names: DurableTableNames, taskId: string, sessionId: string): Promise<void> {
  await client.query(`delete from ${names.tasks} where task_id = $1 and scope_session_id = $2`, [taskId, sessionId]);
}

/** The row without a lease (the work that held it ended or was lost). */
export function withoutLease(row: TaskRow): TaskRow {
  return { ...row, leaseToken: undefined, leaseOwner: undefined, leaseExpiresAt: undefined };
}
