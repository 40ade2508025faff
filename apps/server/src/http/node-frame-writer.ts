import type { ServerResponse } from "node:http";

/** Why a writer's frames stop: its response closed (the client went away, or the stream ended). */
const RESPONSE_CLOSED = new Error("the response closed");

/**
 * Writes the frames of an event stream straight to a Node response whose head is set (status and
 * headers, not yet sent). Frames that come one after another without waiting (the chunks of one
 * burst of a turn's events) go out together, at the end of that pass of the event loop, instead
 * of one write each; the head goes out with the first ones and the last ones with the end of the
 * response. A slow client is waited for (`drain`) before more frames are read. A client that goes
 * away aborts `frames`' signal, and the iteration is ended. `ended` is called once the writer is
 * done, however it ended.
 */
export function writeFrames(outgoing: ServerResponse, frames: (signal: AbortSignal) => AsyncIterable<string>, ended: () => void): void {
  const abort = new AbortController();
  // With a reason of its own: an abort without one builds a `DOMException` (and its stack) per stream.
  if (outgoing.destroyed) abort.abort(RESPONSE_CLOSED);
  else outgoing.once("close", () => abort.abort(RESPONSE_CLOSED));
  let pending = "";
  let scheduled: NodeJS.Immediate | undefined;
  let drained: Promise<void> | undefined;

  const flush = (): void => {
    scheduled = undefined;
    if (pending === "" || outgoing.destroyed) return;
    const text = pending;
    pending = "";
    if (outgoing.write(text)) return;
    drained = new Promise((resolve) => {
      const done = (): void => {
        outgoing.off("drain", done);
        outgoing.off("close", done);
        resolve();
      };
      outgoing.once("drain", done);
      outgoing.once("close", done);
    });
  };

  const run = async (): Promise<void> => {
    const iterator = frames(abort.signal)[Symbol.asyncIterator]();
    try {
      for (;;) {
        if (drained !== undefined) {
          await drained;
          drained = undefined;
        }
        if (abort.signal.aborted) return;
        const next = await iterator.next();
        if (next.done === true) break;
        pending += next.value;
        scheduled ??= setImmediate(flush);
      }
      if (scheduled !== undefined) clearImmediate(scheduled);
      outgoing.end(pending);
    } finally {
      // A client that left: the frames' waits race the abort signal, so the iteration is at rest and can be ended.
      try {
        if (abort.signal.aborted) await iterator.return?.();
      } finally {
        ended();
      }
    }
  };
  run().catch((error: unknown) => outgoing.destroy(error instanceof Error ? error : new Error(String(error))));
}
