import { LashError, ProviderCallError } from "@lash/protocol";
import { createParser } from "eventsource-parser";
import { callerAbortError } from "./provider-transport-failure.js";
import type { RequestDeadline } from "./request-deadline.js";
import { malformedStreamFailure, streamEventTooLargeFailure, truncatedStreamFailure } from "./stream-failures.js";

/** One server-sent event. */
export interface ServerSentEvent {
  /** The `event:` field; `undefined` when the server sent none (most model APIs put the type in the data). */
  readonly event: string | undefined;
  /** The `data:` lines of the event, joined with `"\n"`. */
  readonly data: string;
  /** The `id:` field; `undefined` when the server sent none. */
  readonly id: string | undefined;
}

/** The event that says a stream is whole, for `ServerSentEventReaderOptions.completion`. */
export interface StreamCompletion {
  /** What the stream ends with, as the failure message names it: `"message_stop"`, `"a finish_reason"`. */
  readonly name: string;
  /** True once the events read so far include the completion signal. Asked when the body ends. */
  isReached(): boolean;
}

/** Options of `readServerSentEvents`. */
export interface ServerSentEventReaderOptions {
  /**
   * The attempt's deadline (`startRequestDeadline`): the response counts as started, every chunk
   * restarts the chunk timer, and so does every event the consumer finished with (its wait is not
   * the server's). When a timeout fires the read ends with the deadline's `timeout` failure.
   */
  readonly deadline: RequestDeadline;
  /** The caller's signal: when it aborts the read ends with `callerAbortError(signal)`, never a failure. */
  readonly signal?: AbortSignal;
  /**
   * The largest event accepted, in characters: its data lines plus a line not yet ended (default
   * 16 MiB). The body comes from the network; without a cap a server that never ends a line would
   * fill the memory.
   */
  readonly largestEventCharacters?: number;
  /**
   * The stream's completion signal. When the body ends and `isReached()` is false, the read fails
   * with `stream_truncated` (or `not_an_event_stream`). Without it, the end of the body is the end.
   */
  readonly completion?: StreamCompletion;
}

/** Default of `largestEventCharacters`: model API events are kilobytes; whole documents stay far below. */
export const DEFAULT_LARGEST_EVENT_CHARACTERS = 16 * 1024 * 1024;

function validatedLimit(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_LARGEST_EVENT_CHARACTERS;
  if (!Number.isSafeInteger(limit) || limit <= 0) {
    throw new LashError("invalid_configuration", `largestEventCharacters must be a positive integer, got ${String(limit)}`);
  }
  return limit;
}

/**
 * Reads the `text/event-stream` body of `response` (built on `eventsource-parser`, which follows the
 * WHATWG rules: CRLF, LF or CR line ends, `data:` lines joined with `\n`, comments, `id:` and
 * `retry:` handled) and yields its events as they arrive.
 *
 * - Bytes are decoded as strict UTF-8: a character split across chunks is joined, invalid bytes
 *   fail the read (`malformed_stream`). An event still open when the body ends is dispatched (some
 *   proxies drop the final blank line).
 * - An event larger than `largestEventCharacters` fails the read (`stream_event_too_large`).
 * - The caller's abort ends the read with `callerAbortError(signal)`; a fired timeout with the
 *   deadline's `timeout` `ProviderCallError`. Both cancel the body at once, whatever `fetch` made it.
 * - With `completion`, a body that ends before the completion signal fails the read
 *   (`stream_truncated`, retryable; `not_an_event_stream` when the `content-type` says so).
 * - Errors of the body itself (a dropped connection) are rethrown unchanged: the adapter classifies
 *   them (`providerFailureFromTransport`).
 *
 * Stopping the loop early (`break` after the completion signal) cancels the rest of the body.
 *
 * @example
 * const response = await client.messages.create(body, { signal: deadline.signal }).asResponse();
 * for await (const event of readServerSentEvents(response, { deadline, signal, completion })) {
 *   handle(JSON.parse(event.data));
 *   if (done) break;
 * }
 */
export async function* readServerSentEvents(
  response: Response,
  options: ServerSentEventReaderOptions,
): AsyncGenerator<ServerSentEvent, void, undefined> {
  const { deadline, signal, completion } = options;
  const contentType = response.headers.get("content-type") ?? undefined;
  const stopIfStopped = (): void => {
    if (signal?.aborted === true) throw callerAbortError(signal);
    const timeout = deadline.timedOut();
    if (timeout !== undefined) throw new ProviderCallError(timeout);
  };
  const requireCompletion = (): void => {
    if (completion !== undefined && !completion.isReached()) {
      throw new ProviderCallError(truncatedStreamFailure(`the stream ended before ${completion.name}`, contentType));
    }
  };
  let largest: number;
  try {
    largest = validatedLimit(options.largestEventCharacters);
    stopIfStopped();
  } catch (error) {
    // Nobody will read the body now: cancel it, so the connection does not stay open.
    await response.body?.cancel().catch(() => undefined);
    throw error;
  }
  deadline.responseStarted();
  const body = response.body;
  if (body === null) {
    requireCompletion();
    return;
  }

  const events: ServerSentEvent[] = [];
  let tooLarge = false;
  const parser = createParser({
    maxBufferSize: largest,
    onEvent: (message) => events.push({ event: message.event, data: message.data, id: message.id }),
    onError: (error) => {
      // Unknown fields and bad `retry:` values are ignored, as the WHATWG rules say.
      if (error.type === "max-buffer-size-exceeded") tooLarge = true;
    },
  });
  const decoder = new TextDecoder("utf-8", { fatal: true });
  const feed = (text: string): void => {
    parser.feed(text);
    if (tooLarge) throw new ProviderCallError(streamEventTooLargeFailure(largest));
  };
  const decode = (bytes?: Uint8Array): string => {
    try {
      return bytes === undefined ? decoder.decode() : decoder.decode(bytes, { stream: true });
    } catch {
      throw new ProviderCallError(malformedStreamFailure("malformed stream: the body is not valid UTF-8"));
    }
  };

  const reader = body.getReader();
  // A `fetch` that ignores its signal would leave a read pending forever: cancelling the body ends it.
  const onAbort = (): void => {
    reader.cancel(deadline.signal.reason).catch(() => undefined);
  };
  deadline.signal.addEventListener("abort", onAbort, { once: true });
  let bodyConsumed = false;
  try {
    for (;;) {
      let chunk: Awaited<ReturnType<typeof reader.read>>;
      try {
        chunk = await reader.read();
      } catch (error) {
        stopIfStopped();
        throw error;
      }
      // A cancelled body reads as ended: say why it ended.
      stopIfStopped();
      if (chunk.done) break;
      deadline.chunkReceived();
      feed(decode(chunk.value));
      for (let event = events.shift(); event !== undefined; event = events.shift()) {
        yield event;
        stopIfStopped();
        deadline.chunkReceived();
      }
    }
    bodyConsumed = true;
    // The rest of the bytes, then a blank line that dispatches an event left open.
    feed(decode());
    feed("\n\n");
    for (const event of events.splice(0)) yield event;
    requireCompletion();
  } finally {
    deadline.signal.removeEventListener("abort", onAbort);
    if (!bodyConsumed) await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}
