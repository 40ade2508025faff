import type { TraceLevel, TraceRecord } from "../trace-schemas.js";

/**
 * Receives the trace records of every turn a runtime runs (see `traceRecordSchema`). Configure one
 * with the builders' `withTraceSink(sink, level)`.
 *
 * Contract:
 * - `record` is called synchronously on the turn's path, in the order things happened for one
 *   turn; concurrent turns (other sessions, child sessions) interleave their records. It must be
 *   cheap: queue the record and write it later. A returned promise is never awaited by the turn.
 * - A sink that throws, or whose promise rejects, never breaks or fails a turn: the runtime drops
 *   the error (call `flush` to learn about write failures).
 * - `flush` resolves once every record given so far is durable (written, exported); it rejects
 *   with a `LashError` when some could not be.
 * - `close` flushes and releases resources; records after `close` are dropped.
 */
export interface TraceSink {
  /** Takes one record; cheap and synchronous in effect (a returned promise is not awaited). */
  record(record: TraceRecord): void | Promise<void>;
  /** Resolves once every record so far is durable; rejects with a `LashError` when some could not be. */
  flush?(): Promise<void>;
  /** Flushes, then releases resources; later records are dropped. */
  close?(): Promise<void>;
}

export type { TraceLevel, TraceRecord };
