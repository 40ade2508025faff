import { resolve } from "node:path";
import type { Database } from "better-sqlite3";
import { SqliteCheckpointer, type SqliteCheckpointerOptions } from "./sqlite-checkpointer.js";
import { type DataSync, SqliteWalFlush } from "./sqlite-wal-flush.js";

/** SQLite's own automatic checkpoint threshold, in pages: what the connection falls back to. */
const DEFAULT_AUTOCHECKPOINT_PAGES = 1000;

/**
 * How a SQLite file the store opened in WAL mode is made durable without the event loop waiting
 * for the disk (ADR 0038): the connection at `synchronous = NORMAL`, the log flushed by `flush`
 * before a `turn` write is answered, and checkpoints on a worker thread.
 */
export class SqliteDurableLog {
  readonly flush: SqliteWalFlush;
  readonly checkpointer: SqliteCheckpointer | undefined;
  #closed: Promise<void> | undefined;

  constructor(
    handle: Database,
    filename: string,
    options: {
      /** Stands in for `fdatasync` (tests of a failing or slow disk). */
      readonly datasync?: DataSync;
      readonly checkpoints?: Pick<SqliteCheckpointerOptions, "everyTransactions" | "restartFrames" | "restartWaitMs">;
    } = {},
  ) {
    const databaseFile = resolve(filename);
    handle.pragma("synchronous = NORMAL");
    this.flush = new SqliteWalFlush(databaseFile, options.datasync);
    let checkpointer: SqliteCheckpointer | undefined;
    try {
      checkpointer = new SqliteCheckpointer({
        ...options.checkpoints,
        databaseFile,
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
      checkpointer = undefined;
    }
    this.checkpointer = checkpointer;
  }

  /** Called after each write transaction of the connection committed. */
  committed(): void {
    this.checkpointer?.committed();
  }

  /** Waits for the running flush, then ends the checkpoint worker and closes the log's descriptor. */
  close(): Promise<void> {
    this.#closed ??= Promise.all([this.flush.close(), this.checkpointer?.close()]).then(() => undefined);
    return this.#closed;
  }
}
