import type {
  BackgroundScopeCloseReport,
  BackgroundTaskEvent,
  BackgroundTaskHost,
  BackgroundTaskKind,
  BackgroundTaskRecord,
  BackgroundTaskRegistration,
  BackgroundTaskScope,
  BackgroundTaskStream,
  BackgroundTaskWatchItem,
  BackgroundTaskWork,
  HiddenBackgroundWork,
} from "@lash/protocol";
import { UnknownBackgroundTaskError } from "@lash/protocol";

/** Which of a session's tasks to list or watch. */
export interface SessionBackgroundTaskQuery {
  readonly kind?: BackgroundTaskKind;
  /** Include ended tasks (default false; watch streams always deliver endings). */
  readonly includeTerminal?: boolean;
}

/**
 * The background tasks of one session on the runtime's host (`runtime.backgroundTasks()`). The
 * scope is the plain session id, so a parked and resumed runtime (or another runtime of the same
 * session on the same host) sees the same tasks.
 */
export class SessionBackgroundTasks {
  readonly host: BackgroundTaskHost;
  readonly sessionId: string;

  constructor(host: BackgroundTaskHost, sessionId: string) {
    this.host = host;
    this.sessionId = sessionId;
  }

  get scope(): BackgroundTaskScope {
    return { sessionId: this.sessionId };
  }

  /** The session's tasks (live ones unless `includeTerminal`), oldest first. */
  list(query: SessionBackgroundTaskQuery = {}): Promise<readonly BackgroundTaskRecord[]> {
    return this.host.list({ sessionId: this.sessionId, ...query });
  }

  /** One of the session's tasks, or `undefined`. */
  get(taskId: string): Promise<BackgroundTaskRecord | undefined> {
    return this.host.getManaged(this.scope, taskId);
  }

  /**
   * Cancels one of the session's tasks by its cancel policy and returns its record (an ended task is
   * returned unchanged). A task of another session → `UnknownBackgroundTaskError`.
   */
  async cancel(taskId: string, reason?: string): Promise<BackgroundTaskRecord> {
    const record = await this.host.cancelManaged(this.scope, taskId, reason);
    if (record === undefined) throw new UnknownBackgroundTaskError(taskId);
    return record;
  }

  /** Cancels every live task of the session. */
  cancelAll(reason?: string): Promise<readonly BackgroundTaskRecord[]> {
    return this.host.cancelAllManaged(this.scope, reason);
  }

  /** Waits until one of the session's tasks ended (see `BackgroundTaskHost.waitForTerminal`). */
  async waitFor(taskId: string, signal?: AbortSignal): Promise<BackgroundTaskRecord> {
    if ((await this.get(taskId)) === undefined) throw new UnknownBackgroundTaskError(taskId);
    return this.host.waitForTerminal(taskId, signal);
  }

  /** Runs `work` as a task of this session (see `BackgroundTaskHost.spawnManaged`). */
  spawn(registration: BackgroundTaskRegistration, work: BackgroundTaskWork): Promise<BackgroundTaskRecord> {
    return this.host.spawnManaged(this.scope, registration, work);
  }

  /** Runs hidden maintenance work for this session. */
  spawnHidden(label: string, work: HiddenBackgroundWork): void {
    this.host.spawnHidden(this.scope, label, work);
  }

  /** Waits for the session's hidden work. */
  awaitHidden(): Promise<void> {
    return this.host.awaitHidden(this.scope);
  }

  /** Live events of the session's tasks. */
  subscribe(query: Omit<SessionBackgroundTaskQuery, "includeTerminal"> = {}): BackgroundTaskStream<BackgroundTaskEvent> {
    return this.host.subscribe({ sessionId: this.sessionId, ...query });
  }

  /** The session's current tasks, then live events, without a gap. */
  watch(query: SessionBackgroundTaskQuery = {}): BackgroundTaskStream<BackgroundTaskWatchItem> {
    return this.host.watch({ sessionId: this.sessionId, ...query });
  }

  /**
   * Applies each live task's close policy because the session is done: `keep` tasks
   * stay, `cancel` tasks are cancelled, `transfer` tasks move to `parentSessionId` (kept without one).
   * Child sessions do this when their parent closes them; a host calls it for a root session it
   * retires (parking is not closing: a parked session keeps its tasks).
   */
  close(options: { readonly parentSessionId?: string; readonly reason?: string } = {}): Promise<BackgroundScopeCloseReport> {
    return this.host.closeScope(this.scope, {
      ...(options.parentSessionId === undefined ? {} : { parent: { sessionId: options.parentSessionId } }),
      ...(options.reason === undefined ? {} : { reason: options.reason }),
    });
  }
}
