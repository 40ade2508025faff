import type { TurnCluster } from "../cluster/turn-cluster.js";
import { RecencyMap } from "../recency-map.js";
import { DEFAULT_TURN_LOG_LIMITS, type TurnLogLimits } from "./turn-log.js";
import { TurnRecord } from "./turn-record.js";

/** How many turns the server remembers after they ended. */
export interface TurnRegistryLimits extends TurnLogLimits {
  /** Ended turns remembered (their result, at least), most recent first (default 1,000). */
  readonly finishedTurnsKept: number;
  /** Of those, how many keep their whole event log for reattaching readers (default 100); older ones keep their result only. */
  readonly finishedTurnsWithEvents: number;
}

export const DEFAULT_TURN_REGISTRY_LIMITS: TurnRegistryLimits = {
  ...DEFAULT_TURN_LOG_LIMITS,
  finishedTurnsKept: 1000,
  finishedTurnsWithEvents: 100,
};

/**
 * The turns of this server instance: the running ones (at most one per session) and, bounded, the
 * ones that ended, so a client that detached can come back for the rest of the events or the
 * result. In memory: a restarted instance knows only the turns it ran since. With a `cluster`, the
 * other instances on the store learn of the turns this one runs (and how they ended), and a cancel
 * asked through any of them reaches the turn here.
 */
export class TurnRegistry {
  readonly #limits: TurnRegistryLimits;
  readonly #running = new Map<string, TurnRecord>();
  /** Ended turns by id, least recently ended first. */
  readonly #finished = new RecencyMap<string, TurnRecord>();
  /** The most recently ended of those, which keep their whole event log, least recent first. */
  readonly #withEvents = new RecencyMap<TurnRecord, TurnRecord>();
  /** Requests waiting for a session's running turn to end (the `enqueue` and `interrupt` policies), per session. */
  readonly #queued = new Map<string, number>();
  /** The background tasks that run turns to their end (and release their runtimes). */
  readonly #tasks = new Set<Promise<void>>();

  #cluster: TurnCluster | undefined;

  constructor(limits: TurnRegistryLimits) {
    this.#limits = limits;
  }

  /** The instances on the same store, when there are several (`undefined`: this instance knows only its own turns). */
  get cluster(): TurnCluster | undefined {
    return this.#cluster;
  }

  /**
   * Joins the other instances on the store: the turns that start from now on are announced to
   * them, and the cancels they pass on reach this instance's running turns. Once, before serving.
   */
  joinCluster(cluster: TurnCluster): void {
    if (this.#cluster !== undefined) throw new Error("the turn registry already joined a cluster");
    this.#cluster = cluster;
    // The ids come from a parsed notification; only a turn this instance runs, with both ids matching, is touched.
    cluster.onCancelRequest(({ sessionId, turnId }) => {
      const running = this.#running.get(sessionId);
      if (running?.turnId === turnId && running.running) running.cancel("cancelled through another instance of the server");
    });
  }

  /** The turn of `sessionId` running now, if any. */
  runningTurnOf(sessionId: string): TurnRecord | undefined {
    return this.#running.get(sessionId);
  }

  /** Every running turn. */
  runningTurns(): TurnRecord[] {
    return [...this.#running.values()];
  }

  /** The turn `turnId` of `sessionId`, running or remembered. */
  find(sessionId: string, turnId: string): TurnRecord | undefined {
    const running = this.#running.get(sessionId);
    if (running?.turnId === turnId) return running;
    const finished = this.#finished.get(turnId);
    return finished?.sessionId === sessionId ? finished : undefined;
  }

  /**
   * Marks a turn of `sessionId` as running: a new record, or the remembered record of a turn that
   * goes on (a resumed suspended turn). The caller checked that no other turn of the session runs.
   */
  open(sessionId: string, turnId: string): TurnRecord {
    const remembered = this.#finished.get(turnId);
    const record = remembered?.sessionId === sessionId ? remembered : new TurnRecord(turnId, sessionId, this.#limits);
    this.#finished.delete(turnId);
    if (remembered !== undefined) this.#withEvents.delete(remembered);
    this.#running.set(sessionId, record);
    return record;
  }

  /** The turn never started (it was refused before its first event): nothing of it is remembered. */
  abandon(record: TurnRecord): void {
    if (this.#running.get(record.sessionId) === record) this.#running.delete(record.sessionId);
    // A resumed turn that was refused keeps what its earlier segments left.
    if (record.settlement !== undefined) this.#remember(record);
  }

  /** The turn's segment ended: it is remembered, within the limits. */
  finish(record: TurnRecord): void {
    if (this.#running.get(record.sessionId) === record) this.#running.delete(record.sessionId);
    this.#remember(record);
  }

  /** How many requests wait for a turn of `sessionId`. */
  queuedTurns(sessionId: string): number {
    return this.#queued.get(sessionId) ?? 0;
  }

  /** How many requests wait, over every session. */
  get queuedTotal(): number {
    let total = 0;
    for (const count of this.#queued.values()) total += count;
    return total;
  }

  enqueue(sessionId: string): void {
    this.#queued.set(sessionId, this.queuedTurns(sessionId) + 1);
  }

  dequeue(sessionId: string): void {
    const count = this.queuedTurns(sessionId) - 1;
    if (count <= 0) this.#queued.delete(sessionId);
    else this.#queued.set(sessionId, count);
  }

  /** Keeps track of a task that runs a turn, until it ends. */
  track(task: Promise<void>): void {
    this.#tasks.add(task);
    void task.finally(() => this.#tasks.delete(task));
  }

  /** Resolves when every tracked turn task has ended (its runtime released). */
  async idle(): Promise<void> {
    while (this.#tasks.size > 0) await Promise.allSettled([...this.#tasks]);
  }

  /** Forgets an ended turn (its later segment ran on another instance: this record is out of date). */
  forgetTurn(turnId: string): void {
    const record = this.#finished.get(turnId);
    if (record === undefined) return;
    this.#finished.delete(turnId);
    this.#withEvents.delete(record);
  }

  /** Forgets every turn of a deleted session. */
  forgetSession(sessionId: string): void {
    for (const [turnId, record] of this.#finished.entries()) if (record.sessionId === sessionId) this.forgetTurn(turnId);
  }

  #remember(record: TurnRecord): void {
    this.#finished.set(record.turnId, record);
    while (this.#finished.size > this.#limits.finishedTurnsKept) {
      const oldest = this.#finished.oldestKey();
      if (oldest === undefined) break;
      this.forgetTurn(oldest);
    }
    this.#withEvents.set(record, record);
    // The record that falls out of the most recent `finishedTurnsWithEvents` keeps its result only.
    while (this.#withEvents.size > this.#limits.finishedTurnsWithEvents) {
      const oldest = this.#withEvents.oldestKey();
      if (oldest === undefined) break;
      this.#withEvents.delete(oldest);
      oldest.log.compact();
    }
  }
}
