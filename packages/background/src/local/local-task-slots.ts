import type { BackgroundTaskRecord, BackgroundTaskState, BackgroundTaskWork } from "@lash/protocol";
import { isTerminalBackgroundTaskState, LashError } from "@lash/protocol";
import { runTaskAttempts, type TaskAttemptHost } from "./local-task-attempts.js";
import { cancelledOutcome, type LocalTaskEntry, type ParsedRegistration } from "./local-task-entry.js";

/** The default of `maxConcurrentTasks`: enough for a handful of subagents per session, bounded for a server. */
export const DEFAULT_MAX_CONCURRENT_TASKS = 16;

/** What the slots may do to the local host's tasks, besides what running their attempts may do. */
export interface TaskSlotHost extends TaskAttemptHost {
  moveLive(entry: LocalTaskEntry, state: BackgroundTaskState): void;
  cancel(entry: LocalTaskEntry, reason: string | undefined): Promise<BackgroundTaskRecord>;
}

/**
 * The concurrency slots of the local host's managed tasks: at most `maxConcurrentTasks` run at once,
 * later ones wait `pending` in spawn order and start as slots free. A task waiting here is a managed
 * entry whose `work` is still set; hidden jobs and external tasks never take a slot.
 */
export class LocalTaskSlots {
  readonly #queue: LocalTaskEntry[] = [];
  readonly #maxConcurrentTasks: number;
  readonly #host: TaskSlotHost;
  #runningCount = 0;
  #closed = false;

  constructor(maxConcurrentTasks: number, host: TaskSlotHost) {
    if (!Number.isInteger(maxConcurrentTasks) || maxConcurrentTasks < 1) {
      throw new LashError("invalid_configuration", `maxConcurrentTasks must be a positive integer, got ${String(maxConcurrentTasks)}`);
    }
    this.#maxConcurrentTasks = maxConcurrentTasks;
    this.#host = host;
  }

  /**
   * Adds a managed task through `insert`, in `running` when a slot is free (then starts its work) or
   * in `pending` (then queues it).
   */
  admit(
    registration: ParsedRegistration,
    work: BackgroundTaskWork,
    insert: (registration: ParsedRegistration, state: BackgroundTaskState) => LocalTaskEntry,
  ): LocalTaskEntry {
    const startsNow = this.#runningCount < this.#maxConcurrentTasks;
    // A task that starts now is on its first attempt already in its `registered` event.
    const attempt = registration.attempt ?? { attempt: 0 };
    const starting = startsNow ? { ...registration, attempt: { ...attempt, attempt: attempt.attempt + 1 } } : registration;
    const entry = insert(starting, startsNow ? "running" : "pending");
    entry.work = work;
    if (startsNow) this.#start(entry);
    else this.#queue.push(entry);
    return entry;
  }

  /**
   * Drops the queued tasks and starts nothing from now on: the closing host ends them itself, and the
   * slots its running tasks free as they end must not go to work that is being cancelled.
   */
  close(): void {
    this.#closed = true;
    this.#queue.length = 0;
  }

  /** Frees the entry's slot, if it holds one, and hands it to the next queued task. */
  release(entry: LocalTaskEntry): void {
    if (!entry.holdsSlot) return;
    entry.holdsSlot = false;
    this.#runningCount -= 1;
    this.#startQueued();
  }

  /**
   * Cancels the entries still waiting for a slot first (those `reasonOf` gives a reason, `null`
   * skips one), so that ending a running entry of the same batch cannot hand its slot to work that
   * is about to be cancelled. Returns each started cancellation by entry.
   */
  cancelQueuedFirst(
    entries: readonly LocalTaskEntry[],
    reasonOf: (entry: LocalTaskEntry) => string | undefined | null,
  ): Map<LocalTaskEntry, Promise<BackgroundTaskRecord>> {
    const started = new Map<LocalTaskEntry, Promise<BackgroundTaskRecord>>();
    for (const entry of entries) {
      if (entry.origin !== "managed" || entry.work === undefined) continue;
      const reason = reasonOf(entry);
      if (reason !== null) started.set(entry, this.#host.cancel(entry, reason));
    }
    return started;
  }

  #startQueued(): void {
    // A closed host starts nothing: its `close` ends every queued task itself.
    if (this.#closed) return;
    while (this.#runningCount < this.#maxConcurrentTasks && this.#queue.length > 0) {
      const next = this.#queue.shift();
      if (next === undefined || isTerminalBackgroundTaskState(next.record.state) || next.work === undefined) continue;
      if (next.record.state === "cancel_requested") {
        // Asked to stop while it waited for a slot: it never runs.
        this.#host.finish(next, "cancelled", cancelledOutcome(next));
        continue;
      }
      next.record.attempt.attempt += 1;
      this.#host.moveLive(next, "running");
      this.#start(next);
    }
  }

  /** Takes a slot and runs the task's work, attempt after attempt (the caller counted the first attempt). */
  #start(entry: LocalTaskEntry): void {
    const work = entry.work;
    entry.work = undefined;
    if (work === undefined) return;
    entry.holdsSlot = true;
    this.#runningCount += 1;
    void runTaskAttempts(entry, work, this.#host);
  }
}
