import type { TurnActivity } from "@lash/protocol";
import type { ErrorBody, TurnResult } from "@lash/remote-protocol";
import type { TurnRecord } from "../turns/turn-record.js";
import { idleTimer } from "../turns/turn-stream-step.js";

/**
 * One item read from a turn's event log, decoded. The log holds what the server itself wrote
 * (never a client's bytes), so its JSON is decoded without validating it again.
 */
export type TurnLogItem =
  | { readonly type: "activity"; readonly activity: TurnActivity }
  | { readonly type: "result"; readonly result: TurnResult }
  | { readonly type: "error"; readonly error: ErrorBody }
  /** Nothing happened for a while: a stream sends a keep-alive so proxies keep the connection. */
  | { readonly type: "idle" }
  /** The events after the reader's position were dropped (the log's bounds) while the turn ran. */
  | { readonly type: "expired" };

/**
 * Reads the turn's events after `afterId`, decoded, as they are appended, until the turn's segment
 * ends (its `result` or `error`) or `signal` aborts. The `turn` events are skipped: a caller that
 * started the segment knows which turn it is. Like the lash event stream, this only reads the log:
 * a reader that stops does not stop the turn.
 */
export async function* readTurnLog(
  record: TurnRecord,
  afterId: number,
  options: { readonly idleMs: number; readonly signal: AbortSignal },
): AsyncGenerator<TurnLogItem> {
  // The events stay in the log until this reader is done with them (it ends, or its consumer stops).
  const release = record.log.hold();
  try {
    yield* followTurnLog(record, afterId, options);
  } finally {
    release();
  }
}

async function* followTurnLog(
  record: TurnRecord,
  afterId: number,
  options: { readonly idleMs: number; readonly signal: AbortSignal },
): AsyncGenerator<TurnLogItem> {
  let cursor = afterId;
  while (!options.signal.aborted) {
    const running = record.running;
    const position = record.log.read(cursor, running);
    if (position.type === "expired") {
      yield { type: "expired" };
      return;
    }
    for (const entry of position.events) {
      cursor = entry.id;
      switch (entry.event) {
        case "turn":
          break;
        case "activity":
          yield { type: "activity", activity: JSON.parse(entry.data) as TurnActivity };
          break;
        case "result":
          yield { type: "result", result: JSON.parse(entry.data) as TurnResult };
          return;
        case "error":
          yield { type: "error", error: JSON.parse(entry.data) as ErrorBody };
          return;
      }
      if (options.signal.aborted) return;
    }
    if (position.events.length > 0) continue;
    // Nothing new: the segment ended without a terminal event this reader can see (it was
    // compacted away), or more is coming.
    if (!running) return;
    const more = record.log.waitForMore();
    const timer = idleTimer(options.idleMs, options.signal);
    const woke = await Promise.race([more.then(() => "event" as const), timer.fired.then(() => "idle" as const)]);
    timer.cancel();
    if (woke === "idle" && !options.signal.aborted) yield { type: "idle" };
  }
}
