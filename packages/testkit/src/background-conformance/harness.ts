import type { BackgroundTaskHost } from "@lash/protocol";

/**
 * What a host declares it can do. The suite runs the tests a capability enables and replaces the
 * others with one test of the declared behaviour; it never skips by host name.
 */
export interface BackgroundTaskHostCapabilities {
  /**
   * `spawnManaged`, `registerExternal` cancel hooks and `spawnHidden` run functions in this process.
   * When false, `spawnManaged` and `spawnHidden` must throw `BackgroundTaskUnsupportedError`.
   */
  readonly inProcessWork: boolean;
  /** `spawnManaged` retries failed work while `attempt.maxAttempts` allows (needs `inProcessWork`). */
  readonly retries: boolean;
  /** `create({ maxConcurrentTasks })` bounds how many managed tasks run at once (needs `inProcessWork`). */
  readonly concurrencyLimit: boolean;
  /** Records survive `instance.reopen()` (a new host over the same storage). */
  readonly durable: boolean;
}

/** Options the suite passes to `harness.create`. */
export interface BackgroundTaskHostCreateOptions {
  /** Only passed when `capabilities.concurrencyLimit`: at most this many managed tasks run at once. */
  readonly maxConcurrentTasks?: number;
}

/** One host under test, fresh for one test. */
export interface BackgroundTaskHostInstance {
  readonly host: BackgroundTaskHost;
  /**
   * Closes this host and creates a new one over the same storage (only called when `durable`). The
   * returned instance's `close` then releases everything.
   */
  reopen?(): Promise<BackgroundTaskHostInstance>;
  /** Closes the host (it may already be closed by the test) and removes what `create` made. */
  close(): Promise<void>;
}

/** How the conformance suite reaches a `BackgroundTaskHost` implementation. */
export interface BackgroundTaskHostHarness {
  /** Shown in the suite's title, for example `"local"`. */
  readonly name: string;
  readonly capabilities: BackgroundTaskHostCapabilities;
  /** A fresh host with no tasks, for one test. */
  create(options?: BackgroundTaskHostCreateOptions): Promise<BackgroundTaskHostInstance>;
  /**
   * When set and it returns a reason, the whole suite is skipped with that reason in its title (for
   * example a PostgreSQL server that is not reachable outside CI).
   */
  skipReason?(): Promise<string | undefined>;
}
