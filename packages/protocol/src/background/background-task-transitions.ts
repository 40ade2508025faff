import type { BackgroundTaskEvent, BackgroundTaskFilter, BackgroundTaskRecord, BackgroundTaskState } from "./background-task-schemas.js";
import { isTerminalBackgroundTaskState } from "./background-task-schemas.js";

/**
 * The legal moves between different states (staying in a state is not a move). Terminal states are
 * final: `completed`, `failed` and `cancelled` have no way out.
 */
const legalMoves: Readonly<Record<BackgroundTaskState, readonly BackgroundTaskState[]>> = {
  pending: ["running", "waiting", "cancel_requested", "completed", "failed", "cancelled"],
  running: ["waiting", "cancel_requested", "completed", "failed", "cancelled"],
  waiting: ["running", "cancel_requested", "completed", "failed", "cancelled"],
  cancel_requested: ["completed", "failed", "cancelled"],
  completed: [],
  failed: [],
  cancelled: [],
};

/**
 * True when a task in state `from` may move to `to`: `pending` → anything else; `running` ⇄
 * `waiting`; any live state → `cancel_requested` (once) or a terminal state; nothing out of a terminal
 * state. `from === to` is not a move and returns false.
 */
export function isLegalBackgroundTaskTransition(from: BackgroundTaskState, to: BackgroundTaskState): boolean {
  return legalMoves[from].includes(to);
}

/** Whether `record` is selected by `filter` for `list` (see `BackgroundTaskFilter`). */
export function backgroundTaskRecordMatches(record: BackgroundTaskRecord, filter: BackgroundTaskFilter = {}): boolean {
  if (filter.sessionId !== undefined && record.scope.sessionId !== filter.sessionId) return false;
  if (filter.kind !== undefined && record.kind !== filter.kind) return false;
  return filter.includeTerminal === true || !isTerminalBackgroundTaskState(record.state);
}

/**
 * Whether a subscriber with `filter` receives `event`: the event's task must match the session and
 * kind (`includeTerminal` is ignored, so endings are delivered); a `transferred` event matches when
 * either its old or its new scope does.
 */
export function backgroundTaskEventMatches(event: BackgroundTaskEvent, filter: BackgroundTaskFilter = {}): boolean {
  if (filter.kind !== undefined && event.record.kind !== filter.kind) return false;
  if (filter.sessionId === undefined) return true;
  if (event.record.scope.sessionId === filter.sessionId) return true;
  return event.type === "transferred" && event.previousScope.sessionId === filter.sessionId;
}

/** Orders records as `list` returns them: by `createdAt`, then by id (code-point order). */
export function compareBackgroundTaskRecords(left: BackgroundTaskRecord, right: BackgroundTaskRecord): number {
  if (left.createdAt !== right.createdAt) return left.createdAt - right.createdAt;
  return left.id < right.id ? -1 : left.id > right.id ? 1 : 0;
}
