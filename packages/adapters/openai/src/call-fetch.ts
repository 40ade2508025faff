import type { RequestDeadline } from "@lash/provider-utils";

/** What the fetch of one call saw of the HTTP response (read by the failure mapping). */
export interface CallObservation {
  /** The status line and headers arrived. */
  responseStarted: boolean;
  /** The body of an error response, read (up to a limit) before the SDK parses it. */
  errorBody: string | undefined;
}

/** An error body longer than this is cut: only its start can say what went wrong. */
const LONGEST_ERROR_BODY_BYTES = 1_000_000;
/** Statuses whose responses cannot carry a body (`new Response` refuses one). */
const BODYLESS_STATUSES = new Set([101, 103, 204, 205, 304]);

/** The text of a body, decoded as it arrives; `onChunk` sees every piece. */
export interface CappedText {
  readonly text: string;
  /** False when the body was longer than the limit: `text` is its start and the rest was not read. */
  readonly complete: boolean;
}

/** Reads at most `limitBytes` of a body as UTF-8 text (a character split across chunks stays whole). */
export async function readCappedText(body: ReadableStream<Uint8Array>, limitBytes: number, onChunk: () => void): Promise<CappedText> {
  const reader = body.getReader();
  const decoder = new TextDecoder("utf-8", { fatal: false });
  let text = "";
  let received = 0;
  let complete = true;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      onChunk();
      const room = limitBytes - received;
      received += value.byteLength;
      text += decoder.decode(value.byteLength > room ? value.subarray(0, room) : value, { stream: true });
      if (received > limitBytes) {
        complete = false;
        await reader.cancel().catch(() => undefined);
        break;
      }
    }
  } finally {
    reader.releaseLock();
  }
  return { text: text + decoder.decode(), complete };
}

/**
 * The `fetch` of one call: reports the response start to the deadline and keeps an error
 * response's body (the SDK only hands over its parsed `error` field, which loses the shapes of
 * other servers). A successful body passes through untouched: the adapter reads it itself.
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
    if (response.ok || response.body === null || BODYLESS_STATUSES.has(response.status)) return response;
    const { text } = await readCappedText(response.body, LONGEST_ERROR_BODY_BYTES, () => deadline.chunkReceived());
    observation.errorBody = text;
    return new Response(text, { status: response.status, statusText: response.statusText, headers: response.headers });
  };
}
