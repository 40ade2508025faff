import { randomUUID } from "node:crypto";
import {
  type BackgroundScopeCloseReport,
  type BackgroundTaskCompletion,
  type BackgroundTaskEvent,
  type BackgroundTaskFilter,
  type BackgroundTaskHost,
  BackgroundTaskHostClosedError,
  type BackgroundTaskId,
  type BackgroundTaskLiveState,
  type BackgroundTaskOutcome,
  type BackgroundTaskRecord,
  type BackgroundTaskRegisterRequest,
  type BackgroundTaskRegistration,
  type BackgroundTaskScope,
  type BackgroundTaskTerminalState,
  BackgroundTaskTransitionError,
  type BackgroundTaskUpdate,
  type BackgroundTaskWatchItem,
  type BackgroundTaskWork,
  backgroundTaskCompletionSchema,
  backgroundTaskEventMatches,
  backgroundTaskFilterSchema,
  backgroundTaskIdSchema,
  backgroundTaskLiveStateSchema,
  backgroundTaskOutcomeSchema,
  backgroundTaskRecordSchema,
  backgroundTaskRegisterRequestSchema,
  backgroundTaskRegistrationSchema,
  backgroundTaskScopeSchema,
  backgroundTaskTerminalStateSchema,
  backgroundTaskUpdateSchema,
  compareBackgroundTaskRecords,
  type HiddenBackgroundWork,
  isTerminalBackgroundTaskState,
  LashError,
  type LocalBackgroundTaskCancel,
  parseBackgroundTaskArgument,
  StoreUnavailableError,
} from "@lash/protocol";
import pg from "pg";
import { PgBoss } from "pg-boss";
import { filter, map, type Observable, Subject } from "rxjs";
import { newTaskRecord } from "../local/local-task-entry.js";
import { type DurableTaskRequest, type EnqueueOptions, parseEnqueueRequest } from "./postgres-enqueue.js";
import { appendEvents, DurableEventLog } from "./postgres-event-log.js";
import { HiddenWorkTracker } from "./postgres-hidden-work.js";
import { DurableHostCore } from "./postgres-host-core.js";
import { type PostgresBackgroundTaskHostOptions, resolveHostOptions } from "./postgres-host-options.js";
import { bossHeartbeatSeconds, LONGEST_ATTEMPT_SECONDS, type NamedJobData } from "./postgres-named-lease.js";
import { asPgBossDatabase, type PostgresQueryable } from "./postgres-queryable.js";
import { durableTableNames, installDurableTables } from "./postgres-schema.js";
import { changeByUpdate, changeLiveState, changeScope, changeToTerminal, outcomeOf, unchanged } from "./postgres-task-changes.js";
import { filterClause, watchStream } from "./postgres-task-queries.js";
import { deleteTaskRow, insertTaskRow, readTaskRow, readTaskRows, type TaskRow } from "./postgres-task-rows.js";
import { DurableTaskWorker } from "./postgres-task-worker.js";
import { DurableTaskWrites } from "./postgres-task-writes.js";
import { waitForTerminalRecord } from "./postgres-terminal-wait.js";

/**
 * A `BackgroundTaskHost` whose records live in PostgreSQL and whose named work is claimed from
 * pg-boss queues by any number of worker processes (see ADR 0022). Every process that opens a host on
 * the same database and schemas sees the same tasks and the same events.
 *
 * Named work (`enqueue` + the `tasks` option) runs in whichever process claims it, under a fenced lease
 * that its worker renews while the attempt runs and that expires when the worker stops, so a crashed
 * worker's task is retried or failed by its attempt policy. In-process work
 * (`spawnManaged`, `registerExternal`, `spawnHidden`) runs in the calling process, with its record in
 * the database; when that process stops without closing the host, the lease runs out and a sweep
 * in another process marks the task `failed`.
 */
export class PostgresBackgroundTaskHost implements BackgroundTaskHost {
  readonly #core: DurableHostCore;
  readonly #worker: DurableTaskWorker;
  readonly #writes: DurableTaskWrites;
  readonly #hidden = new HiddenWorkTracker();
  readonly #ownsPool: boolean;
  readonly #readyQueues = new Set<string>();
  /** Ids this host unregistered: its waiters on them re-read the row. */
  readonly #unregistered = new Subject<string>();
  #closed = false;
  #closing: Promise<void> | undefined;

  private constructor(core: DurableHostCore, ownsPool: boolean) {
    this.#core = core;
    this.#ownsPool = ownsPool;
    this.#worker = new DurableTaskWorker(core);
    this.#writes = new DurableTaskWrites(core);
  }

  /**
   * Opens a host: creates the lash tables and pg-boss's schema when missing, starts reading events,
   * and (when `tasks` are given and `concurrency` is not 0) starts claiming their work. Bad options →
   * `LashError("invalid_configuration")`; a database that cannot be reached or set up →
   * `StoreUnavailableError` (code `store_unavailable`), after releasing what was opened.
   */
  static async open(options: PostgresBackgroundTaskHostOptions): Promise<PostgresBackgroundTaskHost> {
    const resolved = resolveHostOptions(options);
    const pool = options.pool ?? new pg.Pool({ connectionString: options.connectionString, max: 10 });
    const ownsPool = options.pool === undefined;
    if (ownsPool) pool.on("error", (error) => resolved.onError(error));
    let boss: PgBoss | undefined;
    let log: DurableEventLog | undefined;
    try {
      const names = durableTableNames(resolved.schema);
      await installDurableTables(pool, names);
      // pg-boss's own supervisor keeps running (retention, and a backstop for job heartbeats) on its
      // own schedule; the host's sweep decides when a task's lease ran out.
      boss = new PgBoss({
        db: asPgBossDatabase(pool),
        schema: resolved.bossSchema,
        schedule: false,
        supervise: true,
        migrate: true,
      });
      boss.on("error", (error) => resolved.onError(error));
      await boss.start();
      const eventLog = new DurableEventLog(pool, names, { pollIntervalMs: resolved.pollIntervalMs, onError: resolved.onError });
      log = eventLog;
      const host = new PostgresBackgroundTaskHost(new DurableHostCore(pool, names, boss, eventLog, resolved, randomUUID()), ownsPool);
      eventLog.events.subscribe(({ event }) => host.#worker.onEvent(event));
      await eventLog.start();
      for (const name of resolved.tasks.keys()) await host.#ensureQueue(host.#core.queueOf(name));
      host.#worker.start();
      return host;
    } catch (error) {
      // The log holds a pooled connection (LISTEN) and a poller: both go before the pool ends.
      await log?.close().catch(() => undefined);
      await boss?.stop({ graceful: false, close: false }).catch(() => undefined);
      if (ownsPool) await pool.end().catch(() => undefined);
      if (LashError.isInstance(error)) throw error;
      const detail = error instanceof Error && error.message !== "" ? error.message : String((error as { code?: unknown })?.code ?? error);
      throw new StoreUnavailableError(`the PostgreSQL background task host could not open its tables (${detail})`, { cause: error });
    }
  }

  /** The id this host uses as a lease owner (one per `open`). */
  get instanceId(): string {
    return this.#core.instanceId;
  }

  // ----- named (durable) work -------------------------------------------------------------

  /**
   * Registers a task whose work is the named task `request.task`, run by whichever worker process
   * defines it and claims it first. The task starts `pending` (a `registered` event) and moves to
   * `running` when claimed. With `options.transaction` (a `pg` client inside a transaction the caller
   * began), the record, its event and the pg-boss job are written in that transaction: they exist
   * only if the caller commits. Same id rule as `register`.
   */
  async enqueue(request: DurableTaskRequest, options: EnqueueOptions = {}): Promise<BackgroundTaskRecord> {
    this.#assertOpen("enqueue a task");
    const parsed = parseEnqueueRequest(request, this.#core.options);
    const queue = this.#core.queueOf(parsed.task);
    await this.#ensureQueue(queue);
    const now = Date.now();
    const record = backgroundTaskRecordSchema.parse({
      ...parsed.identity,
      state: "pending",
      attempt: { ...parsed.attempt, attempt: 0 },
      createdAt: now,
      updatedAt: now,
    });
    const jobId = randomUUID();
    const row: TaskRow = {
      record,
      taskName: parsed.task,
      input: parsed.input,
      queue,
      jobId,
      leaseToken: undefined,
      leaseOwner: undefined,
      leaseExpiresAt: undefined,
      cancelReason: undefined,
    };
    const data: NamedJobData = { taskId: record.id, leaseSeconds: parsed.leaseSeconds };
    const write = async (client: PostgresQueryable): Promise<BackgroundTaskEvent[]> => {
      await insertTaskRow(client, this.#core.names, row);
      const sent = await this.#core.boss.send(queue, data, {
        id: jobId,
        db: asPgBossDatabase(client),
        retryLimit: (record.attempt.maxAttempts ?? 1) - 1,
        retryDelay: parsed.retryDelaySeconds,
        // The worker renews the lease with a heartbeat, so the lease no longer bounds an attempt's
        // run time: only pg-boss's longest expiration does.
        expireInSeconds: LONGEST_ATTEMPT_SECONDS,
        heartbeatSeconds: bossHeartbeatSeconds(parsed.leaseSeconds),
      });
      // pg-boss skips a job whose id exists; a fresh UUID never does, but a task without its job would never run.
      if (sent === null) throw new Error(`pg-boss did not create the job of background task \`${record.id}\``);
      return [{ type: "registered", taskId: record.id, record }];
    };
    if (options.transaction !== undefined) {
      // The caller commits; the event reaches subscribers through the log once it does.
      await appendEvents(options.transaction, this.#core.names, await write(options.transaction));
    } else {
      await this.#core.transact(async (client) => ({ events: await write(client), result: undefined }));
    }
    return record;
  }

  /** Looks for tasks whose lease ran out now, instead of at the next maintenance interval. */
  sweepExpiredLeases(): Promise<void> {
    return this.#worker.sweep();
  }

  // ----- record API -----------------------------------------------------------------------

  async register(request: BackgroundTaskRegisterRequest): Promise<BackgroundTaskRecord> {
    this.#assertOpen("register a task");
    const parsed = parseBackgroundTaskArgument(backgroundTaskRegisterRequestSchema, request, "register request");
    return this.#writes.insert(this.#newRecord(parsed.scope, parsed, "pending"), {}).then((row) => row.record);
  }

  async update(taskId: BackgroundTaskId, update: BackgroundTaskUpdate): Promise<BackgroundTaskRecord> {
    this.#assertOpen("update a task");
    const id = parseBackgroundTaskArgument(backgroundTaskIdSchema, taskId, "task id");
    const parsed = parseBackgroundTaskArgument(backgroundTaskUpdateSchema, update, "update");
    if (parsed.state === "cancel_requested") {
      // A move to `cancel_requested` is a cancel request (its event, its policy, the work's signal),
      // in the same transaction as the update's progress and attempt.
      const { state: _state, ...rest } = parsed;
      return this.#writes.cancel(id, undefined, (row) => {
        if (!isTerminalBackgroundTaskState(row.record.state)) return changeByUpdate(row, rest, Date.now());
        throw new BackgroundTaskTransitionError(row.record.id, row.record.state, "cancel_requested");
      });
    }
    return this.#writes.change(id, (row) => changeByUpdate(row, parsed, Date.now()));
  }

  async complete(taskId: BackgroundTaskId, completion: BackgroundTaskCompletion): Promise<BackgroundTaskRecord> {
    this.#assertOpen("complete a task");
    const id = parseBackgroundTaskArgument(backgroundTaskIdSchema, taskId, "task id");
    const parsed = parseBackgroundTaskArgument(backgroundTaskCompletionSchema, completion, "completion");
    return this.#writes.change(id, (row) => changeToTerminal(row, parsed.state, outcomeOf(parsed.summary, parsed.value), Date.now()), true);
  }

  async requestCancel(taskId: BackgroundTaskId, reason?: string): Promise<BackgroundTaskRecord> {
    this.#assertOpen("cancel a task");
    const id = parseBackgroundTaskArgument(backgroundTaskIdSchema, taskId, "task id");
    return this.#writes.cancel(id, reason);
  }

  async get(taskId: BackgroundTaskId): Promise<BackgroundTaskRecord | undefined> {
    this.#assertOpen("read a task");
    const id = parseBackgroundTaskArgument(backgroundTaskIdSchema, taskId, "task id");
    return (await readTaskRow(this.#core.pool, this.#core.names, id))?.record;
  }

  async list(filterArgument?: BackgroundTaskFilter): Promise<readonly BackgroundTaskRecord[]> {
    this.#assertOpen("list tasks");
    const parsed = parseBackgroundTaskArgument(backgroundTaskFilterSchema, filterArgument ?? {}, "filter");
    const { where, values } = filterClause(parsed);
    const rows = await readTaskRows(this.#core.pool, this.#core.names, where, values);
    return rows.map((row) => row.record).sort(compareBackgroundTaskRecords);
  }

  async transfer(taskId: BackgroundTaskId, scope: BackgroundTaskScope): Promise<BackgroundTaskRecord> {
    this.#assertOpen("transfer a task");
    const id = parseBackgroundTaskArgument(backgroundTaskIdSchema, taskId, "task id");
    const to = parseBackgroundTaskArgument(backgroundTaskScopeSchema, scope, "scope");
    return this.#writes.change(id, (row) => changeScope(row, to, Date.now()));
  }

  /**
   * Settles on the task's ending event. The row is read again when this host unregisters the task
   * and every maintenance interval, so a task removed without an event (`unregisterExternal`, also in
   * another process) rejects with `UnknownBackgroundTaskError` instead of waiting until close.
   */
  waitForTerminal(taskId: BackgroundTaskId, signal?: AbortSignal): Promise<BackgroundTaskRecord> {
    try {
      this.#assertOpen("wait for a task");
    } catch (error) {
      return Promise.reject(error);
    }
    return waitForTerminalRecord(
      {
        events: this.#core.log.events,
        unregistered: this.#unregistered,
        read: (id) => this.get(id),
        recheckIntervalMs: this.#core.options.maintenanceIntervalSeconds * 1000,
      },
      taskId,
      signal,
    );
  }

  subscribe(filterArgument?: BackgroundTaskFilter): Observable<BackgroundTaskEvent> {
    const parsed = parseBackgroundTaskArgument(backgroundTaskFilterSchema, filterArgument ?? {}, "filter");
    return this.#core.log.events.pipe(
      map(({ event }) => event),
      filter((event) => backgroundTaskEventMatches(event, parsed)),
    );
  }

  watch(filterArgument?: BackgroundTaskFilter): Observable<BackgroundTaskWatchItem> {
    const parsed = parseBackgroundTaskArgument(backgroundTaskFilterSchema, filterArgument ?? {}, "filter");
    return watchStream(this.#core, parsed);
  }

  // ----- session-scoped API ---------------------------------------------------------------

  async spawnManaged(
    scope: BackgroundTaskScope,
    registration: BackgroundTaskRegistration,
    work: BackgroundTaskWork,
  ): Promise<BackgroundTaskRecord> {
    this.#assertOpen("spawn a task");
    const parsedScope = parseBackgroundTaskArgument(backgroundTaskScopeSchema, scope, "scope");
    const parsed = parseBackgroundTaskArgument(backgroundTaskRegistrationSchema, registration, "registration");
    if (typeof work !== "function") throw new LashError("invalid_argument", "invalid work: spawnManaged needs a function");
    const base = this.#newRecord(parsedScope, parsed, "running");
    const record = { ...base, attempt: { ...base.attempt, attempt: Math.max(1, base.attempt.attempt) } };
    const lease = this.#worker.newInProcessLease();
    const row = await this.#writes.insert(record, lease);
    this.#worker.runInProcess(row, work);
    return row.record;
  }

  async registerExternal(
    scope: BackgroundTaskScope,
    registration: BackgroundTaskRegistration,
    cancel?: LocalBackgroundTaskCancel,
  ): Promise<BackgroundTaskRecord> {
    this.#assertOpen("register a task");
    const parsedScope = parseBackgroundTaskArgument(backgroundTaskScopeSchema, scope, "scope");
    const parsed = parseBackgroundTaskArgument(backgroundTaskRegistrationSchema, registration, "registration");
    const row = await this.#writes.insert(this.#newRecord(parsedScope, parsed, "running"), this.#worker.newInProcessLease());
    this.#worker.keepHook(row.record.id, cancel);
    return row.record;
  }

  async unregisterExternal(scope: BackgroundTaskScope, taskId: BackgroundTaskId): Promise<void> {
    this.#assertOpen("unregister a task");
    const parsedScope = parseBackgroundTaskArgument(backgroundTaskScopeSchema, scope, "scope");
    const id = parseBackgroundTaskArgument(backgroundTaskIdSchema, taskId, "task id");
    const row = await readTaskRow(this.#core.pool, this.#core.names, id);
    if (row === undefined || row.record.scope.sessionId !== parsedScope.sessionId) return;
    await deleteTaskRow(this.#core.pool, this.#core.names, id, parsedScope.sessionId);
    this.#worker.dropHook(id);
    // No event marks the removal (the contract), so this host's waiters re-read the row now.
    this.#unregistered.next(id);
  }

  async markTerminal(
    scope: BackgroundTaskScope,
    taskId: BackgroundTaskId,
    state: BackgroundTaskTerminalState,
    outcome?: BackgroundTaskOutcome,
  ): Promise<BackgroundTaskRecord | undefined> {
    this.#assertOpen("end a task");
    const parsedScope = parseBackgroundTaskArgument(backgroundTaskScopeSchema, scope, "scope");
    const id = parseBackgroundTaskArgument(backgroundTaskIdSchema, taskId, "task id");
    const terminal = parseBackgroundTaskArgument(backgroundTaskTerminalStateSchema, state, "state");
    const parsedOutcome = outcome === undefined ? undefined : parseBackgroundTaskArgument(backgroundTaskOutcomeSchema, outcome, "outcome");
    return this.#writes.changeInScope(
      parsedScope,
      id,
      (row) =>
        isTerminalBackgroundTaskState(row.record.state)
          ? unchanged(row)
          : changeToTerminal(
              row,
              terminal,
              parsedOutcome === undefined ? undefined : outcomeOf(parsedOutcome.summary, parsedOutcome.value),
              Date.now(),
            ),
      true,
    );
  }

  async markLiveState(
    scope: BackgroundTaskScope,
    taskId: BackgroundTaskId,
    state: BackgroundTaskLiveState,
  ): Promise<BackgroundTaskRecord | undefined> {
    this.#assertOpen("change a task");
    const parsedScope = parseBackgroundTaskArgument(backgroundTaskScopeSchema, scope, "scope");
    const id = parseBackgroundTaskArgument(backgroundTaskIdSchema, taskId, "task id");
    const live = parseBackgroundTaskArgument(backgroundTaskLiveStateSchema, state, "state");
    return this.#writes.changeInScope(parsedScope, id, (row) =>
      isTerminalBackgroundTaskState(row.record.state) || row.record.state === "cancel_requested"
        ? unchanged(row)
        : changeLiveState(row, live, Date.now()),
    );
  }

  async cancelManaged(scope: BackgroundTaskScope, taskId: BackgroundTaskId, reason?: string): Promise<BackgroundTaskRecord | undefined> {
    this.#assertOpen("cancel a task");
    const parsedScope = parseBackgroundTaskArgument(backgroundTaskScopeSchema, scope, "scope");
    const id = parseBackgroundTaskArgument(backgroundTaskIdSchema, taskId, "task id");
    const row = await readTaskRow(this.#core.pool, this.#core.names, id);
    if (row === undefined || row.record.scope.sessionId !== parsedScope.sessionId) return undefined;
    return this.#writes.cancel(id, reason);
  }

  async listManaged(scope: BackgroundTaskScope): Promise<readonly BackgroundTaskRecord[]> {
    const parsedScope = parseBackgroundTaskArgument(backgroundTaskScopeSchema, scope, "scope");
    return this.list({ sessionId: parsedScope.sessionId, includeTerminal: true });
  }

  async getManaged(scope: BackgroundTaskScope, taskId: BackgroundTaskId): Promise<BackgroundTaskRecord | undefined> {
    const parsedScope = parseBackgroundTaskArgument(backgroundTaskScopeSchema, scope, "scope");
    const record = await this.get(taskId);
    return record?.scope.sessionId === parsedScope.sessionId ? record : undefined;
  }

  async transferManaged(
    from: BackgroundTaskScope,
    to: BackgroundTaskScope,
    taskIds: readonly BackgroundTaskId[],
  ): Promise<readonly BackgroundTaskRecord[]> {
    this.#assertOpen("transfer tasks");
    const source = parseBackgroundTaskArgument(backgroundTaskScopeSchema, from, "from scope");
    const target = parseBackgroundTaskArgument(backgroundTaskScopeSchema, to, "to scope");
    const moved: BackgroundTaskRecord[] = [];
    for (const taskId of taskIds) {
      const record = await this.#writes.changeInScope(source, taskId, (row) => changeScope(row, target, Date.now()));
      if (record !== undefined && record.scope.sessionId === target.sessionId) moved.push(record);
    }
    return moved;
  }

  async cancelAllManaged(scope: BackgroundTaskScope, reason?: string): Promise<readonly BackgroundTaskRecord[]> {
    this.#assertOpen("cancel tasks");
    const parsedScope = parseBackgroundTaskArgument(backgroundTaskScopeSchema, scope, "scope");
    const live = await this.list({ sessionId: parsedScope.sessionId });
    const records: BackgroundTaskRecord[] = [];
    for (const record of live) records.push(await this.#writes.cancel(record.id, reason));
    return records;
  }

  async closeScope(
    scope: BackgroundTaskScope,
    options: { readonly parent?: BackgroundTaskScope; readonly reason?: string } = {},
  ): Promise<BackgroundScopeCloseReport> {
    this.#assertOpen("close a scope");
    const parsedScope = parseBackgroundTaskArgument(backgroundTaskScopeSchema, scope, "scope");
    const parent =
      options.parent === undefined ? undefined : parseBackgroundTaskArgument(backgroundTaskScopeSchema, options.parent, "parent scope");
    const kept: BackgroundTaskRecord[] = [];
    const cancelled: BackgroundTaskRecord[] = [];
    const transferred: BackgroundTaskRecord[] = [];
    for (const record of await this.list({ sessionId: parsedScope.sessionId })) {
      if (record.closePolicy === "cancel") cancelled.push(await this.#writes.cancel(record.id, options.reason ?? "session closed"));
      else if (record.closePolicy === "transfer" && parent !== undefined && parent.sessionId !== parsedScope.sessionId) {
        transferred.push(await this.#writes.change(record.id, (row) => changeScope(row, parent, Date.now())));
      } else kept.push(record);
    }
    return { kept, cancelled, transferred };
  }

  spawnHidden(scope: BackgroundTaskScope, label: string, work: HiddenBackgroundWork): void {
    this.#assertOpen("spawn a hidden task");
    const parsedScope = parseBackgroundTaskArgument(backgroundTaskScopeSchema, scope, "scope");
    this.#hidden.spawn(parsedScope.sessionId, label, work);
  }

  awaitHidden(scope: BackgroundTaskScope): Promise<void> {
    const parsedScope = parseBackgroundTaskArgument(backgroundTaskScopeSchema, scope, "scope");
    return this.#hidden.await(parsedScope.sessionId);
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#closed = true;
      await this.#worker.close();
      this.#hidden.abortAll();
      await this.#core.log.close();
      this.#unregistered.complete();
      await this.#core.boss.stop({ graceful: false, close: false }).catch((error: unknown) => this.#core.reportError(error));
      if (this.#ownsPool) await this.#core.pool.end();
    })();
    return this.#closing;
  }

  // ----- internals ------------------------------------------------------------------------

  #assertOpen(operation: string): void {
    if (this.#closed) throw new BackgroundTaskHostClosedError(operation);
  }

  /**
   * Creates a task's pg-boss queue once per process. Processes that create the same new queue at
   * once can collide inside pg-boss (pg-boss 10 deadlocked there); a failed creation is therefore
   * checked against the queue table, and only tried again while the queue is still missing.
   */
  async #ensureQueue(queue: string): Promise<void> {
    if (this.#readyQueues.has(queue)) return;
    for (let attempt = 1; ; attempt += 1) {
      try {
        await this.#core.boss.createQueue(queue);
        break;
      } catch (error) {
        if ((await this.#core.boss.getQueue(queue).catch(() => null)) !== null) break;
        if (attempt >= 5) throw error;
      }
    }
    this.#readyQueues.add(queue);
  }

  #newRecord(
    scope: BackgroundTaskScope,
    registration: ReturnType<typeof backgroundTaskRegistrationSchema.parse>,
    state: "pending" | "running",
  ): BackgroundTaskRecord {
    return backgroundTaskRecordSchema.parse(newTaskRecord(scope, registration, state, Date.now()));
  }
}

/** Opens a `PostgresBackgroundTaskHost` (see `PostgresBackgroundTaskHost.open`). */
export function createPostgresBackgroundTaskHost(options: PostgresBackgroundTaskHostOptions): Promise<PostgresBackgroundTaskHost> {
  return PostgresBackgroundTaskHost.open(options);
}
