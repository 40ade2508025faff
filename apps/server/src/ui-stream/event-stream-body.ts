import { EVENT_STREAM_HEADERS } from "../http/event-stream-headers.js";

const encoder = new TextEncoder();

/**
 * A `text/event-stream` response whose frames come from `frames` (each a whole SSE frame: `data:
 * ...\n\n` or a `: comment\n\n`). The body pulls one frame at a time, so a slow client never holds
 * anything up; a client that goes away aborts `frames`' signal, and only its reader stops.
 */
export function eventStreamBody(
  frames: (signal: AbortSignal) => AsyncIterable<string>,
  headers: Readonly<Record<string, string>>,
): Response {
  const abort = new AbortController();
  const iterator = frames(abort.signal)[Symbol.asyncIterator]();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await iterator.next();
      if (next.done === true) {
        controller.close();
        return;
      }
      controller.enqueue(encoder.encode(next.value));
    },
    cancel() {
      abort.abort();
      // The iterator ends at its next step: its waits race the abort signal.
      void iterator.return?.();
    },
  });
  return new Response(body, {
    status: 200,
    headers: { ...EVENT_STREAM_HEADERS, ...headers },
  });
}

/** One `data:` frame of a JSON value (JSON.stringify escapes line breaks, so it stays on one line). */
export function dataFrame(value: unknown): string {
  return `data: ${JSON.stringify(value)}\n\n`;
}

/** The keep-alive comment an idle stream sends; every SSE parser skips comments. */
export const KEEP_ALIVE_FRAME = ": keep-alive\n\n";
