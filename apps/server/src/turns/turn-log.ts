import type { TurnStreamEventName } from "@lash/remote-protocol";
import { HttpError } from "../http/http-error.js";

/** One event of a turn's stream, its data already serialized (once, however many readers it has). */
export interface LoggedEvent {
  readonly id: number;
  readonly event: TurnStreamEventName;
  /** JSON text of the event's data, on one line. */
  readonly data: string;
}

/** One server-sent event; the data is JSON on one line (JSON.stringify escapes line breaks). */
export function eventFrame(entry: LoggedEvent): string {
  return `id: ${entry.id}\nevent: ${entry.event}\ndata: ${entry.data}\n\n`;
}

/** The `error` event that ends a stream whose reader asked for events no longer kept (a running turn's). */
export function expiredEventsFrame(afterId: number, oldestKeptId: number): string {
  const expired = new HttpError("events_expired", `the events after ${afterId} are no longer kept`, { details: { oldestKeptId } });
  return `event: error\ndata: ${JSON.stringify(expired.body())}\n\n`;
}

/** How much of a turn's stream is kept in memory for readers that reattach. */
export interface TurnLogLimits {
  /** Events kept per turn (default 10,000). */
  readonly maxEvents: number;
  /** Bytes of event data kept per turn (default 8 MiB). */
  readonly maxBytes: number;
}

export const DEFAULT_TURN_LOG_LIMITS: TurnLogLimits = { maxEvents: 10_000, maxBytes: 8 * 1024 * 1024 };

/** Where a reader stands after asking for the events following an id. */
export type ReadPosition =
  | { readonly type: "events"; readonly events: readonly LoggedEvent[] }
  /** The events after that id were dropped to stay within the limits. */
  | { readonly type: "expired"; readonly oldestKeptId: number };

/**
 * The events of one turn, in order, with ids 1, 2, 3, ... (a resumed segment of the same turn goes
 * on counting), bounded: past `maxEvents` or `maxBytes` the oldest events are dropped, except the
 * last terminal event (`result` or `error`), which stays as long as the log does. Readers wait for
 * new events with `waitForMore`.
 */
export class TurnLog {
  readonly #limits: TurnLogLimits;
  readonly #events: LoggedEvent[] = [];
  #bytes = 0;
  #nextId = 1;
  /** Resolves the readers waiting for the next event (or for the log to stop growing). */
  #waiters: Array<() => void> = [];
  /** Called at every append and `wake`, for as long as they are subscribed. */
  readonly #listeners = new Set<() => void>();
  /** Readers that hold the log (`hold`, `subscribe`): it is not compacted under them. */
  #holders = 0;
  /** A compaction asked for while readers held the log: done when the last one lets go. */
  #compactWhenReleased = false;

  constructor(limits: TurnLogLimits) {
    this.#limits = limits;
  }

  /** The id of the last event appended (0 before the first). */
  get lastId(): number {
    return this.#nextId - 1;
  }

  /** The last event appended, if any is kept. */
  get lastEvent(): LoggedEvent | undefined {
    return this.#events.at(-1);
  }

  /**
   * Numbers the next event after `lastId` rather than from 1: a turn whose earlier segment ran on
   * another server instance goes on counting where that segment stopped, so a client's
   * `Last-Event-ID` keeps its meaning. Only for a log that holds nothing yet.
   */
  continueAfter(lastId: number): void {
    if (this.#events.length > 0 || this.#nextId !== 1) throw new Error("continueAfter: the log already holds events");
    this.#nextId = lastId + 1;
  }

  /** Appends an event and wakes the waiting readers; returns its id. */
  append(event: TurnStreamEventName, data: unknown): number {
    const entry: LoggedEvent = { id: this.#nextId, event, data: JSON.stringify(data) };
    this.#nextId += 1;
    this.#events.push(entry);
    this.#bytes += entry.data.length;
    this.#trim();
    this.#wake();
    return entry.id;
  }

  /** Wakes readers without an event (the turn ended, the server stops). */
  wake(): void {
    this.#wake();
  }

  /**
   * The kept events after `afterId`. When events after it were dropped, a finished turn's reader
   * gets its terminal event alone (the committed result is what matters once it ended), and a
   * running turn's reader learns that they expired.
   */
  read(afterId: number, running: boolean): ReadPosition {
    const first = this.#events[0];
    if (first !== undefined && afterId + 1 < first.id) {
      if (running) return { type: "expired", oldestKeptId: first.id };
      const terminal = this.#lastTerminal();
      return { type: "events", events: terminal === undefined || terminal.id <= afterId ? [] : [terminal] };
    }
    return { type: "events", events: this.#events.filter((entry) => entry.id > afterId) };
  }

  /** Resolves at the next append or `wake`. */
  waitForMore(): Promise<void> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /**
   * Calls `listener` at every append and `wake` until the returned function is called: for a
   * writer that follows the log for a whole stream, without a promise per event.
   */
  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    const release = this.hold();
    return () => {
      if (this.#listeners.delete(listener)) release();
    };
  }

  /**
   * Keeps the log's events while a reader goes through them: a compaction asked for meanwhile (the
   * turn ended and fell out of the registry's window) waits until every holder let go, so a reader
   * that lags behind a finished turn (a slow client, a busy server) still gets every event. Returns
   * the function that lets go (once).
   */
  hold(): () => void {
    this.#holders += 1;
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      this.#holders -= 1;
      if (this.#holders === 0 && this.#compactWhenReleased) this.compact();
    };
  }

  /**
   * Drops every event but the last terminal one (a finished turn that readers rarely come back to);
   * while a reader holds the log, once it lets go.
   */
  compact(): void {
    if (this.#holders > 0) {
      this.#compactWhenReleased = true;
      return;
    }
    this.#compactWhenReleased = false;
    const terminal = this.#lastTerminal();
    this.#events.length = 0;
    this.#bytes = 0;
    if (terminal !== undefined) {
      this.#events.push(terminal);
      this.#bytes = terminal.data.length;
    }
  }

  #lastTerminal(): LoggedEvent | undefined {
    for (let index = this.#events.length - 1; index >= 0; index -= 1) {
      const entry = this.#events[index];
      if (entry !== undefined && (entry.event === "result" || entry.event === "error")) return entry;
    }
    return undefined;
  }

  #trim(): void {
    while (this.#events.length > 1 && (this.#events.length > this.#limits.maxEvents || this.#bytes > this.#limits.maxBytes)) {
      const dropped = this.#events.shift();
      if (dropped !== undefined) this.#bytes -= dropped.data.length;
    }
  }

  #wake(): void {
    if (this.#waiters.length > 0) {
      const waiters = this.#waiters;
      this.#waiters = [];
      for (const resolve of waiters) resolve();
    }
    for (const listener of this.#listeners) listener();
  }
}
