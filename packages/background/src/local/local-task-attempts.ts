import type {
  BackgroundTaskEvent,
  BackgroundTaskLiveState,
  BackgroundTaskOutcome,
  BackgroundTaskTerminalState,
  BackgroundTaskWork,
  BackgroundTaskWorkContext,
} from "@lash/protocol";
import {
  backgroundTaskLiveStateSchema,
  backgroundTaskOutcomeSchema,
  isTerminalBackgroundTaskState,
  parseBackgroundTaskArgument,
} from "@lash/protocol";
import { cancelledOutcome, copyRecord, type LocalTaskEntry } from "./local-task-entry.js";

/** What running a task's attempts may do to the local host's tasks. */
export interface TaskAttemptHost {
  /** False once the task was replaced (re-registered) or removed: its work's late results are dropped. */
  isCurrent(entry: LocalTaskEntry): boolean;
  now(): number;
  emit(event: BackgroundTaskEvent): void;
  finish(
    entry: LocalTaskEntry,
    state: BackgroundTaskTerminalState,
    outcome: BackgroundTaskOutcome | undefined,
    result?: BackgroundTaskOutcome,
  ): void;
  progress(entry: LocalTaskEntry, message: string): void;
  setLiveState(entry: LocalTaskEntry, state: BackgroundTaskLiveState): void;
}

/**
 * Runs a managed task's work, attempt after attempt while its attempt policy allows (a `retrying`
 * event before each retry), then ends the task: `completed` with the work's outcome, `failed` with
 * the last error, or `cancelled` when a cancel was requested or its signal aborted meanwhile. The
 * caller counted the first attempt.
 */
export async function runTaskAttempts(entry: LocalTaskEntry, work: BackgroundTaskWork, host: TaskAttemptHost): Promise<void> {
  const { record } = entry;
  const maxAttempts = record.attempt.maxAttempts ?? 1;
  let attempt = record.attempt.attempt;
  for (;;) {
    let outcome: BackgroundTaskOutcome | undefined;
    try {
      const context = workContext(entry, attempt, host);
      const returned = await Promise.resolve().then(() => work(context));
      outcome =
        returned === undefined
          ? undefined
          : parseBackgroundTaskArgument(backgroundTaskOutcomeSchema, returned, "background task work result");
    } catch (error) {
      if (!host.isCurrent(entry) || isTerminalBackgroundTaskState(record.state)) return;
      if (record.state === "cancel_requested" || entry.controller.signal.aborted) {
        host.finish(entry, "cancelled", cancelledOutcome(entry));
        return;
      }
      const message = error instanceof Error ? error.message : String(error);
      if (attempt < maxAttempts) {
        attempt += 1;
        record.attempt.attempt = attempt;
        record.updatedAt = host.now();
        host.emit({ type: "retrying", taskId: record.id, record: copyRecord(record), attempt, error: message });
        continue;
      }
      host.finish(entry, "failed", { summary: message });
      return;
    }
    if (!host.isCurrent(entry) || isTerminalBackgroundTaskState(record.state)) return;
    if (record.state === "cancel_requested") host.finish(entry, "cancelled", cancelledOutcome(entry), outcome);
    else host.finish(entry, "completed", outcome);
    return;
  }
}

/** What one attempt's work sees: a copy of its record, the attempt number, its signal, progress and live-state reports. */
function workContext(entry: LocalTaskEntry, attempt: number, host: TaskAttemptHost): BackgroundTaskWorkContext {
  return {
    record: copyRecord(entry.record),
    attempt,
    signal: entry.controller.signal,
    progress: async (message: string): Promise<void> => {
      if (!host.isCurrent(entry) || isTerminalBackgroundTaskState(entry.record.state)) return;
      host.progress(entry, message);
    },
    setLiveState: async (state: BackgroundTaskLiveState): Promise<void> => {
      if (!host.isCurrent(entry)) return;
      host.setLiveState(entry, parseBackgroundTaskArgument(backgroundTaskLiveStateSchema, state, "live state"));
    },
  };
}
