import type {
  BackgroundScopeCloseReport,
  BackgroundTaskCompletion,
  BackgroundTaskEvent,
  BackgroundTaskFilter,
  BackgroundTaskHost,
  BackgroundTaskLiveState,
  BackgroundTaskOutcome,
  BackgroundTaskRecord,
  BackgroundTaskRegisterRequest,
  BackgroundTaskRegistration,
  BackgroundTaskScope,
  BackgroundTaskState,
  BackgroundTaskTerminalState,
  BackgroundTaskUpdate,
  BackgroundTaskWatchItem,
  BackgroundTaskWork,
  HiddenBackgroundWork,
  LocalBackgroundTaskCancel,
} from "@lash/protocol";
import {
  BackgroundTaskConflictError,
  BackgroundTaskHostClosedError,
  BackgroundTaskTransitionError,
  backgroundTaskCompletionSchema,
  backgroundTaskEventMatches,
  backgroundTaskFilterSchema,
  backgroundTaskLiveStateSchema,
  backgroundTaskOutcomeSchema,
  backgroundTaskRecordMatches,
  backgroundTaskRegisterRequestSchema,
  backgroundTaskRegistrationSchema,
  backgroundTaskScopeSchema,
  backgroundTaskTerminalStateSchema,
  backgroundTaskUpdateSchema,
  compareBackgroundTaskRecords,
  isLegalBackgroundTaskTransition,
  isTerminalBackgroundTaskState,
  LashError,
  parseBackgroundTaskArgument,
  UnknownBackgroundTaskError,
} from "@lash/protocol";
import { filter as filterEvents, Observable, Subject } from "rxjs";
import { HiddenTaskPool } from "./hidden-task-pool.js";
import {
  cancelledOutcome,
  copyRecord,
  DEFAULT_CANCEL_REASON,
  type LocalTaskEntry,
  type LocalTaskOrigin,
  newTaskRecord,
  outcomeOf,
  type ParsedRegistration,
} from "./local-task-entry.js";
import { DEFAULT_MAX_CONCURRENT_TASKS, LocalTaskSlots, type TaskSlotHost } from "./local-task-slots.js";

/** Options of `LocalBackgroundTaskHost`. */
export interface LocalBackgroundTaskHostOptions {
  /**
   * How many managed tasks (`spawnManaged`) run at once; later ones wait `pending` for a slot, in
   * spawn order. A slot frees when its task ends (also when it was cancelled with `abort_local` and its
   * work has not noticed yet). Default 16. Hidden jobs and external tasks do not count.
   */
  readonly maxConcurrentTasks?: number;
}

const SESSION_CLOSED_REASON = "session closed";
const HOST_CLOSED_REASON = "host closed";

/**
 * A `BackgroundTaskHost` in this process: tasks live in memory (nothing survives the process), work
 * runs on the event loop with one `AbortController` per task, events are an rxjs `Subject` delivered
 * synchronously to every subscriber (none is dropped). Share one instance between the runtimes of a
 * process through `RuntimeEnvironmentBuilder.withBackgroundTaskHost`.
 */
export class LocalBackgroundTaskHost implements BackgroundTaskHost {
  readonly #tasks = new Map<string, LocalTaskEntry>();
  readonly #events = new Subject<BackgroundTaskEvent>();
  readonly #hidden = new HiddenTaskPool();
  readonly #slots: LocalTaskSlots;
  #lastTime = 0;
  #closed = false;
  /** What the concurrency slots and the attempt runner may do to this host's tasks. */
  readonly #slotHost: TaskSlotHost = {
    isCurrent: (entry) => this.#tasks.get(entry.record.id) === entry,
    now: () => this.#now(),
    emit: (event) => this.#emit(event),
    finish: (entry, state, outcome, result) => this.#finish(entry, state, outcome, result),
    progress: (entry, message) => this.#emitProgress(entry, message),
    setLiveState: (entry, state) => this.#setLiveState(entry, state),
    moveLive: (entry, state) => this.#moveLive(entry, state),
    cancel: (entry, reason) => this.#cancel(entry, reason),
  };

  constructor(options: LocalBackgroundTaskHostOptions = {}) {
    this.#slots = new LocalTaskSlots(options.maxConcurrentTasks ?? DEFAULT_MAX_CONCURRENT_TASKS, this.#slotHost);
  }

  // ---- record API -------------------------------------------------------------------------------

  async register(request: BackgroundTaskRegisterRequest): Promise<BackgroundTaskRecord> {
    this.#ensureOpen("register a task");
    const parsed = parseBackgroundTaskArgument(backgroundTaskRegisterRequestSchema, request, "background task register request");
    const { scope, ...registration } = parsed;
    return copyRecord(this.#insert(scope, registration, "registered", "pending", undefined).record);
  }

  async update(taskId: string, update: BackgroundTaskUpdate): Promise<BackgroundTaskRecord> {
    this.#ensureOpen("update a task");
    const parsed = parseBackgroundTaskArgument(backgroundTaskUpdateSchema, update, "background task update");
    const entry = this.#require(taskId);
    const { record } = entry;
    const target = parsed.state ?? record.state;
    if (isTerminalBackgroundTaskState(record.state)) throw new BackgroundTaskTransitionError(taskId, record.state, target);
    if (target !== record.state && !isLegalBackgroundTaskTransition(record.state, target)) {
      throw new BackgroundTaskTransitionError(taskId, record.state, target);
    }
    if (parsed.attempt !== undefined && parsed.attempt < record.attempt.attempt) {
      throw new LashError(
        "invalid_argument",
        `background task \`${taskId}\` is at attempt ${record.attempt.attempt}; attempt ${parsed.attempt} would go back`,
      );
    }
    if (parsed.attempt !== undefined && parsed.attempt !== record.attempt.attempt) {
      record.attempt.attempt = parsed.attempt;
      record.updatedAt = this.#now();
    }
    if (parsed.progress !== undefined) this.#emitProgress(entry, parsed.progress);
    // A move to `cancel_requested` is a cancel request: it must abort the work and follow the cancel
    // policy, or the task could never be cancelled afterwards.
    if (target === "cancel_requested" && record.state !== target) return this.#cancel(entry, undefined);
    if (target !== record.state) this.#moveLive(entry, target);
    return copyRecord(entry.record);
  }

  async complete(taskId: string, completion: BackgroundTaskCompletion): Promise<BackgroundTaskRecord> {
    this.#ensureOpen("complete a task");
    const parsed = parseBackgroundTaskArgument(backgroundTaskCompletionSchema, completion, "background task completion");
    const entry = this.#require(taskId);
    if (isTerminalBackgroundTaskState(entry.record.state)) {
      throw new BackgroundTaskTransitionError(taskId, entry.record.state, parsed.state);
    }
    this.#finish(entry, parsed.state, outcomeOf(parsed));
    return copyRecord(entry.record);
  }

  async requestCancel(taskId: string, reason?: string): Promise<BackgroundTaskRecord> {
    this.#ensureOpen("cancel a task");
    return this.#cancel(this.#require(taskId), reason);
  }

  async get(taskId: string): Promise<BackgroundTaskRecord | undefined> {
    const entry = this.#tasks.get(taskId);
    return entry === undefined ? undefined : copyRecord(entry.record);
  }

  async list(filter?: BackgroundTaskFilter): Promise<readonly BackgroundTaskRecord[]> {
    return this.#listNow(parseBackgroundTaskArgument(backgroundTaskFilterSchema, filter ?? {}, "background task filter"));
  }

  async transfer(taskId: string, scope: BackgroundTaskScope): Promise<BackgroundTaskRecord> {
    this.#ensureOpen("transfer a task");
    const target = parseBackgroundTaskArgument(backgroundTaskScopeSchema, scope, "background task scope");
    const entry = this.#require(taskId);
    this.#move(entry, target);
    return copyRecord(entry.record);
  }

  async waitForTerminal(taskId: string, signal?: AbortSignal): Promise<BackgroundTaskRecord> {
    const entry = this.#require(taskId);
    if (isTerminalBackgroundTaskState(entry.record.state)) return copyRecord(entry.record);
    this.#ensureOpen("wait for a task");
    signal?.throwIfAborted();
    return new Promise<BackgroundTaskRecord>((resolve, reject) => {
      const onAbort = (): void => {
        entry.waiters.delete(waiter);
        reject(signal?.reason);
      };
      const waiter = {
        resolve: (record: BackgroundTaskRecord) => {
          signal?.removeEventListener("abort", onAbort);
          resolve(record);
        },
        reject: (error: unknown) => {
          signal?.removeEventListener("abort", onAbort);
          reject(error);
        },
      };
      entry.waiters.add(waiter);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /** Live events as an rxjs `Observable` (see `BackgroundTaskHost.subscribe`). */
  subscribe(filter?: BackgroundTaskFilter): Observable<BackgroundTaskEvent> {
    const parsed = parseBackgroundTaskArgument(backgroundTaskFilterSchema, filter ?? {}, "background task filter");
    return this.#events.pipe(filterEvents((event) => backgroundTaskEventMatches(event, parsed)));
  }

  /**
   * A snapshot, then live events, as an rxjs `Observable`. The snapshot is taken and the live
   * subscription made in one synchronous step, and every change emits synchronously with its
   * mutation, so no change can fall between them.
   */
  watch(filter?: BackgroundTaskFilter): Observable<BackgroundTaskWatchItem> {
    const parsed = parseBackgroundTaskArgument(backgroundTaskFilterSchema, filter ?? {}, "background task filter");
    return new Observable<BackgroundTaskWatchItem>((subscriber) => {
      subscriber.next({ type: "snapshot", records: this.#listNow(parsed) });
      return this.#events.pipe(filterEvents((event) => backgroundTaskEventMatches(event, parsed))).subscribe(subscriber);
    });
  }

  // ---- session-scoped API -----------------------------------------------------------------------

  async spawnManaged(
    scope: BackgroundTaskScope,
    registration: BackgroundTaskRegistration,
    work: BackgroundTaskWork,
  ): Promise<BackgroundTaskRecord> {
    this.#ensureOpen("spawn a task");
    const parsedScope = parseBackgroundTaskArgument(backgroundTaskScopeSchema, scope, "background task scope");
    const parsed = parseBackgroundTaskArgument(backgroundTaskRegistrationSchema, registration, "background task registration");
    if (typeof work !== "function") throw new LashError("invalid_argument", "spawnManaged needs the task's work as a function");
    const entry = this.#slots.admit(parsed, work, (starting, state) => this.#insert(parsedScope, starting, "managed", state, undefined));
    return copyRecord(entry.record);
  }

  async registerExternal(
    scope: BackgroundTaskScope,
    registration: BackgroundTaskRegistration,
    cancel?: LocalBackgroundTaskCancel,
  ): Promise<BackgroundTaskRecord> {
    this.#ensureOpen("register a task");
    const parsedScope = parseBackgroundTaskArgument(backgroundTaskScopeSchema, scope, "background task scope");
    const parsed = parseBackgroundTaskArgument(backgroundTaskRegistrationSchema, registration, "background task registration");
    return copyRecord(this.#insert(parsedScope, parsed, "external", "running", cancel).record);
  }

  async unregisterExternal(scope: BackgroundTaskScope, taskId: string): Promise<void> {
    const entry = this.#inScope(scope, taskId);
    if (entry === undefined) return;
    this.#tasks.delete(taskId);
    entry.controller.abort(new Error(`background task \`${taskId}\` was unregistered`));
    this.#slots.release(entry);
    for (const waiter of entry.waiters) waiter.reject(new UnknownBackgroundTaskError(taskId));
    entry.waiters.clear();
  }

  async markTerminal(
    scope: BackgroundTaskScope,
    taskId: string,
    state: BackgroundTaskTerminalState,
    outcome?: BackgroundTaskOutcome,
  ): Promise<BackgroundTaskRecord | undefined> {
    const terminal = parseBackgroundTaskArgument(backgroundTaskTerminalStateSchema, state, "terminal state");
    const parsedOutcome =
      outcome === undefined ? undefined : parseBackgroundTaskArgument(backgroundTaskOutcomeSchema, outcome, "background task outcome");
    const entry = this.#inScope(scope, taskId);
    if (entry === undefined) return undefined;
    if (!isTerminalBackgroundTaskState(entry.record.state)) {
      this.#ensureOpen("end a task");
      this.#finish(entry, terminal, terminal === "cancelled" ? (parsedOutcome ?? cancelledOutcome(entry)) : parsedOutcome);
    }
    return copyRecord(entry.record);
  }

  async markLiveState(
    scope: BackgroundTaskScope,
    taskId: string,
    state: BackgroundTaskLiveState,
  ): Promise<BackgroundTaskRecord | undefined> {
    const target = parseBackgroundTaskArgument(backgroundTaskLiveStateSchema, state, "live state");
    const entry = this.#inScope(scope, taskId);
    if (entry === undefined) return undefined;
    this.#setLiveState(entry, target);
    return copyRecord(entry.record);
  }

  async cancelManaged(scope: BackgroundTaskScope, taskId: string, reason?: string): Promise<BackgroundTaskRecord | undefined> {
    const entry = this.#inScope(scope, taskId);
    if (entry === undefined) return undefined;
    this.#ensureOpen("cancel a task");
    return this.#cancel(entry, reason);
  }

  async listManaged(scope: BackgroundTaskScope): Promise<readonly BackgroundTaskRecord[]> {
    const parsed = parseBackgroundTaskArgument(backgroundTaskScopeSchema, scope, "background task scope");
    return this.#listNow({ sessionId: parsed.sessionId, includeTerminal: true });
  }

  async getManaged(scope: BackgroundTaskScope, taskId: string): Promise<BackgroundTaskRecord | undefined> {
    const entry = this.#inScope(scope, taskId);
    return entry === undefined ? undefined : copyRecord(entry.record);
  }

  async transferManaged(
    from: BackgroundTaskScope,
    to: BackgroundTaskScope,
    taskIds: readonly string[],
  ): Promise<readonly BackgroundTaskRecord[]> {
    this.#ensureOpen("transfer tasks");
    const target = parseBackgroundTaskArgument(backgroundTaskScopeSchema, to, "background task scope");
    const moved: BackgroundTaskRecord[] = [];
    for (const taskId of taskIds) {
      const entry = this.#inScope(from, taskId);
      if (entry === undefined || entry.record.scope.sessionId === target.sessionId) continue;
      this.#move(entry, target);
      moved.push(copyRecord(entry.record));
    }
    return moved;
  }

  async cancelAllManaged(scope: BackgroundTaskScope, reason?: string): Promise<readonly BackgroundTaskRecord[]> {
    this.#ensureOpen("cancel tasks");
    const parsed = parseBackgroundTaskArgument(backgroundTaskScopeSchema, scope, "background task scope");
    const live = this.#liveEntriesOf(parsed.sessionId);
    const cancelling = this.#slots.cancelQueuedFirst(live, () => reason);
    return Promise.all(live.map((entry) => cancelling.get(entry) ?? this.#cancel(entry, reason)));
  }

  async closeScope(
    scope: BackgroundTaskScope,
    options: { readonly parent?: BackgroundTaskScope; readonly reason?: string } = {},
  ): Promise<BackgroundScopeCloseReport> {
    this.#ensureOpen("close a session's tasks");
    const parsed = parseBackgroundTaskArgument(backgroundTaskScopeSchema, scope, "background task scope");
    const parent =
      options.parent === undefined ? undefined : parseBackgroundTaskArgument(backgroundTaskScopeSchema, options.parent, "parent scope");
    const kept: BackgroundTaskRecord[] = [];
    const transferred: BackgroundTaskRecord[] = [];
    const cancelling: Promise<BackgroundTaskRecord>[] = [];
    const live = this.#liveEntriesOf(parsed.sessionId);
    const reason = options.reason ?? SESSION_CLOSED_REASON;
    const queuedCancels = this.#slots.cancelQueuedFirst(live, (entry) => (entry.record.closePolicy === "cancel" ? reason : null));
    for (const entry of live) {
      const policy = entry.record.closePolicy;
      if (policy === "cancel") {
        cancelling.push(queuedCancels.get(entry) ?? this.#cancel(entry, reason));
      } else if (policy === "transfer" && parent !== undefined && parent.sessionId !== parsed.sessionId) {
        this.#move(entry, parent);
        transferred.push(copyRecord(entry.record));
      } else {
        kept.push(copyRecord(entry.record));
      }
    }
    return { kept, cancelled: await Promise.all(cancelling), transferred };
  }

  spawnHidden(scope: BackgroundTaskScope, label: string, work: HiddenBackgroundWork): void {
    this.#ensureOpen(`spawn the hidden job \`${label}\``);
    const parsed = parseBackgroundTaskArgument(backgroundTaskScopeSchema, scope, "background task scope");
    if (typeof work !== "function") throw new LashError("invalid_argument", `the hidden job \`${label}\` needs its work as a function`);
    this.#hidden.spawn(parsed.sessionId, work);
  }

  async awaitHidden(scope: BackgroundTaskScope): Promise<void> {
    const parsed = parseBackgroundTaskArgument(backgroundTaskScopeSchema, scope, "background task scope");
    await this.#hidden.awaitAll(parsed.sessionId);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const closing = new BackgroundTaskHostClosedError("wait for a task");
    const hooks: Promise<void>[] = [];
    // Queued work must never start (see `LocalTaskSlots.close`); the queued tasks end `cancelled` in the loop.
    this.#slots.close();
    for (const entry of [...this.#tasks.values()]) {
      if (isTerminalBackgroundTaskState(entry.record.state)) continue;
      if (entry.origin === "registered") {
        // Nothing runs here for it: its owner may still end it elsewhere, so only waiters are released.
        for (const waiter of entry.waiters) waiter.reject(closing);
        entry.waiters.clear();
        continue;
      }
      entry.cancelReason ??= HOST_CLOSED_REASON;
      hooks.push(this.#callCancelHook(entry));
      this.#finish(entry, "cancelled", { summary: HOST_CLOSED_REASON });
    }
    this.#hidden.abortAll(new BackgroundTaskHostClosedError("run hidden jobs"));
    this.#events.complete();
    await Promise.all(hooks);
  }

  // ---- internals --------------------------------------------------------------------------------

  #ensureOpen(operation: string): void {
    if (this.#closed) throw new BackgroundTaskHostClosedError(operation);
  }

  /** Epoch milliseconds, never earlier than a time this host already handed out. */
  #now(): number {
    this.#lastTime = Math.max(this.#lastTime, Date.now());
    return this.#lastTime;
  }

  #require(taskId: string): LocalTaskEntry {
    const entry = this.#tasks.get(taskId);
    if (entry === undefined) throw new UnknownBackgroundTaskError(taskId);
    return entry;
  }

  #inScope(scope: BackgroundTaskScope, taskId: string): LocalTaskEntry | undefined {
    const parsed = parseBackgroundTaskArgument(backgroundTaskScopeSchema, scope, "background task scope");
    const entry = this.#tasks.get(taskId);
    return entry !== undefined && entry.record.scope.sessionId === parsed.sessionId ? entry : undefined;
  }

  #liveEntriesOf(sessionId: string): LocalTaskEntry[] {
    return [...this.#tasks.values()]
      .filter((entry) => entry.record.scope.sessionId === sessionId && !isTerminalBackgroundTaskState(entry.record.state))
      .sort((left, right) => compareBackgroundTaskRecords(left.record, right.record));
  }

  #listNow(filter: BackgroundTaskFilter): BackgroundTaskRecord[] {
    return [...this.#tasks.values()]
      .map((entry) => entry.record)
      .filter((record) => backgroundTaskRecordMatches(record, filter))
      .sort(compareBackgroundTaskRecords)
      .map(copyRecord);
  }

  #emit(event: BackgroundTaskEvent): void {
    this.#events.next(event);
  }

  #insert(
    scope: BackgroundTaskScope,
    registration: ParsedRegistration,
    origin: LocalTaskOrigin,
    state: BackgroundTaskState,
    cancelHook: LocalBackgroundTaskCancel | undefined,
  ): LocalTaskEntry {
    const existing = this.#tasks.get(registration.id);
    if (existing !== undefined && !isTerminalBackgroundTaskState(existing.record.state)) {
      throw new BackgroundTaskConflictError(registration.id, existing.record.scope.sessionId);
    }
    const record = newTaskRecord(scope, registration, state, this.#now());
    const entry: LocalTaskEntry = {
      record,
      origin,
      controller: new AbortController(),
      work: undefined,
      cancelHook,
      holdsSlot: false,
      cancelReason: undefined,
      waiters: new Set(),
    };
    this.#tasks.set(record.id, entry);
    this.#emit({ type: "registered", taskId: record.id, record: copyRecord(record) });
    return entry;
  }

  #emitProgress(entry: LocalTaskEntry, message: string): void {
    entry.record.updatedAt = this.#now();
    this.#emit({ type: "progress", taskId: entry.record.id, record: copyRecord(entry.record), message });
  }

  /** Moves a live task to another live state (the caller checked the move is legal). */
  #moveLive(entry: LocalTaskEntry, state: BackgroundTaskState): void {
    const previousState = entry.record.state;
    entry.record.state = state;
    entry.record.updatedAt = this.#now();
    this.#emit({ type: "state_changed", taskId: entry.record.id, record: copyRecord(entry.record), state, previousState });
  }

  /** `running` ⇄ `waiting` (and `pending` → either) for a task still live and not asked to stop. */
  #setLiveState(entry: LocalTaskEntry, state: BackgroundTaskLiveState): void {
    const current = entry.record.state;
    if (current === state || current === "cancel_requested" || isTerminalBackgroundTaskState(current)) return;
    // A managed task waiting for a slot is not running yet, whatever its work would say.
    if (entry.origin === "managed" && entry.work !== undefined) return;
    this.#moveLive(entry, state);
  }

  #move(entry: LocalTaskEntry, scope: BackgroundTaskScope): void {
    const previousScope = entry.record.scope;
    if (previousScope.sessionId === scope.sessionId) return;
    entry.record.scope = { sessionId: scope.sessionId };
    entry.record.updatedAt = this.#now();
    this.#emit({
      type: "transferred",
      taskId: entry.record.id,
      record: copyRecord(entry.record),
      scope: { sessionId: scope.sessionId },
      previousScope,
    });
  }

  /**
   * Ends a live task: records the outcome (`result` for `completed`, `failure` otherwise), aborts work
   * still running for it, frees its slot, wakes its waiters and emits the ending event.
   */
  #finish(
    entry: LocalTaskEntry,
    state: BackgroundTaskTerminalState,
    outcome: BackgroundTaskOutcome | undefined,
    result?: BackgroundTaskOutcome,
  ): void {
    const { record } = entry;
    const now = this.#now();
    record.state = state;
    record.updatedAt = now;
    record.completedAt = now;
    if (state === "completed") {
      if (outcome !== undefined) record.result = outcome;
    } else {
      record.failure = outcome ?? (state === "cancelled" ? cancelledOutcome(entry) : { summary: "failed" });
      if (result !== undefined) record.result = result;
    }
    entry.work = undefined;
    entry.controller.abort(new Error(`background task \`${record.id}\` ended (${state})`));
    this.#slots.release(entry);
    const snapshot = copyRecord(record);
    for (const waiter of entry.waiters) waiter.resolve(copyRecord(record));
    entry.waiters.clear();
    this.#emit({ type: state, taskId: record.id, record: snapshot });
  }

  async #cancel(entry: LocalTaskEntry, reason: string | undefined): Promise<BackgroundTaskRecord> {
    const { record } = entry;
    if (isTerminalBackgroundTaskState(record.state)) return copyRecord(record);
    const policy = record.cancelPolicy;
    if (record.state === "cancel_requested" && policy !== "abort_local") return copyRecord(record);
    const why = reason ?? DEFAULT_CANCEL_REASON;
    if (record.state !== "cancel_requested") {
      entry.cancelReason = why;
      this.#moveLive(entry, "cancel_requested");
      this.#emit({ type: "cancel_requested", taskId: record.id, record: copyRecord(record), ...(reason === undefined ? {} : { reason }) });
    }
    if (policy === "external") return copyRecord(record);
    const cancelReason = entry.cancelReason ?? why;
    entry.controller.abort(new Error(cancelReason));
    if (policy === "abort_local" || (entry.origin === "managed" && entry.work !== undefined)) {
      // abort_local ends the task now; a managed task still waiting for a slot never ran, so it ends now too.
      // The hook is not awaited: this policy does not wait for the work (the hook never throws).
      void this.#callCancelHook(entry);
      this.#finish(entry, "cancelled", { summary: cancelReason });
      return copyRecord(record);
    }
    if (entry.cancelHook !== undefined) {
      await this.#callCancelHook(entry);
      if (!isTerminalBackgroundTaskState(record.state)) this.#finish(entry, "cancelled", { summary: cancelReason });
    }
    return copyRecord(record);
  }

  /** Calls the task's cancel hook at most once; a failing hook still leaves the task cancelled. */
  async #callCancelHook(entry: LocalTaskEntry): Promise<void> {
    const hook = entry.cancelHook;
    entry.cancelHook = undefined;
    if (hook === undefined) return;
    try {
      await hook();
    } catch {
      // The task is cancelled either way; a hook that failed to stop its work cannot undo that.
    }
  }
}
