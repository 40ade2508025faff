import type {
  BackgroundTaskCompletion,
  BackgroundTaskEvent,
  BackgroundTaskFilter,
  BackgroundTaskId,
  BackgroundTaskLiveState,
  BackgroundTaskOutcome,
  BackgroundTaskRecord,
  BackgroundTaskRegisterRequest,
  BackgroundTaskRegistration,
  BackgroundTaskScope,
  BackgroundTaskTerminalState,
  BackgroundTaskUpdate,
  BackgroundTaskWatchItem,
} from "./background-task-schemas.js";

/** The receiving side of a stream (the shape of an rxjs `Observer`). */
export interface BackgroundTaskStreamObserver<Item> {
  /** Receives each item, in order. */
  next?(item: Item): void;
  /** The stream failed; nothing follows. */
  error?(error: unknown): void;
  /** The stream ended (the host closed); nothing follows. */
  complete?(): void;
}

/**
 * A stream of items. Every rxjs `Observable` has this shape, and `@lash/protocol` has no runtime
 * dependencies, so the contract names only this subset; hosts return a real rxjs `Observable`
 *, which callers pipe as usual. Subscribing starts delivery; `unsubscribe` stops it.
 */
export interface BackgroundTaskStream<Item> {
  /** Starts delivery to `observer`; the returned `unsubscribe` stops it (idempotent). */
  subscribe(observer: BackgroundTaskStreamObserver<Item>): { unsubscribe(): void };
}

/**
 * An async cancel hook for a task whose work runs in this process but is owned elsewhere (a subagent's
 * child turn). The host calls it at most once, when the task is cancelled; it resolves when the work
 * has stopped.
 */
export type LocalBackgroundTaskCancel = () => Promise<void>;

/** What a managed task's work receives. */
export interface BackgroundTaskWorkContext {
  /** The task as it was when this attempt started. */
  readonly record: BackgroundTaskRecord;
  /** The 1-based number of this attempt. */
  readonly attempt: number;
  /** Aborted when the task is cancelled (cooperative or `abort_local`) or the host closes. */
  readonly signal: AbortSignal;
  /** Emits a `progress` event for the task. */
  progress(message: string): Promise<void>;
  /** Moves the task between `running` and `waiting` (ignored once it ended or a cancel was requested). */
  setLiveState(state: BackgroundTaskLiveState): Promise<void>;
}

/**
 * The work of a managed task. Resolving completes the task with the returned outcome as its `result`;
 * throwing fails it (the error's message becomes `failure.summary`), after retries when the task has
 * `attempt.maxAttempts > 1`. Once a cancel was requested, however the work ends, the task ends
 * `cancelled` with the reason in `failure`.
 */
export type BackgroundTaskWork = (context: BackgroundTaskWorkContext) => Promise<BackgroundTaskOutcome | undefined | void>;

/** Work nobody sees (no record, no events): maintenance that `awaitHidden` waits for. */
export type HiddenBackgroundWork = (signal: AbortSignal) => Promise<void>;

/** What `closeScope` did to each live task of the closed scope, by its close policy. */
export interface BackgroundScopeCloseReport {
  /** `keep` tasks (and `transfer` tasks when there was no parent scope), unchanged. */
  readonly kept: readonly BackgroundTaskRecord[];
  /** `cancel` tasks, after their cancel request. */
  readonly cancelled: readonly BackgroundTaskRecord[];
  /** `transfer` tasks, now in the parent scope. */
  readonly transferred: readonly BackgroundTaskRecord[];
}

/**
 * Runs and tracks the background tasks of sessions. One host is shared by the runtimes of a process
 * (or, for a durable host, by many processes); core reaches it only through this interface. All
 * methods may be called concurrently.
 *
 * Rules every host keeps (checked by `describeBackgroundTaskHostConformance` in `@lash/testkit`):
 * - ids are unique per host while a task is live (`BackgroundTaskConflictError`); an unknown id is an
 *   `UnknownBackgroundTaskError` where a method says so;
 * - state moves follow `isLegalBackgroundTaskTransition`; an illegal request throws
 *   `BackgroundTaskTransitionError`, changes nothing and emits nothing (never a silent overwrite);
 * - every change emits exactly one event (natural completion included), in the order of the changes;
 *   a request that changes nothing emits nothing;
 * - times are epoch milliseconds;
 * - scopes are keyed by session id, so a parked and resumed session still sees its tasks;
 * - malformed arguments throw `LashError("invalid_argument")` naming the field.
 *
 * Two API families: the record API (`register` … `watch`), which any owner of a task can drive, also
 * from another process; and the session-scoped API (`spawnManaged` … `closeScope`) the runtime uses
 * for work it runs in this process. Methods of the second family that take a scope ignore tasks of
 * other scopes (an id in another scope is treated as unknown there).
 */
export interface BackgroundTaskHost {
  /**
   * Registers a task that its owner will drive with `update` / `complete`; it starts `pending` and a
   * `registered` event is emitted. A live task with the same id → `BackgroundTaskConflictError`; an
   * ended one is replaced.
   */
  register(request: BackgroundTaskRegisterRequest): Promise<BackgroundTaskRecord>;
  /**
   * Applies an update to a live task: a `progress` message (a `progress` event), an `attempt` number
   * (no lower than the current; carried by the next event), then a `state` move (a `state_changed`
   * event; moving to the current state is no change). A move to `cancel_requested` is a cancel request,
   * as `requestCancel` (a `cancel_requested` event, the work's signal aborted, an `abort_local` task
   * ended at once). Unknown id → `UnknownBackgroundTaskError`; an
   * ended task or an illegal move → `BackgroundTaskTransitionError`. Returns the record after it.
   */
  update(taskId: BackgroundTaskId, update: BackgroundTaskUpdate): Promise<BackgroundTaskRecord>;
  /**
   * Ends a live task in a terminal state: `completed` stores the outcome as `result`, `failed` and
   * `cancelled` as `failure`; sets `completedAt`; emits `completed` / `failed` / `cancelled`. An
   * already ended task → `BackgroundTaskTransitionError` (terminal is final). Unknown id →
   * `UnknownBackgroundTaskError`. Work this host runs for the task is aborted.
   */
  complete(taskId: BackgroundTaskId, completion: BackgroundTaskCompletion): Promise<BackgroundTaskRecord>;
  /**
   * Asks a task to stop, as its cancel policy says (see `BackgroundCancelPolicy`): emits
   * `state_changed` (→ `cancel_requested`) and `cancel_requested`, and for `abort_local` then
   * `cancelled` (the reason in `failure`). A task that already ended is returned as it is and nothing
   * is emitted; a second request for a task already in `cancel_requested` changes nothing. Unknown id
   * → `UnknownBackgroundTaskError`. Resolves with the record after the request (it does not wait for
   * cooperative work to stop: use `waitForTerminal`).
   */
  requestCancel(taskId: BackgroundTaskId, reason?: string): Promise<BackgroundTaskRecord>;
  /** The task with this id, or `undefined`. */
  get(taskId: BackgroundTaskId): Promise<BackgroundTaskRecord | undefined>;
  /** The tasks the filter selects, ordered by `createdAt`, then id. */
  list(filter?: BackgroundTaskFilter): Promise<readonly BackgroundTaskRecord[]>;
  /**
   * Moves a task (live or ended) to another scope: its `scope` and `updatedAt` change and a
   * `transferred` event is emitted (nothing when it is already there). Unknown id → `UnknownBackgroundTaskError`.
   */
  transfer(taskId: BackgroundTaskId, scope: BackgroundTaskScope): Promise<BackgroundTaskRecord>;
  /**
   * Resolves with the task's record once it is terminal (at once if it already is). Unknown id →
   * `UnknownBackgroundTaskError`. When `signal` aborts first, rejects with the signal's reason.
   */
  waitForTerminal(taskId: BackgroundTaskId, signal?: AbortSignal): Promise<BackgroundTaskRecord>;
  /**
   * Live events from now on for the tasks the filter selects (`includeTerminal` ignored; see
   * `backgroundTaskEventMatches`). Each subscription gets every matching event in order; none is
   * dropped for a slow subscriber. The stream completes when the host closes.
   */
  subscribe(filter?: BackgroundTaskFilter): BackgroundTaskStream<BackgroundTaskEvent>;
  /**
   * Like `subscribe`, but first delivers a `snapshot` of `list(filter)` taken at subscription time,
   * then every later matching event, with no event missed or repeated in between.
   */
  watch(filter?: BackgroundTaskFilter): BackgroundTaskStream<BackgroundTaskWatchItem>;

  /**
   * Registers a task in `scope` and runs `work` in this process. The task starts `running`, or
   * `pending` while the host's concurrency limit is reached (it starts when a slot frees). Natural
   * completion and failure are recorded and emitted; a failed attempt is retried (a `retrying` event)
   * while `attempt.maxAttempts` allows. Same id rule as `register`. A host that cannot run in-process
   * work throws `BackgroundTaskUnsupportedError`.
   */
  spawnManaged(
    scope: BackgroundTaskScope,
    registration: BackgroundTaskRegistration,
    work: BackgroundTaskWork,
  ): Promise<BackgroundTaskRecord>;
  /**
   * Registers a task whose work runs in this process but is driven by its owner (for example a
   * subagent's child turn): it starts `running`; the owner reports with `markLiveState` and
   * `markTerminal`; `cancel`, if given, is called at most once when the task is cancelled.
   */
  registerExternal(
    scope: BackgroundTaskScope,
    registration: BackgroundTaskRegistration,
    cancel?: LocalBackgroundTaskCancel,
  ): Promise<BackgroundTaskRecord>;
  /** Forgets a task of `scope` without an event (unknown ids are ignored). */
  unregisterExternal(scope: BackgroundTaskScope, taskId: BackgroundTaskId): Promise<void>;
  /**
   * Ends a task of `scope` if it is still live (like `complete`, with the same events); an ended or
   * unknown task is left as it is and nothing is emitted. Returns the record, or `undefined` when unknown.
   */
  markTerminal(
    scope: BackgroundTaskScope,
    taskId: BackgroundTaskId,
    state: BackgroundTaskTerminalState,
    outcome?: BackgroundTaskOutcome,
  ): Promise<BackgroundTaskRecord | undefined>;
  /**
   * Moves a live task of `scope` between `running` and `waiting` (a `state_changed` event when it
   * changed); ignored for ended tasks and tasks in `cancel_requested`. Returns the record, or `undefined`.
   */
  markLiveState(
    scope: BackgroundTaskScope,
    taskId: BackgroundTaskId,
    state: BackgroundTaskLiveState,
  ): Promise<BackgroundTaskRecord | undefined>;
  /** `requestCancel` for a task of `scope`; `undefined` (no error) for an unknown task. */
  cancelManaged(scope: BackgroundTaskScope, taskId: BackgroundTaskId, reason?: string): Promise<BackgroundTaskRecord | undefined>;
  /** Every task of `scope`, ended ones included, in `list` order. */
  listManaged(scope: BackgroundTaskScope): Promise<readonly BackgroundTaskRecord[]>;
  /** The task of `scope` with this id, or `undefined`. */
  getManaged(scope: BackgroundTaskScope, taskId: BackgroundTaskId): Promise<BackgroundTaskRecord | undefined>;
  /**
   * Moves the listed tasks of `from` to `to` (ids not in `from` are ignored), rewriting their scope,
   * one `transferred` event each. Returns the moved records.
   */
  transferManaged(
    from: BackgroundTaskScope,
    to: BackgroundTaskScope,
    taskIds: readonly BackgroundTaskId[],
  ): Promise<readonly BackgroundTaskRecord[]>;
  /** Requests the cancellation of every live task of `scope`; returns their records after the requests. */
  cancelAllManaged(scope: BackgroundTaskScope, reason?: string): Promise<readonly BackgroundTaskRecord[]>;
  /**
   * Applies each live task's close policy because the session of `scope` closes: `keep`
   * leaves it, `cancel` requests its cancellation (reason `"session closed"` unless given), `transfer`
   * moves it to `parent` (kept when there is none). Ended tasks are left alone.
   */
  closeScope(
    scope: BackgroundTaskScope,
    options?: { readonly parent?: BackgroundTaskScope; readonly reason?: string },
  ): Promise<BackgroundScopeCloseReport>;

  /** Runs `work` in this process under `scope`, invisible to `list` and events. */
  spawnHidden(scope: BackgroundTaskScope, label: string, work: HiddenBackgroundWork): void;
  /**
   * Waits until every hidden task of `scope` settled, those spawned while waiting included. Rejects
   * with the first failure once all settled (no task is left behind un-awaited). Other scopes' hidden
   * tasks are not waited for.
   */
  awaitHidden(scope: BackgroundTaskScope): Promise<void>;

  /**
   * Releases the host. New requests then throw `BackgroundTaskHostClosedError`, event streams
   * complete, and work this process runs is aborted (its live tasks end `cancelled`, reason
   * `"host closed"`, in a host that keeps no durable record of them). Idempotent.
   */
  close(): Promise<void>;
}
