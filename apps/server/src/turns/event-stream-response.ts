import { EVENT_STREAM_HEADERS, KEEP_ALIVE_FRAME } from "../http/event-stream-headers.js";
import { HttpError } from "../http/http-error.js";
import { streamedResponse } from "../http/node-writers.js";
import { requestHeader } from "../http/request-headers.js";
import { writeEventStream } from "./node-event-stream.js";
import type { TurnRecord } from "./turn-record.js";
import { nextTurnStreamStep } from "./turn-stream-step.js";

/** How often an idle stream sends a comment, so proxies and load balancers keep it open (default 15 s). */
export const DEFAULT_HEARTBEAT_MS = 15_000;

const encoder = new TextEncoder();

/** True when the client asked for server-sent events. */
export function wantsEventStream(request: Request): boolean {
  const accept = requestHeader(request, "accept") ?? "";
  return accept.split(",").some((part) => part.split(";")[0]?.trim().toLowerCase() === "text/event-stream");
}

/**
 * Reads `Last-Event-ID`: absent means from the start; anything but a whole number no greater than
 * the turn's last event id is a 400 `invalid_last_event_id` (an id the client cannot have seen).
 */
export function parseLastEventId(header: string | null, record: TurnRecord): number {
  if (header === null || header.trim() === "") return 0;
  const text = header.trim();
  if (!/^[0-9]{1,15}$/.test(text)) {
    throw new HttpError("invalid_last_event_id", "Last-Event-ID must be the id of an event of this turn", {
      details: { lastEventId: text.slice(0, 64) },
    });
  }
  const id = Number(text);
  if (id > record.log.lastId) {
    throw new HttpError("invalid_last_event_id", `Last-Event-ID ${id} is after this turn's last event (${record.log.lastId})`, {
      details: { lastEventId: id, lastId: record.log.lastId },
    });
  }
  return id;
}

/**
 * The turn's events after `afterId` as a `text/event-stream` response: those already logged, then
 * each new one as it is appended, until the turn is no longer running and everything was sent.
 * The stream pulls from the log, so a slow client never holds the turn up, and a client that goes
 * away only stops its own reader: the turn goes on (it detached). `env` is the adapter's (the
 * route's `c.env`): on Node the events are written straight to its response (`writeEventStream`)
 * and no web body is built.
 */
export function eventStreamResponse(
  record: TurnRecord,
  afterId: number,
  heartbeatMs: number = DEFAULT_HEARTBEAT_MS,
  env?: unknown,
): Response {
  const init = { status: 200, headers: { ...EVENT_STREAM_HEADERS, "lash-turn-id": record.turnId } };
  return streamedResponse(
    env,
    init,
    (outgoing) => writeEventStream(outgoing, record, afterId, heartbeatMs),
    () => eventStreamBody(record, afterId, heartbeatMs),
  );
}

/** The web body of `eventStreamResponse`: pulls the log one step at a time. */
function eventStreamBody(record: TurnRecord, afterId: number, heartbeatMs: number): ReadableStream<Uint8Array> {
  let cursor = afterId;
  const stopped = new AbortController();
  // The events stay in the log until this reader is done with them.
  const release = record.log.hold();
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const step = await nextTurnStreamStep(record, cursor, heartbeatMs, stopped.signal);
        if (step.type === "stopped") return;
        if (step.type === "keep_alive") {
          controller.enqueue(encoder.encode(KEEP_ALIVE_FRAME));
          return;
        }
        if (step.text !== "") controller.enqueue(encoder.encode(step.text));
        if (step.type === "frames") cursor = step.cursor;
        if (step.type === "end" || step.last) {
          release();
          controller.close();
        }
      },
      cancel() {
        release();
        stopped.abort();
      },
      // Nothing is read before a reader asks.
    },
    { highWaterMark: 0 },
  );
}
