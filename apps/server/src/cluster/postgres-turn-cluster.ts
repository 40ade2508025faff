import { randomBytes, randomUUID } from "node:crypto";
import { StoreUnavailableError } from "@lash/protocol";
import pg from "pg";
import { type ClusterMessage, clusterChannelName, formatClusterMessage, parseClusterMessage } from "./cluster-messages.js";
import type { ClusterTurn, ClusterTurnKey, RunningClusterTurn, TurnCluster, TurnEnding } from "./turn-cluster.js";

/** Options of `createPostgresTurnCluster`. */
export interface PostgresTurnClusterOptions {
  /** The PostgreSQL database of the session store (a `postgres://` URL without `?schema=`). */
  readonly connectionString: string;
  /** The server's schema (the store URL's `?schema=`); absent: the connection's default schema. */
  readonly schema?: string | undefined;
  /** How often a canceller re-reads the turn it waits for, and asks again, in milliseconds (default 1000). */
  readonly pollIntervalMs?: number;
  /** Failures of background activity (a lost listener, a row not written). Default: one line on stderr. */
  readonly onError?: (error: unknown) => void;
}

const TABLE = "lash_server_turns";
/** Connections for the short statements (rows, notifications); the listener has its own. */
const POOL_SIZE = 4;
const DEFAULT_POLL_INTERVAL_MS = 1_000;
/** The longest a statement (or getting a connection for it) may take before it counts as failed. */
const STATEMENT_TIMEOUT_MS = 10_000;
/** How long to wait before connecting the listener again after it was lost. */
const RECONNECT_MS = 1_000;
/** How often old rows are deleted: ended turns are kept a day, for clients that come back late. */
const PRUNE_INTERVAL_MS = 60 * 60 * 1000;

function reportToStandardError(error: unknown): void {
  const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  console.error(`lash-server: cluster: ${detail}`);
}

/**
 * A random lock key in 1 .. 2^62 - 1: positive, so PostgreSQL's split into two 32-bit halves
 * (`classid`, `objid` of `pg_locks`) reads back as the same number.
 */
function randomLockKey(): string {
  const key = randomBytes(8).readBigUInt64BE() & ((1n << 62n) - 1n);
  return (key === 0n ? 1n : key).toString();
}

/**
 * Whether the instance holding the row's lock key still runs: each instance holds a session-level
 * advisory lock on its listening connection, which PostgreSQL releases when that connection ends
 * (the process stopped, crashed or lost the database). `pg_locks` shows every role's locks.
 */
const INSTANCE_ALIVE = `exists (
  select 1 from pg_locks l
  where l.locktype = 'advisory' and l.granted and l.objsubid = 1
    and l.database = (select oid from pg_database where datname = current_database())
    and ((l.classid::bigint << 32) | l.objid::bigint) = t.instance_lock
)`;

interface TurnRow {
  readonly state: unknown;
  readonly instance_id: unknown;
  readonly instance_url: unknown;
  readonly terminal_event: unknown;
  readonly terminal_event_id: unknown;
  readonly terminal_data: unknown;
  readonly alive: unknown;
}

/**
 * A row as the instances wrote it, checked before use: a row that does not read as one of ours
 * (edited by hand, a later format) is treated as unknown rather than served.
 */
function clusterTurnOf(row: TurnRow): ClusterTurn | undefined {
  if (typeof row.instance_id !== "string") return undefined;
  if (row.state === "running") {
    if (row.alive !== true) return { state: "abandoned", instanceId: row.instance_id };
    return { state: "running", instanceId: row.instance_id, ...(typeof row.instance_url === "string" ? { url: row.instance_url } : {}) };
  }
  if (row.state !== "ended") return undefined;
  const eventId = Number(row.terminal_event_id);
  const event = row.terminal_event;
  const data = row.terminal_data;
  // The data goes into an event stream as one `data:` line: a line break would end the event early.
  if ((event !== "result" && event !== "error") || !Number.isSafeInteger(eventId) || eventId < 1) return undefined;
  if (typeof data !== "string" || /[\r\n]/.test(data)) return undefined;
  return { state: "ended", ending: { event, eventId, data } };
}

/** Resolves at the first of: `wake()`, `ms` passing, `signal` aborting; `dispose()` stops the timer. */
function wakeable(ms: number, signal: AbortSignal | undefined): { readonly woken: Promise<void>; wake(): void; dispose(): void } {
  let wake: () => void = () => undefined;
  const woken = new Promise<void>((resolve) => {
    wake = resolve;
  });
  const timer = setTimeout(wake, ms);
  timer.unref();
  signal?.addEventListener("abort", wake, { once: true });
  return {
    woken,
    wake,
    dispose: () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", wake);
    },
  };
}

class PostgresTurnCluster implements TurnCluster {
  readonly instanceId = randomUUID();
  readonly #connectionString: string;
  readonly #schema: string | undefined;
  readonly #table: string;
  readonly #channel: string;
  readonly #pollIntervalMs: number;
  readonly #onError: (error: unknown) => void;
  readonly #pool: pg.Pool;
  readonly #cancelListeners = new Set<(turn: ClusterTurnKey) => void>();
  /** Cancellers waiting for a turn to end, by turn id. */
  readonly #endWaiters = new Map<string, Set<() => void>>();
  #lockKey = randomLockKey();
  #listener: pg.Client | undefined;
  #url: string | undefined;
  #reconnect: NodeJS.Timeout | undefined;
  #prune: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: PostgresTurnClusterOptions) {
    this.#connectionString = options.connectionString;
    this.#schema = options.schema;
    this.#table = options.schema === undefined ? TABLE : `${pg.escapeIdentifier(options.schema)}.${TABLE}`;
    this.#channel = clusterChannelName(options.schema);
    this.#pollIntervalMs = options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
    this.#onError = options.onError ?? reportToStandardError;
    // Bounded: a turn waits for its rows to be written, and a database that stopped answering must not hold it up for long.
    this.#pool = new pg.Pool({
      connectionString: options.connectionString,
      max: POOL_SIZE,
      connectionTimeoutMillis: STATEMENT_TIMEOUT_MS,
      query_timeout: STATEMENT_TIMEOUT_MS,
    });
    // An idle client that loses its server emits `error` on the pool; unhandled, it would end the process.
    this.#pool.on("error", (error) => this.#onError(error));
  }

  async open(): Promise<void> {
    await this.#createTable();
    await this.#listen(true);
    this.#prune = setInterval(() => {
      this.#pruneRows().catch((error: unknown) => this.#onError(error));
    }, PRUNE_INTERVAL_MS);
    this.#prune.unref();
    await this.#pruneRows();
  }

  announce(url: string): void {
    this.#url = url;
  }

  onCancelRequest(listener: (turn: ClusterTurnKey) => void): () => void {
    this.#cancelListeners.add(listener);
    return () => this.#cancelListeners.delete(listener);
  }

  async turnStarted(turn: ClusterTurnKey): Promise<void> {
    try {
      await this.#pool.query(
        `insert into ${this.#table} as t (turn_id, session_id, instance_id, instance_lock, instance_url, state, started_at)
         values ($1, $2, $3, $4, $5, 'running', now())
         on conflict (turn_id) do update set
           instance_id = excluded.instance_id, instance_lock = excluded.instance_lock, instance_url = excluded.instance_url,
           state = 'running', terminal_event = null, terminal_event_id = null, terminal_data = null,
           started_at = excluded.started_at, ended_at = null
         where t.session_id = excluded.session_id`,
        [turn.turnId, turn.sessionId, this.instanceId, this.#lockKey, this.#url ?? null],
      );
    } catch (error) {
      this.#onError(error);
    }
  }

  async turnEnded(turn: ClusterTurnKey, ending: TurnEnding): Promise<void> {
    try {
      // One statement: the notification goes out only when the row is written, and with it.
      await this.#pool.query(
        `with written as (
           insert into ${this.#table} as t
             (turn_id, session_id, instance_id, instance_lock, instance_url, state, terminal_event, terminal_event_id, terminal_data, ended_at)
           values ($1, $2, $3, $4, $5, 'ended', $6, $7, $8, now())
           on conflict (turn_id) do update set
             instance_id = excluded.instance_id, instance_lock = excluded.instance_lock, state = 'ended',
             terminal_event = excluded.terminal_event, terminal_event_id = excluded.terminal_event_id,
             terminal_data = excluded.terminal_data, ended_at = excluded.ended_at
           where t.session_id = excluded.session_id
           returning 1
         )
         select pg_notify($9, $10) from written`,
        [
          turn.turnId,
          turn.sessionId,
          this.instanceId,
          this.#lockKey,
          this.#url ?? null,
          ending.event,
          ending.eventId,
          ending.data,
          this.#channel,
          formatClusterMessage({ v: 1, type: "ended", sessionId: turn.sessionId, turnId: turn.turnId }),
        ],
      );
    } catch (error) {
      this.#onError(error);
    }
  }

  async findTurn(turn: ClusterTurnKey): Promise<ClusterTurn | undefined> {
    const result = await this.#query<TurnRow>(
      "reading a turn",
      `select t.state, t.instance_id, t.instance_url, t.terminal_event, t.terminal_event_id, t.terminal_data, ${INSTANCE_ALIVE} as alive
       from ${this.#table} t where t.turn_id = $1 and t.session_id = $2`,
      [turn.turnId, turn.sessionId],
    );
    const row = result.rows[0];
    return row === undefined ? undefined : clusterTurnOf(row);
  }

  async runningTurnOf(sessionId: string): Promise<RunningClusterTurn | undefined> {
    const result = await this.#query<{ turn_id: unknown; instance_id: unknown; instance_url: unknown }>(
      "reading a session's running turn",
      `select t.turn_id, t.instance_id, t.instance_url from ${this.#table} t
       where t.session_id = $1 and t.state = 'running' and t.instance_id <> $2 and ${INSTANCE_ALIVE}
       order by t.started_at desc limit 1`,
      [sessionId, this.instanceId],
    );
    const row = result.rows[0];
    if (row === undefined || typeof row.turn_id !== "string" || typeof row.instance_id !== "string") return undefined;
    return { turnId: row.turn_id, instanceId: row.instance_id, ...(typeof row.instance_url === "string" ? { url: row.instance_url } : {}) };
  }

  waitForTurn(turn: ClusterTurnKey, signal?: AbortSignal): Promise<ClusterTurn | undefined> {
    return this.#whileRunning(turn, signal, false);
  }

  cancelTurn(turn: ClusterTurnKey, signal?: AbortSignal): Promise<ClusterTurn | undefined> {
    return this.#whileRunning(turn, signal, true);
  }

  /** Waits until `turn` no longer runs, asking its instance to cancel it at every poll when `cancel`. */
  async #whileRunning(turn: ClusterTurnKey, signal: AbortSignal | undefined, cancel: boolean): Promise<ClusterTurn | undefined> {
    for (;;) {
      const known = await this.findTurn(turn);
      if (known?.state !== "running" || signal?.aborted === true || this.#closed) return known;
      // Waiting first, then asking: an `ended` that follows the request at once is not missed. The
      // request is sent again at every poll, since a notification sent while the owner's listener
      // was reconnecting is lost (a second cancel of the same turn changes nothing).
      const waiter = wakeable(this.#pollIntervalMs, signal);
      const waiters = this.#endWaiters.get(turn.turnId) ?? new Set<() => void>();
      waiters.add(waiter.wake);
      this.#endWaiters.set(turn.turnId, waiters);
      try {
        if (cancel) await this.#notify({ v: 1, type: "cancel", sessionId: turn.sessionId, turnId: turn.turnId });
        await waiter.woken;
      } finally {
        waiter.dispose();
        waiters.delete(waiter.wake);
        if (waiters.size === 0 && this.#endWaiters.get(turn.turnId) === waiters) this.#endWaiters.delete(turn.turnId);
      }
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#reconnect);
    clearInterval(this.#prune);
    for (const waiters of this.#endWaiters.values()) for (const wake of waiters) wake();
    this.#endWaiters.clear();
    const listener = this.#listener;
    this.#listener = undefined;
    // Ending the listening connection releases this instance's lock: its running rows read as abandoned from now on.
    await listener?.end().catch(() => undefined);
    await this.#pool.end().catch(() => undefined);
  }

  async #query<Row extends pg.QueryResultRow>(action: string, text: string, values: unknown[]): Promise<pg.QueryResult<Row>> {
    try {
      return await this.#pool.query<Row>(text, values);
    } catch (error) {
      throw new StoreUnavailableError(
        `${action} in the server's turn table failed: ${error instanceof Error ? error.message : String(error)}`,
        {
          cause: error,
        },
      );
    }
  }

  async #notify(message: ClusterMessage): Promise<void> {
    await this.#query("notifying the other instances", "select pg_notify($1, $2)", [this.#channel, formatClusterMessage(message)]);
  }

  async #createTable(): Promise<void> {
    const client = await this.#pool.connect();
    try {
      await client.query("begin");
      // Concurrent `create table if not exists` can still collide in PostgreSQL's catalog: one instance at a time.
      await client.query("select pg_advisory_xact_lock(hashtext('lash_server_turns_table'))");
      if (this.#schema !== undefined) await client.query(`create schema if not exists ${pg.escapeIdentifier(this.#schema)}`);
      await client.query(
        `create table if not exists ${this.#table} (
           turn_id text primary key,
           session_id text not null,
           instance_id text not null,
           instance_lock bigint not null,
           instance_url text,
           state text not null,
           terminal_event text,
           terminal_event_id bigint,
           terminal_data text,
           started_at timestamptz not null default now(),
           ended_at timestamptz
         )`,
      );
      await client.query(`create index if not exists lash_server_turns_by_end on ${this.#table} (ended_at)`);
      await client.query(`create index if not exists lash_server_turns_by_session on ${this.#table} (session_id, state)`);
      await client.query("commit");
    } catch (error) {
      await client.query("rollback").catch(() => undefined);
      throw new StoreUnavailableError(
        `creating the server's turn table failed: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    } finally {
      client.release();
    }
  }

  /** Deletes turns ended more than a day ago, and those a stopped instance left running as long. */
  async #pruneRows(): Promise<void> {
    await this.#pool.query(
      `delete from ${this.#table} t
       where t.ended_at < now() - interval '1 day'
          or (t.state = 'running' and t.started_at < now() - interval '1 day' and not ${INSTANCE_ALIVE})`,
    );
  }

  /**
   * Connects the listening connection: it holds this instance's lock (what tells the others that
   * this instance lives) and LISTENs on the schema's channel. `first`: at open, where a key another
   * instance holds (never seen: 62 random bits) is replaced; later the rows already name the key.
   */
  async #listen(first: boolean): Promise<void> {
    const client = new pg.Client({ connectionString: this.#connectionString, connectionTimeoutMillis: 10_000 });
    const lost = (error?: unknown): void => {
      if (this.#listener !== client) return;
      this.#listener = undefined;
      if (error !== undefined) this.#onError(error);
      client.end().catch(() => undefined);
      this.#scheduleReconnect();
    };
    client.on("error", lost);
    client.on("end", () => lost());
    client.on("notification", (notification) => {
      if (notification.channel === this.#channel) this.#receive(notification.payload);
    });
    try {
      await client.connect();
      for (let attempt = 0; ; attempt += 1) {
        const locked = await client.query<{ locked: boolean }>("select pg_try_advisory_lock($1::bigint) as locked", [this.#lockKey]);
        if (locked.rows[0]?.locked === true) break;
        if (!first || attempt >= 3) throw new Error("this instance's lock key is held by another connection");
        this.#lockKey = randomLockKey();
      }
      await client.query(`listen ${pg.escapeIdentifier(this.#channel)}`);
    } catch (error) {
      client.removeAllListeners("end");
      await client.end().catch(() => undefined);
      throw error;
    }
    if (this.#closed) {
      await client.end().catch(() => undefined);
      return;
    }
    this.#listener = client;
  }

  #scheduleReconnect(): void {
    if (this.#closed || this.#reconnect !== undefined) return;
    this.#reconnect = setTimeout(() => {
      this.#reconnect = undefined;
      this.#listen(false).catch((error: unknown) => {
        this.#onError(error);
        this.#scheduleReconnect();
      });
    }, RECONNECT_MS);
    this.#reconnect.unref();
  }

  #receive(payload: string | undefined): void {
    const message = parseClusterMessage(payload);
    if (message === undefined) return;
    const turn = { sessionId: message.sessionId, turnId: message.turnId };
    if (message.type === "ended") {
      for (const wake of this.#endWaiters.get(message.turnId) ?? []) wake();
      return;
    }
    for (const listener of this.#cancelListeners) {
      try {
        listener(turn);
      } catch (error) {
        this.#onError(error);
      }
    }
  }
}

/**
 * Opens the coordination of the server instances on one PostgreSQL schema: the table
 * `lash_server_turns` (created when missing) records the turns each instance runs and how they
 * ended; LISTEN/NOTIFY on a channel of the schema carries cancels to the instance running a turn.
 * Each instance holds an advisory lock on its listening connection while it lives, so a turn whose
 * instance stopped reads as abandoned rather than running. A database that cannot be reached or
 * set up rejects with `StoreUnavailableError`.
 */
export async function createPostgresTurnCluster(options: PostgresTurnClusterOptions): Promise<TurnCluster> {
  const cluster = new PostgresTurnCluster(options);
  try {
    await cluster.open();
  } catch (error) {
    await cluster.close();
    throw StoreUnavailableError.isInstance(error)
      ? error
      : new StoreUnavailableError(
          `the server instances' channel could not be opened: ${error instanceof Error ? error.message : String(error)}`,
          {
            cause: error,
          },
        );
  }
  return cluster;
}
