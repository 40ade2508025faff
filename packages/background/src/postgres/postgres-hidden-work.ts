import type { HiddenBackgroundWork } from "@lash/protocol";

/**
 * How many failures of one session are kept until `await` reports them: only the first is ever
 * thrown, so a runtime that never awaits its hidden jobs holds at most this many errors per session.
 */
const MAX_KEPT_FAILURES = 8;

/** The hidden jobs of one session: those still running, and failures nobody awaited yet. */
interface HiddenSession {
  readonly running: Set<Promise<void>>;
  readonly failures: unknown[];
}

/**
 * Hidden work of a process, by session: no record, no event, only `awaitHidden`. It never leaves the
 * process, so the durable host keeps it in memory like the local host does. A job is forgotten as
 * soon as it settles (the runtime rarely awaits hidden work); only its failure is kept, bounded.
 */
export class HiddenWorkTracker {
  readonly #sessions = new Map<string, HiddenSession>();
  readonly #controllers = new Set<AbortController>();

  /** Starts `work` under `sessionId` on the next microtask. */
  spawn(sessionId: string, label: string, work: HiddenBackgroundWork): void {
    const session = this.#session(sessionId);
    const controller = new AbortController();
    this.#controllers.add(controller);
    // Starting on a microtask keeps a synchronous throw of the job inside the chain.
    const running: Promise<void> = Promise.resolve()
      .then(() => work(controller.signal))
      .then(
        () => undefined,
        (error: unknown) => {
          const failure = error instanceof Error ? error : new Error(`hidden background task \`${label}\` failed: ${String(error)}`);
          if (session.failures.length < MAX_KEPT_FAILURES) session.failures.push(failure);
        },
      )
      .finally(() => {
        this.#controllers.delete(controller);
        session.running.delete(running);
        if (session.running.size === 0 && session.failures.length === 0 && this.#sessions.get(sessionId) === session)
          this.#sessions.delete(sessionId);
      });
    session.running.add(running);
  }

  /** Waits for every hidden job of `sessionId` (those started meanwhile too); rejects with the first failure after all settled. */
  async await(sessionId: string): Promise<void> {
    for (;;) {
      const session = this.#sessions.get(sessionId);
      if (session === undefined) return;
      if (session.running.size === 0) {
        this.#sessions.delete(sessionId);
        if (session.failures.length > 0) throw session.failures[0];
        return;
      }
      await Promise.all([...session.running]);
    }
  }

  /** How many sessions hold running jobs or unreported failures (what this tracker keeps in memory). */
  get sessionCount(): number {
    return this.#sessions.size;
  }

  /** Aborts every hidden job's signal (the host closes). */
  abortAll(): void {
    for (const controller of this.#controllers) controller.abort(new Error("host closed"));
  }

  #session(sessionId: string): HiddenSession {
    let session = this.#sessions.get(sessionId);
    if (session === undefined) {
      session = { running: new Set(), failures: [] };
      this.#sessions.set(sessionId, session);
    }
    return session;
  }
}
