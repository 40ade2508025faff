import { type FileHandle, open } from "node:fs/promises";
import { StoreUnavailableError } from "@lash/protocol";

/** How a file is made durable; `FileHandle.datasync` unless a test stands in for a failing disk. */
export type DataSync = (file: FileHandle) => Promise<void>;

const datasyncOf: DataSync = (file) => file.datasync();

/**
 * Flushes a SQLite database's write-ahead log to the disk off the event loop (ADR 0038).
 *
 * The store's own connections run at `synchronous = NORMAL`: a COMMIT appends its frames to the
 * log and returns without an fsync, so better-sqlite3 (which runs on the event loop) never waits
 * for the disk. A write that must survive a power loss is answered only after `flush()`: an
 * `fdatasync` of the log file on libuv's thread pool. Linux flushes a file's pages whichever
 * descriptor wrote them, and every frame a COMMIT wrote is in the log (or, once a checkpoint moved
 * it, in the database file, which the checkpoint synced before the log could be reused), so the
 * sync makes every transaction committed before it durable, as `synchronous = FULL` would have.
 * It is only made after a write transaction of a connection in WAL mode, so the log exists.
 *
 * Flushes coalesce: while one runs, every caller that arrives waits for the next one (the running
 * one may have started before the caller's frames were written), and that one covers them all.
 */
export class SqliteWalFlush {
  readonly #databaseFile: string;
  readonly #logFile: string;
  readonly #datasync: DataSync;
  #log: FileHandle | undefined;
  #running: Promise<void> | undefined;
  #next: Promise<void> | undefined;
  #closed = false;
  /** Syncs run (for tests and diagnostics). */
  syncs = 0;

  constructor(databaseFile: string, datasync: DataSync = datasyncOf) {
    this.#databaseFile = databaseFile;
    this.#logFile = `${databaseFile}-wal`;
    this.#datasync = datasync;
  }

  /** Resolves once every transaction committed before the call is on the disk. */
  flush(): Promise<void> {
    if (this.#running === undefined) {
      const running = this.#sync().finally(() => {
        if (this.#running === running) this.#running = undefined;
      });
      this.#running = running;
      return running;
    }
    this.#next ??= this.#running
      .catch(() => undefined)
      .then(() => {
        this.#next = undefined;
        return this.flush();
      });
    return this.#next;
  }

  async #sync(): Promise<void> {
    if (this.#closed) throw new StoreUnavailableError(`the SQLite database sqlite:${this.#databaseFile} is closed`);
    this.syncs += 1;
    try {
      // The store's connection keeps the log open (SQLite removes it only when the last connection
      // closes), so the file this descriptor names stays the log for as long as there are writes.
      this.#log ??= await open(this.#logFile, "r");
      await this.#datasync(this.#log);
    } catch (error) {
      // The handle is opened again by the next sync: a failed one may be in any state.
      await this.#log?.close().catch(() => undefined);
      this.#log = undefined;
      throw new StoreUnavailableError(
        `the write-ahead log of the SQLite database sqlite:${this.#databaseFile} could not be flushed to the disk: ${
          error instanceof Error ? error.message : String(error)
        }`,
        { cause: error },
      );
    }
  }

  /** Closes the log's descriptor once the running flush ended; later flushes fail. */
  async close(): Promise<void> {
    if (this.#closed) return;
    await this.#next?.catch(() => undefined);
    await this.#running?.catch(() => undefined);
    this.#closed = true;
    await this.#log?.close().catch(() => undefined);
    this.#log = undefined;
  }
}
