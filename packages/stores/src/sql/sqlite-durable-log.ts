import { resolve } from "node:path";
import type { Database } from "better-sqlite3";
import { SqliteCheckpointer, type SqliteCheckpointerOptions } from "./sqlite-checkpointer.js";
import { type DataSync, SqliteWalFlush } from "./sqlite-wal-flush.js";

/** SQLite's own automatic checkpoint threshold, in pages: what the connection falls back to. */
const DEFAULT_AUTOCHECKPOINT_PAGES = 1000;

/** Write transactions before the checkpoint worker starts: a short-lived process never needs one. */
const TRANSACTIONS_BEFORE_WORKER = 16;

/** Options of a durable log; the defaults are what the store uses. */
export interface SqliteDurableLogOptions {
  /** Stands in for `fdatasync` (tests of a failing or slow disk). */
  readonly datasync?: DataSync;
  readonly checkpoints?: Pick<SqliteCheckpointerOptions, "everyTransactions" | "restartFrames" | "restartWaitMs">;
  /** Write transactions before the checkpoint worker starts (default 16). */
  readonly transactionsBeforeWorker?: number;
}

/**
 * How a SQLite file the store opened in WAL mode is made durable without the event loop waiting
 * for the disk (ADR 0038): the connection at `synchronous = NORMAL`, the log flushed by `flush`
 * before a `turn` write is answered, and checkpoints on a worker thread. The worker starts once the
 * connection has written a few transactions, so a command that writes one turn and exits never
 * pays for it; until then SQLite's automatic checkpoint stays on.
 */
export class SqliteDurableLog {
  readonly flush: SqliteWalFlush;
  readonly #handle: Database;
  readonly #databaseFile: string;
  readonly #options: SqliteDurableLogOptions;
  #transactions = 0;
  #checkpointer: SqliteCheckpointer | undefined;
  #workerUnavailable = false;
  #closed: Promise<void> | undefined;

  constructor(handle: Database, filename: string, options: SqliteDurableLogOptions = {}) {
    this.#handle = handle;
    this.#databaseFile = resolve(filename);
    this.#options = options;
    handle.pragma("synchronous = NORMAL");
    this.flush = new SqliteWalFlush(this.#databaseFile, options.datasync);
  }

  /** The checkpoint worker, once it started. */
  get checkpointer(): SqliteCheckpointer | undefined {
    return this.#checkpointer;
  }

  /** Called after each write transaction of the connection committed. */
  committed(): void {
    this.#transactions += 1;
    if (
      this.#checkpointer === undefined &&
      !this.#workerUnavailable &&
      this.#closed === undefined &&
      this.#transactions >= (this.#options.transactionsBeforeWorker ?? TRANSACTIONS_BEFORE_WORKER)
    ) {
      this.#startWorker();
    }
    this.#checkpointer?.committed();
  }

  #startWorker(): void {
    const handle = this.#handle;
    try {
      this.#checkpointer = new SqliteCheckpointer({
        ...this.#options.checkpoints,
        databaseFile: this.#databaseFile,
        onFailure: () => {
          // The connection checkpoints by itself again (on the event loop, as SQLite does by default).
          try {
            handle.pragma(`wal_autocheckpoint = ${DEFAULT_AUTOCHECKPOINT_PAGES}`);
          } catch {
            // The connection is closed: nothing is written any more.
          }
        },
      });
      handle.pragma("wal_autocheckpoint = 0");
    } catch {
      // No worker threads here: SQLite's automatic checkpoint stays on.
      this.#workerUnavailable = true;
    }
  }

  /** Waits for the running flush, then ends the checkpoint worker and closes the log's descriptor. */
  close(): Promise<void> {
    this.#closed ??= Promise.all([this.flush.close(), this.#checkpointer?.close()]).then(() => undefined);
    return this.#closed;
  }
}
