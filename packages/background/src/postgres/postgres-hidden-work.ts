import type { HiddenBackgroundWork } from "@lash/protocol";

/**
 * Hidden work of a process, by session: no record, no event, only `awaitHidden`. It never leaves the
 * process, so the durable host keeps it in memory like the local host does.
 */
export class HiddenWorkTracker {
  readonly #pending = new Map<string, Set<Promise<void>>>();
  readonly #controllers = new Set<AbortController>();

  /** Starts `work` at once under `sessionId`. */
  spawn(sessionId: string, label: string, work: HiddenBackgroundWork): void {
    const controller = new AbortController();
    this.#controllers.add(controller);
    const running = (async () => {
      try {
        await work(controller.signal);
      } catch (error) {
        throw error instanceof Error ? error : new Error(`hidden background task \`${label}\` failed: ${String(error)}`);
      } finally {
        this.#controllers.delete(controller);
      }
    })();
    // The failure is reported by `await`; an un-awaited one must not become an unhandled rejection.
    running.catch(() => undefined);
    let jobs = this.#pending.get(sessionId);
    if (jobs === undefined) {
      jobs = new Set();
      this.#pending.set(sessionId, jobs);
    }
    jobs.add(running);
  }

  /** Waits for every hidden job of `sessionId` (those started meanwhile too); rejects with the first failure after all settled. */
  async await(sessionId: string): Promise<void> {
    let firstFailure: { error: unknown } | undefined;
    for (;;) {
      const jobs = this.#pending.get(sessionId);
      if (jobs === undefined || jobs.size === 0) break;
      const batch = [...jobs];
      for (const job of batch) jobs.delete(job);
      const results = await Promise.allSettled(batch);
      for (const result of results) if (result.status === "rejected" && firstFailure === undefined) firstFailure = { error: result.reason };
    }
    this.#pending.delete(sessionId);
    if (firstFailure !== undefined) throw firstFailure.error;
  }

  /** Aborts every hidden job's signal (the host closes). */
  abortAll(): void {
    for (const controller of this.#controllers) controller.abort(new Error("host closed"));
  }
}
