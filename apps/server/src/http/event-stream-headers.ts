/**
 * The headers of every `text/event-stream` response of the server: no caching or transforming on
 * the way, and no buffering in reverse proxies (nginx buffers responses unless told not to), so
 * each event reaches the client as it happens.
 */
export const EVENT_STREAM_HEADERS: Readonly<Record<string, string>> = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache, no-transform",
  "x-accel-buffering": "no",
};

/** The keep-alive comment an idle stream sends; every SSE parser skips comments. */
export const KEEP_ALIVE_FRAME = ": keep-alive\n\n";
