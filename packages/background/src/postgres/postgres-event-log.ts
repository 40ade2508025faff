import { type BackgroundTaskEvent, backgroundTaskEventSchema } from "@lash/protocol";
import pg from "pg";
import { type Observable, Subject } from "rxjs";
import type { PostgresQueryable } from "./postgres-queryable.js";
import type { DurableTableNames } from "./postgres-schema.js";

/** One event as the log stores it: its position and the event. */
export interface LoggedEvent {
  readonly seq: number;
  readonly event: BackgroundTaskEvent;
}

/**
 * Appends events inside the caller's transaction and announces the last sequence number with
 * `pg_notify` (delivered when that transaction commits).
 *
 * Appends take a transaction-scoped advisory lock first, so a sequence number is drawn only by the
 * one transaction that holds the lock until it commits: events become visible in `seq` order, and a
 * reader that has seen `seq = n` can never later find a smaller one committed (no gaps to wait for).
 * Call it last in a transaction (after any row locks), so the lock is held only for the commit.
 */
export async function appendEvents(
  client: PostgresQueryable,
  names: DurableTableNames,
  events: readonly BackgroundTaskEvent[],
): Promise<number | undefined> {
  if (events.length === 0) return undefined;
  await client.query(`select pg_advisory_xact_lock(${names.eventLockKey})`);
  const inserted = await client.query<{ seq: string }>(
    `insert into ${names.events} (task_id, event)
     select item->>'taskId', item from jsonb_array_elements($1::jsonb) with ordinality as list(item, position)
     order by position
     returning seq`,
    [JSON.stringify(events)],
  );
  const last = Math.max(...inserted.rows.map((row) => Number(row.seq)));
  await client.query("select pg_notify($1, $2)", [names.channel, String(last)]);
  return last;
}

/** How the log reader finds new events. */
export interface DurableEventLogOptions {
  /** How often the log is read without a notification (a missed one is then late, never lost). */
  readonly pollIntervalMs: number;
  /** Reports a failed read or a lost listener connection (the reader keeps going). */
  readonly onError: (error: unknown) => void;
}

const READ_BATCH = 500;

/**
 * Reads the event log in order and publishes each event once, to every subscriber of this process.
 * New events are found through LISTEN/NOTIFY on a dedicated connection, and by polling every
 * `pollIntervalMs`; a listener connection that drops is reopened while polling carries on.
 */
export class DurableEventLog {
  readonly #pool: pg.Pool;
  readonly #names: DurableTableNames;
  readonly #options: DurableEventLogOptions;
  readonly #events = new Subject<LoggedEvent>();
  #cursor = 0;
  #listener: pg.PoolClient | undefined;
  #poller: ReturnType<typeof setInterval> | undefined;
  #reconnect: ReturnType<typeof setTimeout> | undefined;
  #reading: Promise<void> | undefined;
  #readAgain = false;
  #closed = false;

  constructor(pool: pg.Pool, names: DurableTableNames, options: DurableEventLogOptions) {
    this.#pool = pool;
    this.#names = names;
    this.#options = options;
  }

  /** Every event read from now on, in `seq` order. */
  get events(): Observable<LoggedEvent> {
    return this.#events.asObservable();
  }

  /** The last sequence number published. */
  get cursor(): number {
    return this.#cursor;
  }

  /** Starts after the last event already in the log (history is read through records, not replayed). */
  async start(): Promise<void> {
    const { rows } = await this.#pool.query<{ last: string | null }>(`select max(seq) as last from ${this.#names.events}`);
    this.#cursor = Number(rows[0]?.last ?? 0);
    await this.#listen();
    this.#poller = setInterval(() => void this.read(), this.#options.pollIntervalMs);
    this.#poller.unref();
  }

  /**
   * Reads and publishes everything committed so far. Concurrent calls share one read; a call made
   * while a read runs triggers one more read after it, so nothing committed before the call is missed.
   */
  read(): Promise<void> {
    if (this.#reading !== undefined) {
      this.#readAgain = true;
      return this.#reading;
    }
    this.#reading = (async () => {
      try {
        do {
          this.#readAgain = false;
          await this.#readAll();
        } while (this.#readAgain && !this.#closed);
      } catch (error) {
        if (!this.#closed) this.#options.onError(error);
      } finally {
        this.#reading = undefined;
      }
    })();
    return this.#reading;
  }

  /** Resolves once every event up to `seq` has been published here (after a local write). */
  async catchUp(seq: number): Promise<void> {
    // A read failure is reported through `onError`; the event is then delivered by a later poll.
    for (let tries = 0; tries < 3 && this.#cursor < seq && !this.#closed; tries += 1) await this.read();
  }

  /** Stops reading and listening; subscribers are completed. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#poller !== undefined) clearInterval(this.#poller);
    if (this.#reconnect !== undefined) clearTimeout(this.#reconnect);
    await this.#reading;
    const listener = this.#listener;
    this.#listener = undefined;
    if (listener !== undefined) {
      await listener.query(`unlisten ${pg.escapeIdentifier(this.#names.channel)}`).catch(() => undefined);
      listener.release();
    }
    this.#events.complete();
  }

  async #readAll(): Promise<void> {
    for (;;) {
      const { rows } = await this.#pool.query<{ seq: string; event: unknown }>(
        `select seq, event from ${this.#names.events} where seq > $1 order by seq limit ${READ_BATCH}`,
        [this.#cursor],
      );
      for (const row of rows) {
        const seq = Number(row.seq);
        const parsed = backgroundTaskEventSchema.safeParse(row.event);
        this.#cursor = seq;
        if (!parsed.success) {
          this.#options.onError(new Error(`background task event ${seq} is not a valid event: ${parsed.error.message}`));
          continue;
        }
        this.#events.next({ seq, event: parsed.data });
      }
      if (rows.length < READ_BATCH || this.#closed) return;
    }
  }

  async #listen(): Promise<void> {
    try {
      const listener = await this.#pool.connect();
      listener.on("notification", () => void this.read());
      listener.on("error", (error) => this.#listenerLost(listener, error));
      await listener.query(`listen ${pg.escapeIdentifier(this.#names.channel)}`);
      if (this.#closed) {
        listener.release();
        return;
      }
      this.#listener = listener;
      // Whatever was committed while no listener was connected is picked up now.
      void this.read();
    } catch (error) {
      this.#listenerLost(undefined, error);
    }
  }

  #listenerLost(listener: pg.PoolClient | undefined, error: unknown): void {
    if (listener !== undefined && this.#listener === listener) {
      this.#listener = undefined;
      listener.release(error instanceof Error ? error : true);
    }
    if (this.#closed) return;
    this.#options.onError(error);
    this.#reconnect ??= setTimeout(() => {
      this.#reconnect = undefined;
      void this.#listen();
    }, this.#options.pollIntervalMs);
    this.#reconnect.unref();
  }
}
