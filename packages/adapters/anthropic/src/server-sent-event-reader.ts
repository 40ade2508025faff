import { classifyProviderFailure, ProviderCallError } from "@lash/protocol";

/** One server-sent event: its `event:` name (when the server sent one) and its joined `data:` lines. */
export interface ServerSentEvent {
  readonly event: string | undefined;
  readonly data: string;
}

export interface ServerSentEventReaderOptions {
  /** Called for every chunk of the body as it arrives (restarts the chunk timeout). */
  readonly onChunk?: () => void;
  /**
   * The largest event (sum of its data lines) or line accepted, in characters. The body comes from
   * the network: without a cap, a server that never ends a line could fill the memory.
   */
  readonly largestEventCharacters?: number;
}

/** Default cap of one event: stream events of the Messages API are a few kilobytes at most. */
const LARGEST_EVENT_CHARACTERS = 16 * 1024 * 1024;

function malformed(message: string): ProviderCallError {
  return new ProviderCallError(classifyProviderFailure({ kind: "stream", code: "malformed_stream", message, retryable: false }));
}

/**
 * Parses a `text/event-stream` body incrementally (the WHATWG rules): lines end with CRLF, LF or
 * CR (a CRLF split across two chunks counts once), `data:` lines of one event are joined with
 * `\n`, a blank line dispatches the event, comment lines and `id:` / `retry:` fields are ignored.
 * Bytes are decoded as strict UTF-8, so a character split across chunks is reassembled and
 * invalid bytes fail the stream. An event still open when the body ends is dispatched too (some
 * proxies drop the final blank line).
 *
 * Errors of the body itself (a dropped connection, an abort) propagate unchanged; malformed input
 * throws a `ProviderCallError` of kind `stream`. Leaving the loop early cancels the body.
 */
export async function* readServerSentEvents(
  body: ReadableStream<Uint8Array>,
  options: ServerSentEventReaderOptions = {},
): AsyncGenerator<ServerSentEvent, void, undefined> {
  const largest = options.largestEventCharacters ?? LARGEST_EVENT_CHARACTERS;
  const decoder = new TextDecoder("utf-8", { fatal: true });
  const reader = body.getReader();
  let buffer = "";
  // A CR that ended the previous chunk: a LF starting the next one belongs to the same line break.
  let skipLeadingLineFeed = false;
  let eventName: string | undefined;
  let dataLines: string[] = [];
  let dataCharacters = 0;
  let sawField = false;

  const decode = (bytes: Uint8Array | undefined): string => {
    try {
      return bytes === undefined ? decoder.decode() : decoder.decode(bytes, { stream: true });
    } catch {
      throw malformed("the stream is not valid UTF-8");
    }
  };

  const takeLine = (line: string): ServerSentEvent | undefined => {
    if (line === "") {
      if (!sawField) return undefined;
      // An event without data lines is not dispatched (the WHATWG rule).
      const event: ServerSentEvent | undefined = dataLines.length === 0 ? undefined : { event: eventName, data: dataLines.join("\n") };
      eventName = undefined;
      dataLines = [];
      dataCharacters = 0;
      sawField = false;
      return event;
    }
    if (line.startsWith(":")) return undefined;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") {
      dataCharacters += value.length + 1;
      if (dataCharacters > largest) throw malformed(`a stream event is larger than ${largest} characters`);
      dataLines.push(value);
      sawField = true;
    } else if (field === "event") {
      if (value.length > largest) throw malformed(`a stream event name is longer than ${largest} characters`);
      eventName = value;
      sawField = true;
    }
    return undefined;
  };

  // How much of `buffer` is already known to hold no line break: a long line arriving in many
  // chunks is scanned once, not once per chunk.
  let scannedCharacters = 0;

  /** Splits the buffer into complete lines; keeps the unfinished rest. */
  function* completeLines(): Generator<string> {
    let start = 0;
    for (;;) {
      if (skipLeadingLineFeed && start < buffer.length) {
        if (buffer[start] === "\n") start += 1;
        skipLeadingLineFeed = false;
      }
      let end = Math.max(start, scannedCharacters);
      while (end < buffer.length) {
        const character = buffer.charCodeAt(end);
        if (character === 10 || character === 13) break;
        end += 1;
      }
      if (end >= buffer.length) break;
      scannedCharacters = 0;
      const line = buffer.slice(start, end);
      if (buffer.charCodeAt(end) === 13) {
        if (end + 1 < buffer.length) start = buffer.charCodeAt(end + 1) === 10 ? end + 2 : end + 1;
        else {
          start = end + 1;
          skipLeadingLineFeed = true;
        }
      } else start = end + 1;
      yield line;
    }
    buffer = buffer.slice(start);
    scannedCharacters = buffer.length;
    if (buffer.length > largest) throw malformed(`a stream line is longer than ${largest} characters`);
  }

  let finished = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      options.onChunk?.();
      buffer += decode(value);
      for (const line of completeLines()) {
        const event = takeLine(line);
        if (event !== undefined) yield event;
      }
    }
    buffer += decode(undefined);
    for (const line of completeLines()) {
      const event = takeLine(line);
      if (event !== undefined) yield event;
    }
    if (buffer !== "") takeLine(buffer);
    const last = takeLine("");
    if (last !== undefined) yield last;
    finished = true;
  } finally {
    if (!finished) await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}
