import {
  type BackgroundTaskEvent,
  type BackgroundTaskOutcome,
  type BackgroundTaskRecord,
  type BackgroundTaskScope,
  type BackgroundTaskState,
  type BackgroundTaskTerminalState,
  BackgroundTaskTransitionError,
  type BackgroundTaskUpdate,
  isLegalBackgroundTaskTransition,
  isTerminalBackgroundTaskState,
  type JsonValue,
  LashError,
} from "@lash/protocol";
import { type TaskRow, withoutLease } from "./postgres-task-rows.js";

/** A task's row after a change, and the events the change emits (in order). */
export interface TaskChange {
  readonly row: TaskRow;
  readonly events: BackgroundTaskEvent[];
}

/** No change: the row as it is and no event. */
export function unchanged(row: TaskRow): TaskChange {
  return { row, events: [] };
}

/** The outcome as the record keeps it: absent fields are left out, and an empty outcome is no outcome. */
export function outcomeOf(summary: string | undefined, value: JsonValue | undefined): BackgroundTaskOutcome | undefined {
  if (summary === undefined && value === undefined) return undefined;
  return { ...(summary === undefined ? {} : { summary }), ...(value === undefined ? {} : { value }) };
}

function moved(record: BackgroundTaskRecord, state: BackgroundTaskState, now: number): BackgroundTaskRecord {
  return { ...record, state, updatedAt: Math.max(now, record.updatedAt) };
}

/** A live move (`state_changed`), or a `BackgroundTaskTransitionError` when it is not legal. */
export function changeLiveState(row: TaskRow, state: BackgroundTaskState, now: number): TaskChange {
  const from = row.record.state;
  if (from === state && !isTerminalBackgroundTaskState(from)) return unchanged(row);
  if (!isLegalBackgroundTaskTransition(from, state)) throw new BackgroundTaskTransitionError(row.record.id, from, state);
  const record = moved(row.record, state, now);
  return { row: { ...row, record }, events: [{ type: "state_changed", taskId: record.id, record, state, previousState: from }] };
}

/**
 * `update`: progress, then attempt, then state (see `BackgroundTaskHost.update`). An ended task
 * refuses every update (terminal is final).
 */
export function changeByUpdate(row: TaskRow, update: BackgroundTaskUpdate, now: number): TaskChange {
  const from = row.record.state;
  if (isTerminalBackgroundTaskState(from)) throw new BackgroundTaskTransitionError(row.record.id, from, update.state ?? from);
  if (update.state !== undefined && update.state !== from && !isLegalBackgroundTaskTransition(from, update.state)) {
    throw new BackgroundTaskTransitionError(row.record.id, from, update.state);
  }
  if (update.attempt !== undefined && update.attempt < row.record.attempt.attempt) {
    throw new LashError(
      "invalid_argument",
      `invalid update: attempt ${update.attempt} of background task \`${row.record.id}\` is lower than its current attempt ${row.record.attempt.attempt}`,
    );
  }
  let record = row.record;
  const events: BackgroundTaskEvent[] = [];
  if (update.progress !== undefined) {
    record = { ...record, updatedAt: Math.max(now, record.updatedAt) };
    events.push({ type: "progress", taskId: record.id, record, message: update.progress });
  }
  if (update.attempt !== undefined && update.attempt !== record.attempt.attempt) {
    record = { ...record, attempt: { ...record.attempt, attempt: update.attempt }, updatedAt: Math.max(now, record.updatedAt) };
  }
  const afterProgress: TaskRow = { ...row, record };
  if (update.state !== undefined && update.state !== from) {
    const change = changeLiveState(afterProgress, update.state, now);
    return { row: change.row, events: [...events, ...change.events] };
  }
  return { row: afterProgress, events };
}

/**
 * Ends a live task: `completed` keeps the outcome as `result`, `failed` and `cancelled` as
 * `failure`. Without an outcome, `failure` still says why: the recorded cancel reason
 * (or `"cancelled"`), or `"failed"`, as the local host does. The lease is released. An ended task →
 * `BackgroundTaskTransitionError`.
 */
export function changeToTerminal(
  row: TaskRow,
  state: BackgroundTaskTerminalState,
  outcome: BackgroundTaskOutcome | undefined,
  now: number,
): TaskChange {
  const from = row.record.state;
  if (!isLegalBackgroundTaskTransition(from, state)) throw new BackgroundTaskTransitionError(row.record.id, from, state);
  const { result: _result, failure: _failure, ...rest } = row.record;
  const at = Math.max(now, row.record.updatedAt);
  const failure = outcome ?? { summary: state === "cancelled" ? (row.cancelReason ?? "cancelled") : "failed" };
  const record: BackgroundTaskRecord = {
    ...rest,
    state,
    updatedAt: at,
    completedAt: at,
    ...(state === "completed" ? (outcome === undefined ? {} : { result: outcome }) : { failure }),
  };
  return { row: withoutLease({ ...row, record }), events: [{ type: state, taskId: record.id, record }] };
}

/** What a cancel request did, besides the change. */
export interface CancelRequestChange extends TaskChange {
  /** The task ended (`abort_local`, or work that never started). */
  readonly ended: boolean;
}

/**
 * `requestCancel`: an ended task or one already in `cancel_requested` is unchanged; otherwise
 * `state_changed` → `cancel_requested` and `cancel_requested`, then `cancelled` at once when
 * `endNow` (the policy is `abort_local`, or no work runs that could stop by itself).
 */
export function changeByCancelRequest(row: TaskRow, reason: string | undefined, endNow: boolean, now: number): CancelRequestChange {
  const from = row.record.state;
  if (isTerminalBackgroundTaskState(from) || from === "cancel_requested") return { ...unchanged(row), ended: false };
  const move = changeLiveState(row, "cancel_requested", now);
  const requested: TaskRow = { ...move.row, cancelReason: reason };
  const events = [...move.events];
  const record = requested.record;
  events.push({ type: "cancel_requested", taskId: record.id, record, ...(reason === undefined ? {} : { reason }) });
  if (!endNow) return { row: requested, events, ended: false };
  const ended = changeToTerminal(requested, "cancelled", outcomeOf(reason, undefined), now);
  return { row: ended.row, events: [...events, ...ended.events], ended: true };
}

/** Moves a task to `scope` (`transferred`); nothing when it is already there. */
export function changeScope(row: TaskRow, scope: BackgroundTaskScope, now: number): TaskChange {
  const previousScope = row.record.scope;
  if (previousScope.sessionId === scope.sessionId) return unchanged(row);
  const record: BackgroundTaskRecord = {
    ...row.record,
    scope: { sessionId: scope.sessionId },
    updatedAt: Math.max(now, row.record.updatedAt),
  };
  return { row: { ...row, record }, events: [{ type: "transferred", taskId: record.id, record, scope: record.scope, previousScope }] };
}

/** A failed attempt that will be retried: the attempt number moves on and a `retrying` event says why. */
export function changeToRetry(row: TaskRow, nextAttempt: number, error: string, now: number): TaskChange {
  const record: BackgroundTaskRecord = {
    ...row.record,
    attempt: { ...row.record.attempt, attempt: nextAttempt },
    updatedAt: Math.max(now, row.record.updatedAt),
  };
  return { row: { ...row, record }, events: [{ type: "retrying", taskId: record.id, record, attempt: nextAttempt, error }] };
}
