import type { BackgroundTaskId, BackgroundTaskRecord } from "@lash/protocol";
import { BackgroundTaskHostClosedError, isTerminalBackgroundTaskState, UnknownBackgroundTaskError } from "@lash/protocol";
import { filter, type Observable, type Subscription } from "rxjs";
import type { LoggedEvent } from "./postgres-event-log.js";

/** What a wait for a task's ending listens to and reads. */
export interface TerminalWaitSources {
  /** The host's event log (completes when the host closes). */
  readonly events: Observable<LoggedEvent>;
  /** Ids of tasks this host removed without an event (`unregisterExternal`). */
  readonly unregistered: Observable<string>;
  /** The task's current record, `undefined` when it no longer exists. */
  read(taskId: BackgroundTaskId): Promise<BackgroundTaskRecord | undefined>;
  /** How often the row is read again, for removals by other processes. */
  readonly recheckIntervalMs: number;
}

/**
 * The durable host's `waitForTerminal`: settles on the task's ending event, or on what the row says
 * when it is read again (at once, after a removal here, and every `recheckIntervalMs`); rejects with
 * `UnknownBackgroundTaskError` for a removed task, `BackgroundTaskHostClosedError` when the host
 * closes, and the signal's reason when aborted.
 */
export function waitForTerminalRecord(
  sources: TerminalWaitSources,
  taskId: BackgroundTaskId,
  signal?: AbortSignal,
): Promise<BackgroundTaskRecord> {
  return new Promise<BackgroundTaskRecord>((resolve, reject) => {
    let done = false;
    // Assigned after `subscribe` returns: a stream that already completed calls `finish` inside it.
    const subscriptions: Subscription[] = [];
    let recheckTimer: ReturnType<typeof setInterval> | undefined;
    const finish = (settle: () => void): void => {
      if (done) return;
      done = true;
      for (const subscription of subscriptions) subscription.unsubscribe();
      if (recheckTimer !== undefined) clearInterval(recheckTimer);
      signal?.removeEventListener("abort", onAbort);
      settle();
    };
    const onAbort = (): void => finish(() => reject(signal?.reason));
    const recheck = (): void => {
      if (done) return;
      sources.read(taskId).then(
        (record) => {
          if (record === undefined) finish(() => reject(new UnknownBackgroundTaskError(taskId)));
          else if (isTerminalBackgroundTaskState(record.state)) finish(() => resolve(record));
        },
        (error: unknown) => finish(() => reject(error)),
      );
    };
    // Subscribe before reading, so an ending committed in between is not missed.
    const subscription = sources.events.subscribe({
      next: ({ event }) => {
        if (event.taskId === taskId && isTerminalBackgroundTaskState(event.record.state)) finish(() => resolve(event.record));
      },
      complete: () => finish(() => reject(new BackgroundTaskHostClosedError("wait for a task"))),
    });
    subscriptions.push(
      subscription,
      sources.unregistered.pipe(filter((id) => id === taskId)).subscribe(() => recheck()),
    );
    if (done) {
      for (const opened of subscriptions) opened.unsubscribe();
      return;
    }
    if (signal?.aborted) return onAbort();
    signal?.addEventListener("abort", onAbort, { once: true });
    recheckTimer = setInterval(recheck, sources.recheckIntervalMs);
    recheckTimer.unref();
    recheck();
  });
}
