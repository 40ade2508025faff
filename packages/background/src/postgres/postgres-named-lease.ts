import { isTerminalBackgroundTaskState } from "@lash/protocol";
import type { Db, JobAttempt, JobWithMetadata } from "pg-boss";
import type { DurableHostCore } from "./postgres-host-core.js";
import { asPgBossDatabase, type PostgresQueryable } from "./postgres-queryable.js";
import { changeToRetry, changeToTerminal, outcomeOf, type TaskChange } from "./postgres-task-changes.js";
import { readTaskRow, type TaskRow, withoutLease } from "./postgres-task-rows.js";

/**
 * pg-boss ends any job that stays active longer than this (its largest `expireInSeconds`), heartbeat
 * or not. It is the only bound left on how long one named attempt may run while its worker lives.
 */
export const LONGEST_ATTEMPT_SECONDS = 24 * 60 * 60;

/** pg-boss refuses a job heartbeat window shorter than this. */
const SHORTEST_BOSS_HEARTBEAT_SECONDS = 10;

/**
 * The heartbeat window of a named task's pg-boss job. pg-boss's own supervisor is only a backstop
 * (the host's sweep fails an attempt whose lease ran out first), so a window longer than the lease,
 * where pg-boss's minimum forces one, changes nothing a user can see.
 */
export function bossHeartbeatSeconds(leaseSeconds: number): number {
  return Math.max(SHORTEST_BOSS_HEARTBEAT_SECONDS, leaseSeconds);
}

/** What the host stores in a named task's pg-boss job. */
export interface NamedJobData {
  readonly taskId?: unknown;
  /** The task's lease, in seconds: the claim needs it, and the job is what the claim reads first. */
  readonly leaseSeconds?: unknown;
}

/**
 * A named task's job, fenced to one attempt: pg-boss refuses a call naming an attempt (`retryCount`,
 * as the claim fetched it) that has moved on, so a worker that lost its claim cannot settle or keep
 * alive the attempt another worker now runs.
 */
interface NamedJob {
  readonly queue: string;
  readonly attempt: JobAttempt;
}

function namedJobOf(row: TaskRow, retryCount: number): NamedJob | undefined {
  if (row.jobId === undefined || row.queue === undefined) return undefined;
  return { queue: row.queue, attempt: { id: row.jobId, retryCount } };
}

/** The job's state and claim count now, or `undefined` when pg-boss no longer has it. */
async function readJob(
  core: DurableHostCore,
  queue: string,
  jobId: string,
  db: Db,
): Promise<Pick<JobWithMetadata, "state" | "retryCount"> | undefined> {
  const [found] = await core.boss.findJobs(queue, { id: jobId, db });
  return found;
}

/** Completes the job of the attempt a worker claimed (`retryCount`), in the caller's transaction. */
export async function completeNamedAttempt(
  core: DurableHostCore,
  client: PostgresQueryable,
  row: TaskRow,
  retryCount: number | undefined,
): Promise<void> {
  const job = retryCount === undefined ? undefined : namedJobOf(row, retryCount);
  if (job !== undefined) await core.boss.complete(job.queue, job.attempt, {}, { db: asPgBossDatabase(client) });
}

/** Cancels a task's job, whichever state it is in (a job already ended is left as it is). */
export async function cancelNamedJob(core: DurableHostCore, client: PostgresQueryable, row: TaskRow): Promise<void> {
  if (row.jobId !== undefined && row.queue !== undefined) await core.boss.cancel(row.queue, row.jobId, { db: asPgBossDatabase(client) });
}

/**
 * Fails an attempt of a named task on pg-boss's side, then decides the task's next state from what
 * pg-boss did with the job: queued again (the attempt policy allows another try) → `retrying`, the
 * lease dropped, so the next claim by any worker takes it; otherwise the task fails. pg-boss may have
 * failed the attempt already (its heartbeat supervisor, its one-day limit); the fenced call then
 * changes nothing and the job's state still tells what happened.
 *
 * `retryCount` names the attempt as its worker claimed it. Without it (the sweep, in any process)
 * the active attempt is the lost one: the caller holds the task's row lock with the lease the sweep
 * found, and a newer claim would have replaced that lease in the claim's own transaction.
 */
export async function failNamedAttempt(
  core: DurableHostCore,
  client: PostgresQueryable,
  row: TaskRow,
  retryCount: number | undefined,
  messages: { readonly retry: string; readonly failed: string },
  now: number,
): Promise<TaskChange> {
  const attempt = row.record.attempt.attempt;
  const maxAttempts = row.record.attempt.maxAttempts ?? 1;
  if (row.jobId === undefined || row.queue === undefined)
    return changeToTerminal(row, "failed", outcomeOf(messages.failed, undefined), now);
  const db = asPgBossDatabase(client);
  let claimed = retryCount;
  if (claimed === undefined) {
    const found = await readJob(core, row.queue, row.jobId, db);
    if (found?.state === "active") claimed = found.retryCount;
  }
  if (claimed !== undefined) await core.boss.fail(row.queue, { id: row.jobId, retryCount: claimed }, { message: messages.retry }, { db });
  const state = (await readJob(core, row.queue, row.jobId, db))?.state;
  const runsAgain = state === "created" || state === "retry" || state === "active";
  if (runsAgain && attempt < maxAttempts) {
    const retry = changeToRetry(row, attempt + 1, messages.retry, now);
    return { row: withoutLease(retry.row), events: retry.events };
  }
  // The task's policy is what ends it; a job pg-boss would still run must not be claimed again.
  if (runsAgain) await core.boss.cancel(row.queue, row.jobId, { db });
  return changeToTerminal(row, "failed", outcomeOf(messages.failed, undefined), now);
}

/**
 * Decides what became of a task whose lease ran out (its worker or owning process stopped renewing
 * it). Returns `undefined` when nothing changes: the lease moved on, the task ended, or `keeps(row)`
 * says this live host still holds it. A named attempt's job is failed here rather than left to
 * pg-boss's supervisor, so the lease alone bounds how long a lost worker holds its task.
 */
export async function reconcileExpiredLease(
  core: DurableHostCore,
  client: PostgresQueryable,
  stale: TaskRow,
  keeps: (row: TaskRow) => boolean,
): Promise<TaskChange | undefined> {
  const row = await readTaskRow(client, core.names, stale.record.id, true);
  if (row === undefined || row.leaseToken !== stale.leaseToken || isTerminalBackgroundTaskState(row.record.state) || keeps(row))
    return undefined;
  const now = Date.now();
  const cancelled = row.record.state === "cancel_requested";
  if (cancelled) {
    await cancelNamedJob(core, client, row);
    return changeToTerminal(row, "cancelled", outcomeOf(row.cancelReason ?? "cancelled", undefined), now);
  }
  if (row.jobId === undefined) {
    return changeToTerminal(row, "failed", outcomeOf("the process running this task stopped (its lease expired)", undefined), now);
  }
  const attempt = row.record.attempt.attempt;
  const maxAttempts = row.record.attempt.maxAttempts ?? 1;
  return failNamedAttempt(
    core,
    client,
    row,
    undefined,
    {
      retry: `attempt ${attempt} ran past its lease (its worker stopped renewing it)`,
      failed: `attempt ${attempt} of ${maxAttempts} ran past its lease (its worker stopped renewing it)`,
    },
    now,
  );
}

/** The lease a named attempt holds: its task, fencing token, length, and the job attempt it claimed. */
export interface LeaseClaim {
  readonly taskId: string;
  readonly leaseToken: string;
  readonly leaseSeconds: number;
  /** pg-boss's count of the job's claims when this attempt fetched it. */
  readonly retryCount: number;
}

/** Whether a renewal kept the lease, or why the attempt lost it. */
type Renewal = { readonly renewed: true } | { readonly renewed: false; readonly reason: string };

/**
 * One heartbeat of a named attempt, in one transaction: checks that `leaseToken` still holds the task
 * and that pg-boss still runs this attempt's job, then refreshes the job's heartbeat (`touch`) and
 * moves the task's `lease_expires_at` a whole lease ahead.
 */
async function renewNamedLease(core: DurableHostCore, claim: LeaseClaim): Promise<Renewal> {
  const { names, boss } = core;
  const { taskId, leaseToken, leaseSeconds } = claim;
  return core.transact<Renewal>(async (client) => {
    const row = await readTaskRow(client, names, taskId, true);
    const job = row === undefined ? undefined : namedJobOf(row, claim.retryCount);
    if (row === undefined || job === undefined || row.leaseToken !== leaseToken || isTerminalBackgroundTaskState(row.record.state)) {
      return { events: [], result: { renewed: false, reason: "the attempt lost its lease" } };
    }
    const db = asPgBossDatabase(client);
    const found = await readJob(core, job.queue, job.attempt.id, db);
    if (found?.state !== "active" || found.retryCount !== job.attempt.retryCount) {
      const reason = `the attempt's job is no longer active in pg-boss (pg-boss ends an attempt after ${LONGEST_ATTEMPT_SECONDS / 3600} hours)`;
      return { events: [], result: { renewed: false, reason } };
    }
    await boss.touch(job.queue, job.attempt, { db });
    await client.query(`update ${names.tasks} set lease_expires_at = now() + make_interval(secs => $2) where task_id = $1`, [
      taskId,
      leaseSeconds,
    ]);
    return { events: [], result: { renewed: true } };
  });
}

/**
 * Keeps a named attempt's lease while the attempt runs: renews it every third of the lease, and
 * aborts the attempt when the lease runs out without a renewal (the database could not be reached,
 * so the sweep of another process may already have handed the task to another worker) or when a
 * renewal finds the lease or the job gone. Once the attempt's signal is aborted (a cancel, a close)
 * it stops renewing: work that ignores its signal then loses the task after one lease, as a dead
 * worker would.
 */
export class NamedLeaseKeeper {
  readonly #core: DurableHostCore;
  readonly #claim: LeaseClaim;
  readonly #controller: AbortController;
  #deadline: ReturnType<typeof setTimeout> | undefined;
  #beat: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;

  constructor(core: DurableHostCore, claim: LeaseClaim, controller: AbortController) {
    this.#core = core;
    this.#claim = claim;
    this.#controller = controller;
  }

  /** Starts keeping the lease that runs out at `leaseExpiresAt` (epoch milliseconds). */
  start(leaseExpiresAt: number): void {
    this.#armDeadline(leaseExpiresAt);
    this.#scheduleBeat();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#deadline !== undefined) clearTimeout(this.#deadline);
    if (this.#beat !== undefined) clearTimeout(this.#beat);
  }

  #armDeadline(at: number): void {
    if (this.#deadline !== undefined) clearTimeout(this.#deadline);
    this.#deadline = setTimeout(() => this.#controller.abort(new Error("the attempt's lease expired")), Math.max(0, at - Date.now()));
    this.#deadline.unref();
  }

  /** One beat at a time: the next is scheduled when the previous one settled, so slow ones never pile up. */
  #scheduleBeat(): void {
    if (this.#stopped || this.#controller.signal.aborted) return;
    this.#beat = setTimeout(() => void this.#renew(), (this.#claim.leaseSeconds * 1000) / 3);
    this.#beat.unref();
  }

  async #renew(): Promise<void> {
    if (this.#stopped || this.#controller.signal.aborted) return;
    // Measured before the write, so the local deadline never outlasts the one stored in the row.
    const startedAt = Date.now();
    try {
      const renewal = await renewNamedLease(this.#core, this.#claim);
      if (this.#stopped) return;
      if (!renewal.renewed) {
        this.#controller.abort(new Error(renewal.reason));
        return;
      }
      this.#armDeadline(startedAt + this.#claim.leaseSeconds * 1000);
    } catch (error) {
      // The next beat tries again; the deadline aborts the attempt if none succeeds within the lease.
      this.#core.reportError(error);
    }
    this.#scheduleBeat();
  }
}
