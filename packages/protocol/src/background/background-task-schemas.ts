import { z } from "zod";
import { jsonValueSchema } from "../json.js";

/**
 * A background task's id. Ids are unique per host: a live task's id cannot be reused (anywhere, in any
 * scope) until that task ended; registering an ended task's id again replaces its record. Conventions:
 * `subagent:<child session id>`, `monitor:<monitor id>`.
 */
export const backgroundTaskIdSchema = z.string().min(1);
export type BackgroundTaskId = z.infer<typeof backgroundTaskIdSchema>;

/** What produced a task; core never interprets it beyond `subagent` (a child session's turn). */
export const backgroundTaskKindSchema = z.enum(["monitor", "subagent", "observer", "other"]);
export type BackgroundTaskKind = z.infer<typeof backgroundTaskKindSchema>;

/**
 * A task's lifecycle state. Live: `pending` (registered, not started or waiting for a concurrency
 * slot), `running`, `waiting` (started, idle until something happens), `cancel_requested`. Terminal
 * (final, never left again): `completed`, `failed`, `cancelled`. The legal moves are in
 * `isLegalBackgroundTaskTransition`.
 */
export const backgroundTaskStateSchema = z.enum(["pending", "running", "waiting", "completed", "failed", "cancel_requested", "cancelled"]);
export type BackgroundTaskState = z.infer<typeof backgroundTaskStateSchema>;

/** The live states a task can be moved between with `update` / `markLiveState`. */
export const backgroundTaskLiveStateSchema = z.enum(["running", "waiting"]);
export type BackgroundTaskLiveState = z.infer<typeof backgroundTaskLiveStateSchema>;

/** The states a task ends in (`completed`, `failed`, `cancelled`). */
export const backgroundTaskTerminalStateSchema = z.enum(["completed", "failed", "cancelled"]);
export type BackgroundTaskTerminalState = z.infer<typeof backgroundTaskTerminalStateSchema>;

/** True for the final states `completed`, `failed` and `cancelled`. */
export function isTerminalBackgroundTaskState(state: BackgroundTaskState): state is BackgroundTaskTerminalState {
  return state === "completed" || state === "failed" || state === "cancelled";
}

/**
 * Which session a task belongs to. Keyed by the plain session id, which is stable: a parked and
 * resumed session (a new runtime) sees the tasks it started before, where a per-runtime key would
 * orphan them. Two runtimes that load the same session id on one host therefore share its tasks.
 */
export const backgroundTaskScopeSchema = z.object({
  /** The session the task belongs to. */
  sessionId: z.string().min(1),
});
export type BackgroundTaskScope = z.infer<typeof backgroundTaskScopeSchema>;

/**
 * What `requestCancel` does to a live task:
 * - `cooperative` (default): the task moves to `cancel_requested`, its work sees an aborted signal
 *   (and its in-process cancel hook is called); it ends as `cancelled` when the work stops;
 * - `abort_local`: the work's signal is aborted and the task is `cancelled` at once, without waiting
 *   for the work to notice;
 * - `external`: only the request is recorded (`cancel_requested` plus a `cancel_requested` event);
 *   an owner outside this host ends the task with `complete`.
 */
export const backgroundCancelPolicySchema = z.enum(["cooperative", "abort_local", "external"]);
export type BackgroundCancelPolicy = z.infer<typeof backgroundCancelPolicySchema>;

/**
 * What closing the task's session does to a live task: `keep` (default) leaves it
 * running and visible under its session; `cancel` requests its cancellation (by its cancel policy);
 * `transfer` moves it to the closing session's parent scope (kept where there is none).
 */
export const backgroundClosePolicySchema = z.enum(["keep", "cancel", "transfer"]);
export type BackgroundClosePolicy = z.infer<typeof backgroundClosePolicySchema>;

/**
 * Attempt bookkeeping. `attempt` is the 1-based number of the current (or last) attempt, 0 while no
 * attempt started; `maxAttempts` (absent: 1) is how many attempts a host that runs the work may make
 * before the task fails; `idempotencyKey` lets a durable worker recognise a re-delivered attempt.
 */
export const backgroundTaskAttemptSchema = z.object({
  /** The 1-based number of the current (or last) attempt; 0 before the first (default). */
  attempt: z.number().int().nonnegative().default(0),
  /** Attempts allowed before the task fails; absent = 1. */
  maxAttempts: z.number().int().positive().optional(),
  /** A key a durable worker recognises a re-delivered attempt by; absent when none. */
  idempotencyKey: z.string().min(1).optional(),
});
export type BackgroundTaskAttempt = z.infer<typeof backgroundTaskAttemptSchema>;

/** A result or failure: a human-readable `summary` and an optional JSON `value` (for example a child's final answer). */
export const backgroundTaskOutcomeSchema = z.object({
  /** What happened, for people; absent when the task gave none. */
  summary: z.string().optional(),
  /** The result or error as JSON; absent when the task gave none. */
  value: jsonValueSchema.optional(),
});
export type BackgroundTaskOutcome = z.infer<typeof backgroundTaskOutcomeSchema>;

/**
 * A task as a host reports it. Times are epoch milliseconds (`Date.now()` of the host that made the
 * change): `updatedAt` moves on every change, `completedAt` is set exactly when the task entered a
 * terminal state. `result` is the outcome of a `completed` task (a `cancelled` task may keep the
 * result its work returned); `failure` holds the error of a `failed` task and the reason of a
 * `cancelled` one.
 */
export const backgroundTaskRecordSchema = z.object({
  /** The task's id. */
  id: backgroundTaskIdSchema,
  /** What produced it. */
  kind: backgroundTaskKindSchema,
  /** Who registered it (a tool name, a plugin id), for people. */
  producer: z.string().min(1),
  /** The session it belongs to. */
  scope: backgroundTaskScopeSchema,
  /** The task that started it; absent for a task started by a session directly. */
  parentTaskId: backgroundTaskIdSchema.optional(),
  /** The child session whose turn the task runs (subagents); absent for other tasks. */
  childSessionId: z.string().min(1).optional(),
  /** Its lifecycle state. */
  state: backgroundTaskStateSchema,
  /** What a cancel request does to it. */
  cancelPolicy: backgroundCancelPolicySchema,
  /** What closing its session does to it. */
  closePolicy: backgroundClosePolicySchema,
  /** Its attempts. */
  attempt: backgroundTaskAttemptSchema,
  /** The outcome of a completed task; absent otherwise (a cancelled task may keep its work's result). */
  result: backgroundTaskOutcomeSchema.optional(),
  /** The error of a failed task or the reason of a cancelled one; absent otherwise. */
  failure: backgroundTaskOutcomeSchema.optional(),
  /** When it was registered, epoch milliseconds. */
  createdAt: z.number().int().nonnegative(),
  /** When it last changed, epoch milliseconds. */
  updatedAt: z.number().int().nonnegative(),
  /** When it entered a terminal state, epoch milliseconds; absent while it is live. */
  completedAt: z.number().int().nonnegative().optional(),
});
export type BackgroundTaskRecord = z.infer<typeof backgroundTaskRecordSchema>;

/**
 * What a caller gives `spawnManaged` / `registerExternal`: the task's identity (the scope is a
 * separate argument). Policies default to `cooperative` / `keep`, the attempt to `{ attempt: 0 }`.
 */
export const backgroundTaskRegistrationSchema = z.object({
  /** The task's id (see `backgroundTaskIdSchema` for the reuse rule). */
  id: backgroundTaskIdSchema,
  /** What produces it. */
  kind: backgroundTaskKindSchema,
  /** Who registers it, for people. */
  producer: z.string().min(1),
  /** The child session whose turn it runs; absent for other tasks. */
  childSessionId: z.string().min(1).optional(),
  /** The task that starts it; absent when a session starts it directly. */
  parentTaskId: backgroundTaskIdSchema.optional(),
  /** Default `cooperative`. */
  cancelPolicy: backgroundCancelPolicySchema.default("cooperative"),
  /** Default `keep`. */
  closePolicy: backgroundClosePolicySchema.default("keep"),
  /** Its attempts; absent = `{ attempt: 0 }`. */
  attempt: backgroundTaskAttemptSchema.optional(),
});
export type BackgroundTaskRegistration = z.input<typeof backgroundTaskRegistrationSchema>;

/** What `register` takes. The task starts `pending`. */
export const backgroundTaskRegisterRequestSchema = backgroundTaskRegistrationSchema.extend({
  /** The session the task belongs to. */
  scope: backgroundTaskScopeSchema,
});
export type BackgroundTaskRegisterRequest = z.input<typeof backgroundTaskRegisterRequestSchema>;

/**
 * What `update` takes: a live `state` to move to (terminal states go through `complete`), a
 * `progress` message, and/or the number of the `attempt` now running (never lower than the current).
 */
export const backgroundTaskUpdateSchema = z.object({
  /** The live state to move to; absent = no move. */
  state: z.enum(["pending", "running", "waiting", "cancel_requested"]).optional(),
  /** A progress message (a `progress` event); absent = none. */
  progress: z.string().optional(),
  /** The 1-based number of the attempt now running; absent = unchanged. */
  attempt: z.number().int().positive().optional(),
});
export type BackgroundTaskUpdate = z.infer<typeof backgroundTaskUpdateSchema>;

/** What `complete` takes: the terminal state and an optional outcome (`result` or `failure`, see the record). */
export const backgroundTaskCompletionSchema = z.object({
  /** The state the task ends in. */
  state: backgroundTaskTerminalStateSchema,
  /** The outcome's text, for people; absent when none. */
  summary: z.string().optional(),
  /** The outcome's value; absent when none. */
  value: jsonValueSchema.optional(),
});
export type BackgroundTaskCompletion = z.infer<typeof backgroundTaskCompletionSchema>;

/**
 * Selects tasks. `sessionId` (absent: every session) and `kind` (absent: every kind) must match;
 * `includeTerminal` (default false) adds ended tasks to `list`. Event streams ignore
 * `includeTerminal`: a subscriber gets every event of the tasks that match, their endings included.
 */
export const backgroundTaskFilterSchema = z.object({
  /** Only tasks of this session; absent = every session. */
  sessionId: z.string().min(1).optional(),
  /** Only tasks of this kind; absent = every kind. */
  kind: backgroundTaskKindSchema.optional(),
  /** Also list ended tasks (default `false`). */
  includeTerminal: z.boolean().default(false),
});
export type BackgroundTaskFilter = z.input<typeof backgroundTaskFilterSchema>;

const recordEvent = <Type extends string>(type: Type) =>
  z.object({
    type: z.literal(type),
    /** The task that changed. */
    taskId: backgroundTaskIdSchema,
    /** The task's record after the change. */
    record: backgroundTaskRecordSchema,
  });

/**
 * One change of one task. Every event carries the task's record as it is after the change. A host
 * emits exactly one event per change, in the order the changes happened:
 * - `registered`: a task was registered or spawned (`pending` or `running`);
 * - `state_changed`: a live state changed (`previousState` → `state`), `cancel_requested` included;
 * - `progress`: the task reported a message (no state change);
 * - `retrying`: a failed attempt will be retried (`attempt` is the one starting, `error` why the last failed);
 * - `cancel_requested`: a cancel was requested (after its `state_changed`), with the caller's reason;
 * - `completed` / `failed` / `cancelled`: the task ended (natural completion included);
 * - `transferred`: the task moved from `previousScope` to `scope`.
 * Nothing is emitted for a request that changes nothing (cancelling an ended task, moving a task to
 * the state it is in).
 */
export const backgroundTaskEventSchema = z.discriminatedUnion("type", [
  recordEvent("registered"),
  recordEvent("state_changed").extend({
    /** The state after the change. */
    state: backgroundTaskStateSchema,
    /** The state before it. */
    previousState: backgroundTaskStateSchema,
  }),
  recordEvent("progress").extend({
    /** The task's message. */
    message: z.string(),
  }),
  recordEvent("retrying").extend({
    /** The 1-based number of the attempt starting. */
    attempt: z.number().int().positive(),
    /** Why the last attempt failed. */
    error: z.string(),
  }),
  recordEvent("cancel_requested").extend({
    /** The caller's reason; absent when it gave none. */
    reason: z.string().optional(),
  }),
  recordEvent("completed"),
  recordEvent("failed"),
  recordEvent("cancelled"),
  recordEvent("transferred").extend({
    /** The scope the task moved to. */
    scope: backgroundTaskScopeSchema,
    /** The scope it left. */
    previousScope: backgroundTaskScopeSchema,
  }),
]);
export type BackgroundTaskEvent = z.infer<typeof backgroundTaskEventSchema>;
export type BackgroundTaskEventType = BackgroundTaskEvent["type"];

/**
 * What `watch` delivers: first one `snapshot` with the records the filter lists at subscription time
 * (possibly none), then live events, with nothing missed or repeated in between.
 */
export type BackgroundTaskWatchItem =
  | { readonly type: "snapshot"; readonly records: readonly BackgroundTaskRecord[] }
  | BackgroundTaskEvent;
