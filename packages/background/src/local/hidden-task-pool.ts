import type { HiddenBackgroundWork } from "@lash/protocol";

/**
 * How many failures of one session are kept until `awaitAll` reports them: only the first is ever
 * thrown, so a runtime that never awaits its hidden jobs holds at most this many errors per session.
 */
export const MAX_KEPT_HIDDEN_FAILURES = 8;

/** The hidden jobs of one session: those still running, and failures nobody awaited yet. */
interface HiddenScope {
  readonly running: Set<Promise<void>>;
  readonly failures: unknown[];
}

/**
 * Hidden background jobs by session id (maintenance with no record and no events). `awaitAll`
 * waits for every job before reporting a failure, so a job that fails early does not leave the
 * others behind un-awaited.
 */
export class HiddenTaskPool {
  readonly #scopes = new Map<string, HiddenScope>();
  readonly #controllers = new Set<AbortController>();

  spawn(sessionId: string, work: HiddenBackgroundWork): void {
    const scope = this.#scope(sessionId);
    const controller = new AbortController();
    this.#controllers.add(controller);
    // Starting on a microtask keeps a synchronous throw inside the job from escaping `spawn`.
    const job: Promise<void> = Promise.resolve()
      .then(() => work(controller.signal))
      .then(
        () => undefined,
        (error: unknown) => {
          if (scope.failures.length < MAX_KEPT_HIDDEN_FAILURES) scope.failures.push(error);
        },
      )
      .finally(() => {
        scope.running.delete(job);
        this.#controllers.delete(controller);
        // A session with nothing running and nothing to report is forgotten (jobs are rarely awaited).
        if (scope.running.size === 0 && scope.failures.length === 0 && this.#scopes.get(sessionId) === scope)
          this.#scopes.delete(sessionId);
      });
    scope.running.add(job);
  }

  /** Waits until the session's jobs settled (new ones included), then throws the first failure, if any. */
  async awaitAll(sessionId: string): Promise<void> {
    for (;;) {
      const scope = this.#scopes.get(sessionId);
      if (scope === undefined) return;
      if (scope.running.size === 0) {
        this.#scopes.delete(sessionId);
        const [first] = scope.failures;
        if (scope.failures.length > 0) throw first;
        return;
      }
      await Promise.all([...scope.running]);
    }
  }

  /** How many sessions hold running jobs or unreported failures (what this pool keeps in memory). */
  get sessionCount(): number {
    return this.#scopes.size;
  }

  /** Aborts every running job's signal (the host is closing). */
  abortAll(reason: unknown): void {
    for (const controller of this.#controllers) controller.abort(reason);
  }

  #scope(sessionId: string): HiddenScope {
    let scope = this.#scopes.get(sessionId);
    if (scope === undefined) {
      scope = { running: new Set(), failures: [] };
      this.#scopes.set(sessionId, scope);
    }
    return scope;
  }
}
