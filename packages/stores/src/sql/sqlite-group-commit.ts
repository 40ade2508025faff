import type { SessionCommitDurability } from "@lash/protocol";
import type { Database } from "better-sqlite3";
import { isSqliteBusy } from "./sql-errors.js";
import { retryWhileSqliteBusy, type SqliteBusyWait } from "./sqlite-busy-wait.js";
import type { SqliteDurableLog } from "./sqlite-durable-log.js";

/** One synchronous write waiting for the next group. */
interface QueuedWrite {
  readonly work: (handle: Database) => unknown;
  readonly durability: SessionCommitDurability;
  readonly resolve: (value: { result: unknown } | undefined) => void;
  readonly reject: (error: unknown) => void;
}

type WriteOutcome = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: unknown };

function settle(write: QueuedWrite, outcome: WriteOutcome | undefined): void {
  if (outcome?.ok === true) write.resolve({ result: outcome.value });
  else write.reject(outcome?.error);
}

/** What a group commit needs from the store: the connection's lock, its handle, how to wait for a busy database. */
export interface SqliteGroupCommitOptions {
  /** Runs `body` holding the store's single connection, so no other operation of the database interleaves. */
  readonly withConnection: <Result>(body: () => Promise<Result>) => Promise<Result>;
  /** The better-sqlite3 handle of that connection, or `undefined` once there is none. */
  readonly handle: () => Database | undefined;
  readonly busyWait: SqliteBusyWait;
  /** The statements around a group of checkpoint writes only, on a connection without a durable log (ADR 0030). */
  readonly relaxedSynchronous: { readonly before: string; readonly after: string };
  /** The connection's durable log, when it has one (ADR 0038): `turn` writes are answered after its flush. */
  readonly durableLog?: () => SqliteDurableLog | undefined;
}

/**
 * Group commit for the synchronous SQLite path: the writes that are waiting when the connection
 * comes free run in ONE `BEGIN IMMEDIATE` transaction, each in a savepoint of its own, so the group
 * costs one flush of the write-ahead log instead of one per write. A write that fails rolls back
 * its savepoint only and rejects on its own; the others commit. Results are handed out only after
 * the group's COMMIT returned, and a `turn` write's only after the log was flushed, so no caller
 * hears "stored" before the disk has it; when the COMMIT (or the flush) fails, every write of the
 * group that waited for it fails with its error.
 *
 * With a durable log (ADR 0038) the flush runs off the event loop, and the next group is written
 * while it runs. Without one (`:memory:`) a group runs at `synchronous = NORMAL` only when every
 * write in it is a checkpoint; one turn write makes the whole group wait for the disk.
 *
 * Writes of one session keep their order (the queue is first in, first out) and each still checks
 * the head revision it expects, so two commits racing for one session in one group end as they
 * would in two transactions: the first applies, the second is refused.
 */
export class SqliteGroupCommit {
  readonly #options: SqliteGroupCommitOptions;
  readonly #queue: QueuedWrite[] = [];
  #draining = false;
  #flushing: Promise<void> | undefined;
  /** Groups run and writes run (for tests and diagnostics). */
  groups = 0;
  writes = 0;

  constructor(options: SqliteGroupCommitOptions) {
    this.#options = options;
  }

  /** Queues `work` for the next group; `undefined` when the connection has no handle (the caller takes its other path). */
  enqueue<Result>(work: (handle: Database) => Result, durability: SessionCommitDurability): Promise<{ result: Result } | undefined> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ work, durability, resolve: resolve as QueuedWrite["resolve"], reject });
      if (!this.#draining) {
        this.#draining = true;
        void this.#drain();
      }
    });
  }

  async #drain(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        // One turn of the event loop first, so that every write that becomes ready meanwhile (other
        // sessions' turns reaching their commit) joins this group rather than waiting for the next.
        await new Promise<void>((resolve) => setImmediate(resolve));
        // While the disk takes the last group, the next one grows: one flush per group, as with
        // SQLite's own sync at commit, but the event loop runs turns meanwhile (ADR 0038).
        await this.#flushing;
        await this.#runGroup(this.#queue.splice(0));
      }
    } finally {
      this.#draining = false;
    }
  }

  async #runGroup(group: readonly QueuedWrite[]): Promise<void> {
    let outcomes: WriteOutcome[] | undefined;
    try {
      outcomes = await retryWhileSqliteBusy(this.#options.busyWait, () =>
        this.#options.withConnection(async () => {
          const handle = this.#options.handle();
          return handle === undefined ? undefined : this.#runInOneTransaction(handle, group);
        }),
      );
    } catch (error) {
      for (const write of group) write.reject(error);
      return;
    }
    if (outcomes === undefined) {
      for (const write of group) write.resolve(undefined);
      return;
    }
    this.groups += 1;
    this.writes += group.length;
    const durableLog = this.#options.durableLog?.();
    durableLog?.committed();
    // With a durable log, a stored `turn` write waits for the flush; everything else is answered now.
    const waiting: { write: QueuedWrite; value: unknown }[] = [];
    group.forEach((write, index) => {
      const outcome = outcomes[index];
      if (durableLog !== undefined && write.durability === "turn" && outcome?.ok === true) waiting.push({ write, value: outcome.value });
      else settle(write, outcome);
    });
    if (durableLog === undefined || waiting.length === 0) return;
    // Not awaited here: the writes are answered when the flush ends, and `#drain` waits for it
    // before the next group.
    const flushing = durableLog.flush.flush();
    this.#flushing = flushing.catch(() => undefined);
    flushing.then(
      () => {
        for (const { write, value } of waiting) write.resolve({ result: value });
      },
      (error: unknown) => {
        for (const { write } of waiting) write.reject(error);
      },
    );
  }

  /** Runs the group's writes in one transaction (repeated whole when the database was busy). */
  #runInOneTransaction(handle: Database, group: readonly QueuedWrite[]): WriteOutcome[] {
    const outcomes: WriteOutcome[] = [];
    const transaction = handle.transaction(() => {
      // A lone write needs no savepoint: its failure rolls back the transaction and rejects it.
      if (group.length === 1 && group[0] !== undefined) {
        outcomes.push({ ok: true, value: group[0].work(handle) });
        return;
      }
      for (const write of group) {
        try {
          // A transaction function called inside a transaction runs in a savepoint.
          outcomes.push({ ok: true, value: handle.transaction(() => write.work(handle))() });
        } catch (error) {
          // Busy is about the whole transaction (it is repeated), not about this write.
          if (isSqliteBusy(error)) throw error;
          outcomes.push({ ok: false, error });
        }
      }
    });
    const relaxed = this.#options.durableLog?.() === undefined && group.every((write) => write.durability === "checkpoint");
    if (!relaxed) {
      transaction.immediate();
      return outcomes;
    }
    handle.exec(this.#options.relaxedSynchronous.before);
    try {
      transaction.immediate();
    } finally {
      handle.exec(this.#options.relaxedSynchronous.after);
    }
    return outcomes;
  }
}
