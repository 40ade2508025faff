import { EVENT_STREAM_HEADERS } from "../http/event-stream-headers.js";
import { writeFrames } from "../http/node-frame-writer.js";
import { streamedResponse } from "../http/node-writers.js";
import type { TurnLog } from "../turns/turn-log.js";

const encoder = new TextEncoder();

/**
 * A `text/event-stream` response whose frames come from `frames` (each a whole SSE frame: `data:
 * ...\n\n` or a `: comment\n\n`). Served by `lash-server` on Node (`env` is the route's `c.env`),
 * the frames are written straight to the socket (`writeFrames`) and no web stream is built;
 * elsewhere the web body pulls one frame at a time. Either way a slow client never holds anything
 * up, and a client that goes away aborts `frames`' signal: only its reader stops.
 *
 * `source` is the turn log the frames come from: it is held from now until the stream ends (see
 * `TurnLog.hold`), so a reader that starts late (a web body read after the turn ended, while other
 * turns finish) still finds every event of the turn instead of a compacted log.
 */
export function eventStreamBody(
  frames: (signal: AbortSignal) => AsyncIterable<string>,
  headers: Readonly<Record<string, string>>,
  env: unknown,
  source: TurnLog,
): Response {
  const release = source.hold();
  return streamedResponse(
    env,
    { status: 200, headers: { ...EVENT_STREAM_HEADERS, ...headers } },
    (outgoing) => writeFrames(outgoing, frames, release),
    () => webFrames(frames, release),
  );
}

/** The web body of `eventStreamBody`: one frame per pull; `ended` is called once it is done, however. */
function webFrames(frames: (signal: AbortSignal) => AsyncIterable<string>, ended: () => void): ReadableStream<Uint8Array> {
  const abort = new AbortController();
  let iterator: AsyncIterator<string> | undefined;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        iterator ??= frames(abort.signal)[Symbol.asyncIterator]();
        let next: IteratorResult<string>;
        try {
          next = await iterator.next();
        } catch (error) {
          ended();
          throw error;
        }
        if (next.done === true) {
          ended();
          controller.close();
          return;
        }
        controller.enqueue(encoder.encode(next.value));
      },
      cancel() {
        ended();
        abort.abort();
        // The iterator ends at its next step: its waits race the abort signal.
        void iterator?.return?.();
      },
    },
    // Nothing is read before a reader asks.
    { highWaterMark: 0 },
  );
}

/** One `data:` frame of a JSON value (JSON.stringify escapes line breaks, so it stays on one line). */
export function dataFrame(value: unknown): string {
  return `data: ${JSON.stringify(value)}\n\n`;
}
