import type { RequestDeadline } from "@lash/protocol";
import { classifyProviderFailure, ProviderCallError } from "@lash/protocol";

/** What the fetch of one call saw of the HTTP response (read by the failure mapping). */
export interface CallObservation {
  /** The status line and headers arrived. */
  responseStarted: boolean;
  /** The body of an error response, read (up to a limit) before the SDK parses it. */
  errorBody: string | undefined;
  /** The `content-type` of the response, to explain a stream that carried no events. */
  contentType: string | undefined;
}

/** An error body longer than this is cut: only its start can say what went wrong. */
const LONGEST_ERROR_BODY_BYTES = 1_000_000;
/**
 * The longest line a server may send. The SDK buffers a server-sent event until its blank line, so
 * a hostile server that never sends a newline would otherwise grow memory without bound.
 */
const LONGEST_LINE_BYTES = 16 * 1024 * 1024;
const NEWLINE = 0x0a;
/** Statuses whose responses cannot carry a body (`new Response` refuses one). */
const BODYLESS_STATUSES = new Set([101, 103, 204, 205, 304]);

async function readCappedText(body: ReadableStream<Uint8Array>, limit: number, onChunk: () => void): Promise<string> {
  const reader = body.getReader();
  const decoder = new TextDecoder("utf-8", { fatal: false });
  let text = "";
  let received = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      onChunk();
      const room = limit - received;
      received += value.byteLength;
      text += decoder.decode(value.byteLength > room ? value.subarray(0, room) : value, { stream: true });
      if (received >= limit) {
        await reader.cancel().catch(() => undefined);
        break;
      }
    }
  } finally {
    reader.releaseLock();
  }
  return text + decoder.decode();
}

function lineTooLong(): ProviderCallError {
  return new ProviderCallError(
    classifyProviderFailure({
      kind: "stream",
      message: `malformed stream: a line of the response body exceeded ${LONGEST_LINE_BYTES} bytes`,
      code: "stream_line_too_long",
      retryable: false,
    }),
  );
}

/**
 * The body, passed through as it arrives: every chunk restarts the deadline's chunk timer, and a line
 * longer than `LONGEST_LINE_BYTES` errors the stream.
 */
function observedBody(body: ReadableStream<Uint8Array>, deadline: RequestDeadline): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let lineBytes = 0;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const { done, value } = await reader.read();
        if (done) {
          controller.close();
          return;
        }
        deadline.chunkReceived();
        const lastNewline = value.lastIndexOf(NEWLINE);
        lineBytes = lastNewline === -1 ? lineBytes + value.byteLength : value.byteLength - lastNewline - 1;
        if (lineBytes > LONGEST_LINE_BYTES) {
          await reader.cancel().catch(() => undefined);
          controller.error(lineTooLong());
          return;
        }
        controller.enqueue(value);
      },
      cancel(reason) {
        return reader.cancel(reason);
      },
    },
    // Pull only when the SDK reads: the chunk timer then measures the server, not a full buffer.
    { highWaterMark: 0 },
  );
}

/**
 * The `fetch` of one call: reports the response start and every body chunk to the deadline, and
 * keeps an error response's body (the SDK only hands over its parsed `error` field).
 */
export function createCallFetch(
  baseFetch: typeof globalThis.fetch,
  deadline: RequestDeadline,
  observation: CallObservation,
): typeof globalThis.fetch {
  return async (input, init) => {
    const response = await baseFetch(input, init);
    deadline.responseStarted();
    observation.responseStarted = true;
    observation.contentType = response.headers.get("content-type") ?? undefined;
    if (response.body === null || BODYLESS_STATUSES.has(response.status)) return response;
    const responseInit = { status: response.status, statusText: response.statusText, headers: response.headers };
    if (!response.ok) {
      const text = await readCappedText(response.body, LONGEST_ERROR_BODY_BYTES, () => deadline.chunkReceived());
      observation.errorBody = text;
      return new Response(text, responseInit);
    }
    return new Response(observedBody(response.body, deadline), responseInit);
  };
}
