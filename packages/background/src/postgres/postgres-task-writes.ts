import {
  type BackgroundTaskRecord,
  type BackgroundTaskScope,
  isTerminalBackgroundTaskState,
  UnknownBackgroundTaskError,
} from "@lash/protocol";
import type { DurableHostCore } from "./postgres-host-core.js";
import { cancelNamedJob } from "./postgres-named-lease.js";
import { changeByCancelRequest, type TaskChange, unchanged } from "./postgres-task-changes.js";
import { insertTaskRow, readTaskRow, type TaskRow, updateTaskRow } from "./postgres-task-rows.js";

/** The lease a new in-process task starts with (none for a record-only task). */
export type InitialLease = Partial<Pick<TaskRow, "leaseToken" | "leaseOwner" | "leaseExpiresAt">>;

/**
 * How the durable host's record API writes one task: each write reads the row under its lock,
 * changes it and appends its events in one transaction, so two processes changing the same task
 * queue up on its row instead of overwriting each other.
 */
export class DurableTaskWrites {
  readonly #core: DurableHostCore;

  constructor(core: DurableHostCore) {
    this.#core = core;
  }

  /** Inserts a task that has no named job (`register`, in-process work), with its `registered` event. */
  async insert(record: BackgroundTaskRecord, lease: InitialLease): Promise<TaskRow> {
    const row: TaskRow = {
      record,
      taskName: undefined,
      input: undefined,
      queue: undefined,
      jobId: undefined,
      leaseToken: lease.leaseToken,
      leaseOwner: lease.leaseOwner,
      leaseExpiresAt: lease.leaseExpiresAt,
      cancelReason: undefined,
    };
    await this.#core.transact(async (client) => {
      await insertTaskRow(client, this.#core.names, row);
      return { events: [{ type: "registered", taskId: record.id, record }], result: undefined };
    });
    return row;
  }

  /** Changes one task in one transaction; an unknown id → `UnknownBackgroundTaskError`. */
  async change(taskId: string, change: (row: TaskRow) => TaskChange, endsWork = false): Promise<BackgroundTaskRecord> {
    const record = await this.#changeWhere(taskId, () => true, change, endsWork);
    if (record === undefined) throw new UnknownBackgroundTaskError(taskId);
    return record;
  }

  /** Like `change` for a task of `scope`; `undefined` when the task is unknown there. */
  changeInScope(
    scope: BackgroundTaskScope,
    taskId: string,
    change: (row: TaskRow) => TaskChange,
    endsWork = false,
  ): Promise<BackgroundTaskRecord | undefined> {
    return this.#changeWhere(taskId, (row) => row.record.scope.sessionId === scope.sessionId, change, endsWork);
  }

  /**
   * `requestCancel` by the task's policy. A named task whose job was not claimed yet has no work that
   * could stop by itself, so it ends `cancelled` at once (its job is cancelled in the same transaction).
   */
  async cancel(taskId: string, reason: string | undefined, before?: (row: TaskRow) => TaskChange): Promise<BackgroundTaskRecord> {
    const { names } = this.#core;
    const record = await this.#core.transact(async (client) => {
      const read = await readTaskRow(client, names, taskId, true);
      if (read === undefined) return { events: [], result: undefined };
      // `update` applies its progress and attempt first, in this transaction.
      const prior = before === undefined ? unchanged(read) : before(read);
      const row = prior.row;
      const policy = row.record.cancelPolicy;
      const unclaimedJob = row.jobId !== undefined && row.leaseToken === undefined;
      const endNow = policy === "abort_local" || (policy === "cooperative" && unclaimedJob);
      const change = changeByCancelRequest(row, reason ?? (endNow ? "cancel requested" : undefined), endNow, Date.now());
      const events = [...prior.events, ...change.events];
      if (events.length === 0 && JSON.stringify(change.row.record) === JSON.stringify(read.record))
        return { events: [], result: read.record };
      if (change.ended) await cancelNamedJob(this.#core, client, row);
      await updateTaskRow(client, names, change.row);
      return { events, result: change.row.record };
    });
    if (record === undefined) throw new UnknownBackgroundTaskError(taskId);
    return record;
  }

  async #changeWhere(
    taskId: string,
    applies: (row: TaskRow) => boolean,
    change: (row: TaskRow) => TaskChange,
    endsWork: boolean,
  ): Promise<BackgroundTaskRecord | undefined> {
    const { names } = this.#core;
    return this.#core.transact(async (client) => {
      const row = await readTaskRow(client, names, taskId, true);
      if (row === undefined || !applies(row)) return { events: [], result: undefined };
      const next = change(row);
      // An attempt number alone changes the record without an event (the next event carries it).
      if (next.events.length === 0 && JSON.stringify(next.row.record) === JSON.stringify(row.record))
        return { events: [], result: row.record };
      // A task ended from outside its work: its job must never be claimed (again).
      if (endsWork && isTerminalBackgroundTaskState(next.row.record.state)) await cancelNamedJob(this.#core, client, row);
      await updateTaskRow(client, names, next.row);
      return { events: next.events, result: next.row.record };
    });
  }
}
