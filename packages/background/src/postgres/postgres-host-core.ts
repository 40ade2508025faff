import type { BackgroundTaskEvent } from "@lash/protocol";
import type pg from "pg";
import type { PgBoss } from "pg-boss";
import { appendEvents, type DurableEventLog } from "./postgres-event-log.js";
import type { ResolvedHostOptions } from "./postgres-host-options.js";
import { inTransaction } from "./postgres-queryable.js";
import type { DurableTableNames } from "./postgres-schema.js";

const MAX_TRANSACTION_ATTEMPTS = 4;

/** Deadlock (`40P01`) or serialization failure (`40001`): nothing was written, the transaction can run again. */
function isRetryableConflict(error: unknown): boolean {
  const code = typeof error === "object" && error !== null ? (error as { code?: unknown }).code : undefined;
  return code === "40P01" || code === "40001";
}

/** What one transaction of the host produced: the events to append and the caller's result. */
export interface TransactionOutcome<Result> {
  readonly events: readonly BackgroundTaskEvent[];
  readonly result: Result;
}

/** The parts of a host its record API, its workers and its sweeper share. */
export class DurableHostCore {
  readonly pool: pg.Pool;
  readonly names: DurableTableNames;
  readonly boss: PgBoss;
  readonly log: DurableEventLog;
  readonly options: ResolvedHostOptions;
  /** Names this host instance as a lease owner. */
  readonly instanceId: string;

  constructor(
    pool: pg.Pool,
    names: DurableTableNames,
    boss: PgBoss,
    log: DurableEventLog,
    options: ResolvedHostOptions,
    instanceId: string,
  ) {
    this.pool = pool;
    this.names = names;
    this.boss = boss;
    this.log = log;
    this.options = options;
    this.instanceId = instanceId;
  }

  /**
   * Runs `work` in one transaction, appends its events last (see `appendEvents`), commits, and waits
   * until this process published those events, so a caller's subscribers have them when it returns.
   */
  async transact<Result>(work: (client: pg.PoolClient) => Promise<TransactionOutcome<Result>>): Promise<Result> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        const { seq, result } = await inTransaction(this.pool, async (client) => {
          const outcome = await work(client);
          return { seq: await appendEvents(client, this.names, outcome.events), result: outcome.result };
        });
        if (seq !== undefined) await this.log.catchUp(seq);
        return result;
      } catch (error) {
        // A claim locks a job, then its task; every other change locks the task, then its job. When
        // both meet, PostgreSQL aborts one of them as a deadlock: that one runs again from the start.
        if (attempt >= MAX_TRANSACTION_ATTEMPTS || !isRetryableConflict(error)) throw error;
      }
    }
  }

  /** The pg-boss queue of a named task. */
  queueOf(taskName: string): string {
    return `${this.options.queuePrefix}${taskName}`;
  }

  reportError(error: unknown): void {
    try {
      this.options.onError(error);
    } catch {
      // A throwing error handler must not stop the host's background activity.
    }
  }
}
