import type { ProviderFailure } from "@lash/protocol";
import { classifyProviderFailure } from "./provider-failure-classifier.js";

/**
 * The codes of the `stream` failures a streamed body can end in:
 * - `stream_truncated`: the body ended before the stream's completion signal (a dropped connection
 *   or a proxy that cut it); retryable;
 * - `not_an_event_stream`: the same, from a response whose `content-type` is not
 *   `text/event-stream` (a server that does not stream); not retryable;
 * - `malformed_stream`: data that breaks the stream's format (not UTF-8, not JSON, a field of the
 *   wrong type); not retryable, the same server would send it again;
 * - `stream_event_too_large`: one event grew past the reader's limit; not retryable.
 */
export type StreamFailureCode = "stream_truncated" | "not_an_event_stream" | "malformed_stream" | "stream_event_too_large";

/** A `malformed_stream` failure: the message says what was wrong with the data. Never retryable. */
export function malformedStreamFailure(message: string): ProviderFailure {
  return classifyProviderFailure({ kind: "stream", code: "malformed_stream", message, retryable: false });
}

/** A `stream_event_too_large` failure: one event is larger than `limit` characters. Never retryable. */
export function streamEventTooLargeFailure(limit: number): ProviderFailure {
  return classifyProviderFailure({
    kind: "stream",
    code: "stream_event_too_large",
    message: `malformed stream: a server-sent event is larger than ${limit} characters`,
    retryable: false,
  });
}

/** True when a `content-type` names a server-sent event stream (absent counts as one: nothing says otherwise). */
function isEventStream(contentType: string | undefined): boolean {
  return contentType === undefined || contentType.toLowerCase().includes("text/event-stream");
}

/**
 * The failure of a body that ended before its completion signal: `stream_truncated` (retryable),
 * or `not_an_event_stream` (not retryable) when the response's `content-type` says it never was a
 * server-sent event stream. `message` says what was missing ("the stream ended before message_stop").
 */
export function truncatedStreamFailure(message: string, contentType?: string): ProviderFailure {
  if (isEventStream(contentType)) {
    return classifyProviderFailure({ kind: "stream", code: "stream_truncated", message, retryable: true });
  }
  const shown = JSON.stringify((contentType ?? "").slice(0, 100));
  return classifyProviderFailure({
    kind: "stream",
    code: "not_an_event_stream",
    message: `${message} (the response was ${shown}, not a server-sent event stream)`,
    retryable: false,
  });
}
