import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";

/** Where and how often a `SqliteCheckpointer` checkpoints. */
export interface SqliteCheckpointerOptions {
  readonly databaseFile: string;
  /** Transactions between two checkpoint requests. */
  readonly everyTransactions?: number;
  /** A log of more frames than this is checkpointed with `RESTART`. */
  readonly restartFrames?: number;
  /** How long a `RESTART` waits for the writer's lock, in milliseconds. */
  readonly restartWaitMs?: number;
  readonly onFailure: (error: unknown) => void;
}

/** What the worker reports after each checkpoint: SQLite's `wal_checkpoint` row. */
interface CheckpointReport {
  readonly type: "checkpointed";
  readonly busy: number;
  readonly log: number;
  readonly checkpointed: number;
}

// The worker's code: evaluated, so that the same file serves the sources and the build. It loads
// better-sqlite3 from the path the store resolved (the store's own dependency).
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.driverPath);
const database = new Database(workerData.databaseFile);
database.pragma("synchronous = NORMAL");
parentPort.on("message", (message) => {
  if (message.type === "close") {
    database.close();
    parentPort.close();
    return;
  }
  database.pragma("busy_timeout = " + (message.mode === "RESTART" ? workerData.restartWaitMs : 0));
  let row;
  try {
    row = database.pragma("wal_checkpoint(" + message.mode + ")")[0];
  } catch (error) {
    if (error && typeof error.code === "string" && error.code.startsWith("SQLITE_BUSY")) row = { busy: 1, log: -1, checkpointed: -1 };
    else throw error;
  }
  parentPort.postMessage({ type: "checkpointed", busy: row.busy, log: row.log, checkpointed: row.checkpointed });
});
`;

/**
 * Checkpoints a SQLite database's write-ahead log on a worker thread (ADR 0038).
 *
 * A checkpoint copies the log's frames into the database file and syncs both; run by SQLite's
 * automatic checkpoint it happens inside some COMMIT, on the event loop, a few milliseconds of
 * disk waits every thousand pages. The store's connection turns the automatic checkpoint off and
 * this worker, with a connection of its own, runs them instead: `PASSIVE` (it never waits for the
 * writer, which keeps writing meanwhile), and `RESTART` once the log has grown past
 * `restartFrames`, since under a steady stream of commits a passive checkpoint never finds the
 * whole log copied and SQLite only starts the log over when it is. `RESTART` waits for the writer's
 * lock (at most `restartWaitMs`, else it is tried again later) and holds it while it copies; the
 * store waits for the lock asynchronously meanwhile.
 *
 * When the worker cannot start or stops (anything but `close`), `onFailure` runs: the store's
 * connection turns the automatic checkpoint back on, so the log never grows without bound.
 */
export class SqliteCheckpointer {
  readonly #worker: Worker;
  readonly #everyTransactions: number;
  readonly #restartFrames: number;
  readonly #onFailure: (error: unknown) => void;
  #sinceRequest = 0;
  #running = false;
  #lastLogFrames = 0;
  #closing: Promise<void> | undefined;
  #failed = false;
  #exited = false;
  /** Checkpoints run, and how many of them were `RESTART` (for tests and diagnostics). */
  checkpoints = 0;
  restarts = 0;

  constructor(options: SqliteCheckpointerOptions) {
    this.#everyTransactions = options.everyTransactions ?? 16;
    this.#restartFrames = options.restartFrames ?? 16_384;
    this.#onFailure = options.onFailure;
    const driverPath = createRequire(import.meta.url).resolve("better-sqlite3");
    this.#worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { driverPath, databaseFile: options.databaseFile, restartWaitMs: options.restartWaitMs ?? 200 },
    });
    // A checkpointer never keeps the process alive: the connection's own close checkpoints too.
    this.#worker.unref();
    this.#worker.on("message", (report: CheckpointReport) => {
      this.#running = false;
      this.checkpoints += 1;
      if (report.log >= 0) this.#lastLogFrames = report.log;
    });
    this.#worker.on("error", (error) => this.#fail(error));
    this.#worker.on("exit", (code) => {
      this.#exited = true;
      if (this.#closing === undefined) this.#fail(new Error(`the checkpoint worker exited with code ${code}`));
    });
  }

  /** Called after each write transaction of the store's connection. */
  committed(): void {
    this.#sinceRequest += 1;
    if (this.#running || this.#failed || this.#closing !== undefined || this.#sinceRequest < this.#everyTransactions) return;
    this.#sinceRequest = 0;
    this.#running = true;
    const mode = this.#lastLogFrames > this.#restartFrames ? "RESTART" : "PASSIVE";
    if (mode === "RESTART") this.restarts += 1;
    this.#worker.postMessage({ type: "checkpoint", mode });
  }

  /** Whether the worker stopped working (the connection checkpoints by itself again). */
  get failed(): boolean {
    return this.#failed;
  }

  #fail(error: unknown): void {
    if (this.#failed || this.#closing !== undefined) return;
    this.#failed = true;
    this.#onFailure(error);
  }

  /** Closes the worker's connection and waits for the worker to end. */
  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      if (this.#exited) {
        resolve();
        return;
      }
      this.#worker.once("exit", () => resolve());
      // Referenced again until it ends: a caller awaiting the close must not see the process exit
      // with the wait unsettled.
      this.#worker.ref();
      if (this.#failed) {
        void this.#worker.terminate();
        return;
      }
      this.#worker.postMessage({ type: "close" });
    });
    return this.#closing;
  }

  /** Ends the worker at once, as a crash would (for tests of the fallback). */
  async terminateForTest(): Promise<void> {
    await this.#worker.terminate();
  }
}
