import type { TraceRecord, TraceSink } from "@lash/protocol";
import { RecencyMap } from "../recency-map.js";

/** Bounds of the trace records a server keeps in memory. */
export interface TurnTraceLimits {
  /** Turns whose records are kept, the most recent ones (default 500; 0 keeps none, and the turns build no trace records for the server). */
  readonly maxTracedTurns: number;
  /** Records kept per turn; later ones are dropped and the trace is marked truncated (default 2,000). */
  readonly maxTraceRecordsPerTurn: number;
}

export const DEFAULT_TURN_TRACE_LIMITS: TurnTraceLimits = { maxTracedTurns: 500, maxTraceRecordsPerTurn: 2_000 };

/** The trace of one turn as the recorder keeps it. */
export interface TurnTrace {
  readonly sessionId: string;
  readonly turnId: string;
  readonly records: readonly TraceRecord[];
  readonly complete: boolean;
  readonly truncated: boolean;
}

interface MutableTrace {
  /** Its key in the recorder's map. */
  readonly key: string;
  readonly sessionId: string;
  readonly turnId: string;
  readonly records: TraceRecord[];
  complete: boolean;
  truncated: boolean;
}

/** What a caller gets of a kept trace: a copy, without the recorder's key. */
function publicTrace(trace: MutableTrace): TurnTrace {
  return {
    sessionId: trace.sessionId,
    turnId: trace.turnId,
    records: [...trace.records],
    complete: trace.complete,
    truncated: trace.truncated,
  };
}

function keyOf(sessionId: string, turnId: string): string {
  return `${sessionId}\u0000${turnId}`;
}

/**
 * A trace sink that keeps the `standard` records of the most recent turns in memory, by session and
 * turn, for `GET /v1/sessions/{id}/turns/{turnId}/trace`. Per-call stream events of the `extended`
 * level are not kept (a host may configure that level for its own sink): they would crowd out the
 * records a waterfall needs. Bounded by turns and records per turn; the oldest turn goes first.
 */
export class TurnTraceRecorder implements TraceSink {
  readonly #limits: TurnTraceLimits;
  /** Insertion order is recency: a turn is moved to the end when it starts again (an approval continues it). */
  readonly #traces = new RecencyMap<string, MutableTrace>();
  /** The trace the last record went to (only while the map holds it). */
  #last: MutableTrace | undefined;

  constructor(limits: Partial<TurnTraceLimits> = {}) {
    this.#limits = { ...DEFAULT_TURN_TRACE_LIMITS, ...limits };
  }

  record(record: TraceRecord): void {
    if (record.type === "runtime_stream_event") return;
    // A turn's records mostly come one after another: the last trace written is found without a key.
    const last = this.#last;
    let trace: MutableTrace | undefined;
    let created = false;
    if (last !== undefined && last.turnId === record.turnId && last.sessionId === record.sessionId) trace = last;
    else {
      const key = keyOf(record.sessionId, record.turnId);
      trace = this.#traces.get(key);
      if (trace === undefined) {
        trace = { key, sessionId: record.sessionId, turnId: record.turnId, records: [], complete: false, truncated: false };
        this.#traces.set(key, trace);
        created = true;
        while (this.#traces.size > this.#limits.maxTracedTurns) {
          const oldest = this.#traces.oldestKey();
          if (oldest === undefined) break;
          this.#forget(oldest);
        }
      }
    }
    this.#last = trace;
    if (record.type === "turn_started" && !created) {
      // A suspended turn continued after an approval decision: the same turn, more records.
      this.#traces.set(trace.key, trace);
      trace.complete = false;
    }
    if (record.type === "turn_completed") trace.complete = true;
    // The ending is always kept, so a long turn's trace still says how it ended.
    if (trace.records.length >= this.#limits.maxTraceRecordsPerTurn && record.type !== "turn_completed") {
      trace.truncated = true;
      return;
    }
    trace.records.push(record);
  }

  /** The kept trace of a turn, or `undefined`. */
  trace(sessionId: string, turnId: string): TurnTrace | undefined {
    const trace = this.#traces.get(keyOf(sessionId, turnId));
    return trace === undefined ? undefined : publicTrace(trace);
  }

  /** The kept traces of a session, newest first. */
  sessionTraces(sessionId: string): TurnTrace[] {
    const traces: TurnTrace[] = [];
    for (const trace of this.#traces.values()) if (trace.sessionId === sessionId) traces.push(publicTrace(trace));
    return traces.reverse();
  }

  /** Forgets a deleted session's traces. */
  forgetSession(sessionId: string): void {
    for (const [key, trace] of this.#traces.entries()) if (trace.sessionId === sessionId) this.#forget(key);
  }

  #forget(key: string): void {
    if (this.#last?.key === key) this.#last = undefined;
    this.#traces.delete(key);
  }
}

/** Sends each record to the server's recorder (synchronous, never throws), then to the host's own sink. */
export function teeTraceSink(recorder: TurnTraceRecorder, host: TraceSink): TraceSink {
  return {
    record(record) {
      recorder.record(record);
      return host.record(record);
    },
    ...(host.flush === undefined ? {} : { flush: () => host.flush?.() ?? Promise.resolve() }),
    ...(host.close === undefined ? {} : { close: () => host.close?.() ?? Promise.resolve() }),
  };
}
