import { randomUUID } from "node:crypto";
import {
  type BackgroundTaskEvent,
  type BackgroundTaskOutcome,
  type BackgroundTaskWork,
  type BackgroundTaskWorkContext,
  isTerminalBackgroundTaskState,
  type LocalBackgroundTaskCancel,
} from "@lash/protocol";
import type { DurableHostCore } from "./postgres-host-core.js";
import type { DurableTaskWork } from "./postgres-host-options.js";
import {
  cancelNamedJob,
  completeNamedAttempt,
  failNamedAttempt,
  type NamedJobData,
  NamedLeaseKeeper,
  reconcileExpiredLease,
} from "./postgres-named-lease.js";
import { asPgBossDatabase } from "./postgres-queryable.js";
import {
  changeByUpdate,
  changeLiveState,
  changeToRetry,
  changeToTerminal,
  outcomeOf,
  type TaskChange,
  unchanged,
} from "./postgres-task-changes.js";
import { readTaskRow, readTaskRows, type TaskRow, updateTaskRow } from "./postgres-task-rows.js";

/** What a named attempt holds besides its task's lease token: the lease's length and its job's claim. */
interface NamedClaim {
  readonly leaseSeconds: number;
  /** pg-boss's count of the job's claims when this attempt fetched it (the attempt's fence in pg-boss). */
  readonly retryCount: number;
}

/** One attempt this process runs, and how to stop it. */
interface RunningAttempt {
  readonly controller: AbortController;
  readonly leaseToken: string;
  /** Set for a named attempt, absent for in-process work. */
  readonly named: NamedClaim | undefined;
}

/** A claimed named attempt: its row (holding the new lease) and its claim. */
interface ClaimedAttempt {
  readonly row: TaskRow;
  readonly claim: NamedClaim;
}

/** How often the ending of an attempt is written before the task is left to the lease sweep. */
const FINAL_WRITE_ATTEMPTS = 5;
/** The wait before the first retry of a final write; it doubles with each retry (0.1 s … 0.8 s). */
const FINAL_WRITE_FIRST_DELAY_MS = 100;

/** The message a failed attempt leaves in `failure.summary` and `retrying.error`. */
function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message === "" ? error.name : error.message;
  return String(error);
}

/** Whether the host of a task should stop its work after this event. */
function stopsWork(event: BackgroundTaskEvent): boolean {
  const state = event.record.state;
  return isTerminalBackgroundTaskState(state) || (state === "cancel_requested" && event.record.cancelPolicy !== "external");
}

/**
 * The work side of a durable host: runs in-process work and claimed named work under fenced leases,
 * reacts to cancellations from any process, renews the leases of the work it runs, claims pg-boss
 * jobs, and reconciles tasks whose lease ran out.
 */
export class DurableTaskWorker {
  readonly #core: DurableHostCore;
  readonly #running = new Map<string, RunningAttempt>();
  readonly #hooks = new Map<string, LocalBackgroundTaskCancel>();
  /** `registerExternal` tasks this process holds: their owner drives them here, so their lease is renewed. */
  readonly #external = new Set<string>();
  readonly #queues: string[];
  readonly #timers: ReturnType<typeof setInterval>[] = [];
  #claiming: Promise<void> | undefined;
  #claimAgain = false;
  #sweeping: Promise<void> | undefined;
  #sweepAgain: Promise<void> | undefined;
  #closing = false;

  constructor(core: DurableHostCore) {
    this.#core = core;
    this.#queues = core.options.concurrency === 0 ? [] : [...core.options.tasks.keys()].map((name) => core.queueOf(name));
  }

  /** Starts claiming, renewing and sweeping (after the queues exist). */
  start(): void {
    const { options } = this.#core;
    const every = (milliseconds: number, action: () => void): void => {
      const timer = setInterval(action, milliseconds);
      timer.unref();
      this.#timers.push(timer);
    };
    if (this.#queues.length > 0) {
      every(options.pollIntervalMs, () => void this.claim());
      void this.claim();
    }
    every((options.inProcessLeaseSeconds * 1000) / 3, () => void this.#renewLeases());
    every(options.maintenanceIntervalSeconds * 1000, () => void this.sweep());
  }

  /** Reacts to an event read from the log: stops work that was cancelled or ended elsewhere, wakes the claimer. */
  onEvent(event: BackgroundTaskEvent): void {
    const running = this.#running.get(event.taskId);
    if (running !== undefined && stopsWork(event)) {
      running.controller.abort(
        new Error(isTerminalBackgroundTaskState(event.record.state) ? `task ended as ${event.record.state}` : "cancel requested"),
      );
    }
    if (isTerminalBackgroundTaskState(event.record.state)) this.#external.delete(event.taskId);
    const hook = this.#hooks.get(event.taskId);
    if (hook !== undefined) {
      const state = event.record.state;
      // The hook runs at most once, and only for a cancellation; an ending without one drops it.
      if (state === "completed" || state === "failed") this.#hooks.delete(event.taskId);
      else if (stopsWork(event)) {
        this.#hooks.delete(event.taskId);
        void this.#runCancelHook(event.taskId, hook);
      }
    }
    if (event.type === "registered" && event.record.state === "pending" && this.#queues.length > 0) void this.claim();
  }

  /**
   * Holds a `registerExternal` task here (its lease is renewed while it is live) and keeps its cancel
   * hook, called at most once when the task is cancelled.
   */
  keepHook(taskId: string, hook: LocalBackgroundTaskCancel | undefined): void {
    this.#external.add(taskId);
    if (hook === undefined) this.#hooks.delete(taskId);
    else this.#hooks.set(taskId, hook);
  }

  /** Forgets a task held here and its hook (the task was unregistered). */
  dropHook(taskId: string): void {
    this.#external.delete(taskId);
    this.#hooks.delete(taskId);
  }

  /** A new lease for in-process work of this host. */
  newInProcessLease(): Pick<TaskRow, "leaseToken" | "leaseOwner" | "leaseExpiresAt"> {
    return {
      leaseToken: randomUUID(),
      leaseOwner: this.#core.instanceId,
      leaseExpiresAt: Date.now() + this.#core.options.inProcessLeaseSeconds * 1000,
    };
  }

  /** Runs in-process work for a task this host just spawned (`row` holds its lease), retrying in place. */
  runInProcess(row: TaskRow, work: BackgroundTaskWork): void {
    this.#launch(row, undefined, (context) => work(context));
  }

  /**
   * Stops everything this process runs: aborts attempts (in-process work ends `cancelled` with
   * "host closed"; a named attempt fails and is retried elsewhere by its attempt policy), calls the
   * cancel hooks of external tasks and ends them `cancelled`, and waits for those writes.
   */
  async close(): Promise<void> {
    this.#closing = true;
    for (const timer of this.#timers) clearInterval(timer);
    await this.#claiming;
    // Work that ignores its signal must not hold the close up: each attempt's ending is written now,
    // fenced by its lease like any other, and whatever the work does later changes nothing.
    const attempts = [...this.#running.entries()];
    for (const [, running] of attempts) running.controller.abort(new Error("host closed"));
    await Promise.allSettled(
      attempts.map(([taskId, running]) =>
        this.#finish(taskId, running.leaseToken, running.named, undefined, { error: new Error("host closed") }, "host closed"),
      ),
    );
    const hooks = [...this.#hooks.entries()];
    this.#hooks.clear();
    await Promise.allSettled(hooks.map(([taskId, hook]) => this.#runCancelHook(taskId, hook, "host closed")));
    await this.#sweepAgain;
    await this.#sweeping;
    await this.#endOwnInProcessTasks().catch((error: unknown) => this.#core.reportError(error));
  }

  /** Ends the in-process tasks this host still holds (external ones without a hook): nobody else can run them. */
  async #endOwnInProcessTasks(): Promise<void> {
    const { pool, names, instanceId } = this.#core;
    const own = await readTaskRows(pool, names, "not terminal and job_id is null and lease_owner = $1", [instanceId]);
    for (const stale of own) {
      await this.#core.transact(async (client) => {
        const row = await readTaskRow(client, names, stale.record.id, true);
        if (row === undefined || row.leaseOwner !== instanceId || isTerminalBackgroundTaskState(row.record.state))
          return { events: [], result: undefined };
        const change = changeToTerminal(row, "cancelled", outcomeOf("host closed", undefined), Date.now());
        await updateTaskRow(client, names, change.row);
        return { events: change.events, result: undefined };
      });
    }
  }

  /** Claims jobs while this process has free slots. Concurrent calls share one pass (plus one more). */
  claim(): Promise<void> {
    if (this.#claiming !== undefined) {
      this.#claimAgain = true;
      return this.#claiming;
    }
    this.#claiming = (async () => {
      try {
        do {
          this.#claimAgain = false;
          while (!this.#closing && this.#namedRunning() < this.#core.options.concurrency && (await this.#claimOne())) {
            // Keep claiming while jobs come back.
          }
        } while (this.#claimAgain && !this.#closing);
      } catch (error) {
        this.#core.reportError(error);
      } finally {
        this.#claiming = undefined;
      }
    })();
    return this.#claiming;
  }

  /** Reconciles tasks whose lease ran out (a crashed or stuck worker). Safe to run in every process at once. */
  sweep(): Promise<void> {
    if (this.#closing) return this.#sweeping ?? Promise.resolve();
    // A pass already running may have read the rows before the caller's change: run one more after it.
    if (this.#sweeping !== undefined) {
      this.#sweepAgain ??= this.#sweeping.then(() => {
        this.#sweepAgain = undefined;
        return this.sweep();
      });
      return this.#sweepAgain;
    }
    this.#sweeping = (async () => {
      try {
        const { pool, names } = this.#core;
        const expired = await readTaskRows(pool, names, "not terminal and lease_expires_at < now()", []);
        for (const row of expired) {
          if (this.#closing) break;
          await this.#reconcile(row).catch((error: unknown) => this.#core.reportError(error));
        }
        await this.#checkRunning();
        await pool.query(`delete from ${names.events} where recorded_at < now() - make_interval(hours => $1::int)`, [
          this.#core.options.eventRetentionHours,
        ]);
      } catch (error) {
        this.#core.reportError(error);
      } finally {
        this.#sweeping = undefined;
      }
    })();
    return this.#sweeping;
  }

  /**
   * The check behind the notifications: re-reads the rows of the attempts this process runs and stops
   * those whose lease was taken over, or whose task was cancelled or ended, even if no event said so.
   */
  async #checkRunning(): Promise<void> {
    const ids = [...this.#running.keys()];
    if (ids.length === 0) return;
    const { rows } = await this.#core.pool.query<{ task_id: string; lease_token: string | null; state: string; cancel_policy: string }>(
      `select task_id, lease_token, state, record->>'cancelPolicy' as cancel_policy from ${this.#core.names.tasks} where task_id = any($1::text[])`,
      [ids],
    );
    const found = new Map(rows.map((row) => [row.task_id, row]));
    for (const [taskId, running] of this.#running) {
      const row = found.get(taskId);
      const stop =
        row === undefined ||
        row.lease_token !== running.leaseToken ||
        ["completed", "failed", "cancelled"].includes(row.state) ||
        (row.state === "cancel_requested" && row.cancel_policy !== "external");
      if (stop)
        running.controller.abort(
          new Error(row === undefined || row.lease_token !== running.leaseToken ? "the attempt lost its lease" : "cancel requested"),
        );
    }
  }

  #namedRunning(): number {
    let count = 0;
    for (const running of this.#running.values()) if (running.named !== undefined) count += 1;
    return count;
  }

  async #claimOne(): Promise<boolean> {
    const { names, boss, instanceId, options } = this.#core;
    for (const queue of this.#queues) {
      const claimed = await this.#core.transact<ClaimedAttempt | "skipped" | undefined>(async (client) => {
        const db = asPgBossDatabase(client);
        const [job] = await boss.fetch<NamedJobData | null>(queue, { batchSize: 1, db });
        if (job === undefined) return { events: [], result: undefined };
        const taskId = typeof job.data?.taskId === "string" ? job.data.taskId : undefined;
        const row = taskId === undefined ? undefined : await readTaskRow(client, names, taskId, true);
        // A job whose task is gone or was replaced by a new task with the same id has no work left.
        if (row === undefined || row.jobId !== job.id || isTerminalBackgroundTaskState(row.record.state)) {
          await boss.cancel(queue, job.id, { db });
          return { events: [], result: "skipped" as const };
        }
        if (row.record.state === "cancel_requested") {
          const change = changeToTerminal(
            row,
            "cancelled",
            outcomeOf(row.cancelReason ?? "cancelled before it started", undefined),
            Date.now(),
          );
          await boss.cancel(queue, job.id, { db });
          await updateTaskRow(client, names, change.row);
          return { events: change.events, result: "skipped" as const };
        }
        const attempt = job.retryCount + 1;
        const now = Date.now();
        let change: TaskChange;
        if (row.record.attempt.attempt === 0) {
          change = unchanged({ ...row, record: { ...row.record, attempt: { ...row.record.attempt, attempt } } });
        } else if (row.record.attempt.attempt < attempt) {
          // The previous attempt's lease ran out before a sweep announced the retry: announce it now.
          change = changeToRetry(row, attempt, `attempt ${row.record.attempt.attempt} ran past its lease`, now);
        } else {
          change = unchanged(row);
        }
        if (change.row.record.state !== "running") {
          const moved = changeLiveState(change.row, "running", now);
          change = { row: moved.row, events: [...change.events, ...moved.events] };
        }
        const stored = job.data?.leaseSeconds;
        const leaseSeconds = typeof stored === "number" && Number.isInteger(stored) && stored > 0 ? stored : options.leaseSeconds;
        const leased: TaskRow = {
          ...change.row,
          leaseToken: randomUUID(),
          leaseOwner: instanceId,
          leaseExpiresAt: now + leaseSeconds * 1000,
        };
        await updateTaskRow(client, names, leased);
        return { events: change.events, result: { row: leased, claim: { leaseSeconds, retryCount: job.retryCount } } };
      });
      if (claimed === undefined) continue;
      if (claimed !== "skipped") this.#startNamed(claimed);
      return true;
    }
    return false;
  }

  #startNamed({ row, claim }: ClaimedAttempt): void {
    const work: DurableTaskWork | undefined = row.taskName === undefined ? undefined : this.#core.options.tasks.get(row.taskName);
    if (work === undefined) return;
    const input = row.input ?? null;
    this.#launch(row, claim, (context) => work({ ...context, input }));
  }

  /**
   * Starts an attempt loop for `row` and tracks it until its last write. A named attempt keeps its
   * lease alive while it runs; in-process leases are renewed together by `#renewLeases`.
   */
  #launch(
    row: TaskRow,
    named: NamedClaim | undefined,
    work: (context: BackgroundTaskWorkContext) => Promise<BackgroundTaskOutcome | undefined | void>,
  ): void {
    const taskId = row.record.id;
    const leaseToken = row.leaseToken ?? "";
    const run = async (): Promise<void> => {
      let current: TaskRow | undefined = row;
      while (current !== undefined) {
        const controller = new AbortController();
        const running: RunningAttempt = { controller, leaseToken, named };
        this.#running.set(taskId, running);
        let keeper: NamedLeaseKeeper | undefined;
        if (named !== undefined) {
          keeper = new NamedLeaseKeeper(this.#core, { taskId, leaseToken, ...named }, controller);
          keeper.start(current.leaseExpiresAt ?? Date.now() + named.leaseSeconds * 1000);
        }
        // Work that was cancelled or closed before it started does not start.
        if (this.#closing) controller.abort(new Error("host closed"));
        let outcome: BackgroundTaskOutcome | undefined | void;
        let failure: { error: unknown } | undefined;
        if (!controller.signal.aborted) {
          try {
            outcome = await work(this.#context(current, controller.signal, leaseToken));
          } catch (error) {
            failure = { error };
          }
        } else {
          failure = { error: controller.signal.reason };
        }
        keeper?.stop();
        const aborted = controller.signal.aborted ? errorMessage(controller.signal.reason) : undefined;
        current = await this.#finishWithRetries(taskId, leaseToken, named, outcome, failure, aborted);
        // A retry of this task may already have been claimed here again: only this attempt's entry goes.
        if (this.#running.get(taskId) === running) this.#running.delete(taskId);
      }
    };
    void run();
  }

  #context(row: TaskRow, signal: AbortSignal, leaseToken: string): BackgroundTaskWorkContext {
    const taskId = row.record.id;
    return {
      record: row.record,
      attempt: row.record.attempt.attempt,
      signal,
      progress: async (message) => {
        await this.#fenced(taskId, leaseToken, (current) => changeByUpdate(current, { progress: message }, Date.now()));
      },
      setLiveState: async (state) => {
        await this.#fenced(taskId, leaseToken, (current) =>
          current.record.state === "cancel_requested" ? unchanged(current) : changeLiveState(current, state, Date.now()),
        );
      },
    };
  }

  /** Applies a change only while `leaseToken` still holds the task's lease (a stale attempt changes nothing). */
  async #fenced(taskId: string, leaseToken: string, change: (row: TaskRow) => TaskChange): Promise<void> {
    const { names } = this.#core;
    await this.#core.transact(async (client) => {
      const row = await readTaskRow(client, names, taskId, true);
      if (row === undefined || row.leaseToken !== leaseToken || isTerminalBackgroundTaskState(row.record.state))
        return { events: [], result: undefined };
      const next = change(row);
      if (next.events.length > 0) await updateTaskRow(client, names, next.row);
      return { events: next.events, result: undefined };
    });
  }

  /**
   * `#finish`, tried again with a growing wait when the write fails (a dropped connection, a full
   * pool). When every try failed the ending is lost: the task is no longer renewed here, so the sweep
   * fails it once its lease runs out, instead of it staying `running` forever.
   */
  async #finishWithRetries(
    taskId: string,
    leaseToken: string,
    named: NamedClaim | undefined,
    outcome: BackgroundTaskOutcome | undefined | void,
    failure: { error: unknown } | undefined,
    abortedBecause: string | undefined,
  ): Promise<TaskRow | undefined> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await this.#finish(taskId, leaseToken, named, outcome, failure, abortedBecause);
      } catch (error) {
        if (attempt >= FINAL_WRITE_ATTEMPTS) {
          this.#core.reportError(
            new Error(`could not record the ending of background task \`${taskId}\` after ${attempt} tries; its lease sweep will fail it`, {
              cause: error,
            }),
          );
          return undefined;
        }
        await new Promise<void>((resolve) => setTimeout(resolve, FINAL_WRITE_FIRST_DELAY_MS * 2 ** (attempt - 1)));
      }
    }
  }

  /**
   * Records how an attempt ended, fenced by its lease: cancelled (a cancel was requested, or the host
   * closed in-process work), completed, retried or failed. Returns the row for the next in-process
   * attempt, or `undefined` when this process runs no more attempts of the task.
   */
  async #finish(
    taskId: string,
    leaseToken: string,
    named: NamedClaim | undefined,
    outcome: BackgroundTaskOutcome | undefined | void,
    failure: { error: unknown } | undefined,
    abortedBecause: string | undefined,
  ): Promise<TaskRow | undefined> {
    const { names } = this.#core;
    return this.#core.transact(async (client) => {
      const row = await readTaskRow(client, names, taskId, true);
      if (row === undefined || row.leaseToken !== leaseToken || isTerminalBackgroundTaskState(row.record.state))
        return { events: [], result: undefined };
      const now = Date.now();
      const end = async (change: TaskChange, next?: TaskRow): Promise<{ events: BackgroundTaskEvent[]; result: TaskRow | undefined }> => {
        await updateTaskRow(client, names, change.row);
        return { events: change.events, result: next };
      };
      if (row.record.state === "cancel_requested") {
        await cancelNamedJob(this.#core, client, row);
        return end(changeToTerminal(row, "cancelled", outcomeOf(row.cancelReason ?? "cancelled", undefined), now));
      }
      if (failure === undefined) {
        const result = outcome ?? undefined;
        await completeNamedAttempt(this.#core, client, row, named?.retryCount);
        return end(changeToTerminal(row, "completed", result === undefined ? undefined : outcomeOf(result.summary, result.value), now));
      }
      // In-process work cannot continue anywhere else once its host closes.
      if (named === undefined && this.#closing) return end(changeToTerminal(row, "cancelled", outcomeOf("host closed", undefined), now));
      const message = abortedBecause ?? errorMessage(failure.error);
      // A named task's next attempt is claimed from the queue, by any worker, when pg-boss queued it again.
      if (named !== undefined)
        return end(await failNamedAttempt(this.#core, client, row, named.retryCount, { retry: message, failed: message }, now));
      const attempt = row.record.attempt.attempt;
      if (attempt < (row.record.attempt.maxAttempts ?? 1)) {
        // In-process work retries here.
        const retry = changeToRetry(row, attempt + 1, message, now);
        return end(retry, retry.row);
      }
      return end(changeToTerminal(row, "failed", outcomeOf(message, undefined), now));
    });
  }

  async #runCancelHook(taskId: string, hook: LocalBackgroundTaskCancel, fallbackReason = "cancelled"): Promise<void> {
    try {
      await hook();
    } catch (error) {
      this.#core.reportError(error);
    }
    const { names } = this.#core;
    await this.#core
      .transact(async (client) => {
        const row = await readTaskRow(client, names, taskId, true);
        if (row === undefined || isTerminalBackgroundTaskState(row.record.state)) return { events: [], result: undefined };
        const reason = row.record.state === "cancel_requested" ? (row.cancelReason ?? fallbackReason) : fallbackReason;
        const change = changeToTerminal(row, "cancelled", outcomeOf(reason, undefined), Date.now());
        await updateTaskRow(client, names, change.row);
        return { events: change.events, result: undefined };
      })
      .catch((error: unknown) => this.#core.reportError(error));
  }

  /** In-process tasks that live here: work running (or writing its ending) and external tasks held. */
  #heldHere(taskId: string): boolean {
    const running = this.#running.get(taskId);
    return (running !== undefined && running.named === undefined) || this.#external.has(taskId);
  }

  /**
   * Renews the leases of the in-process tasks held here, and only those: a task whose ending could
   * not be written must run out of lease, so that the sweep fails it.
   */
  async #renewLeases(): Promise<void> {
    const { pool, names, instanceId, options } = this.#core;
    const held = [...new Set([...this.#running.keys(), ...this.#external])].filter((taskId) => this.#heldHere(taskId));
    if (held.length === 0) return;
    await pool
      .query(
        `update ${names.tasks} set lease_expires_at = now() + make_interval(secs => $2)
         where lease_owner = $1 and job_id is null and not terminal and task_id = any($3::text[])`,
        [instanceId, options.inProcessLeaseSeconds, held],
      )
      .catch((error: unknown) => this.#core.reportError(error));
  }

  /** Ends or retries a task whose lease ran out, unless this live host still holds it (see ADR 0022). */
  async #reconcile(stale: TaskRow): Promise<void> {
    const { names, instanceId } = this.#core;
    // In-process work this live host still holds: its lease is renewed here, so it is late, not lost.
    // One it no longer holds (its ending could not be written) is failed like a crashed process's.
    const keeps = (row: TaskRow): boolean =>
      row.jobId === undefined && row.leaseOwner === instanceId && !this.#closing && this.#heldHere(row.record.id);
    await this.#core.transact(async (client) => {
      const change = await reconcileExpiredLease(this.#core, client, stale, keeps);
      if (change === undefined) return { events: [], result: undefined };
      await updateTaskRow(client, names, change.row);
      return { events: change.events, result: undefined };
    });
  }
}
