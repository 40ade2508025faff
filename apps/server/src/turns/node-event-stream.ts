import type { ServerResponse } from "node:http";
import { KEEP_ALIVE_FRAME } from "../http/event-stream-headers.js";
import type { TurnRecord } from "./turn-record.js";
import { nextTurnStreamStep } from "./turn-stream-step.js";

/**
 * Writes the turn's events after `afterId` straight to a Node response whose head is set (status
 * and headers, not yet sent), as `eventStreamResponse` does through a web stream: those already
 * logged, then each burst as it is appended, until the turn is no longer running and everything
 * was sent. The head goes out with the first events and the last events with the end of the
 * response, so a short turn costs the socket one or two writes. A client that goes away stops
 * only this writer (the turn goes on: it detached); a slow one is waited for (`drain`) while the
 * log keeps the events.
 */
export function writeEventStream(outgoing: ServerResponse, record: TurnRecord, afterId: number, heartbeatMs: number): void {
  // A client that goes away (or left before the head was written) stops this writer only.
  const stopped = new AbortController();
  if (outgoing.destroyed) stopped.abort();
  else outgoing.once("close", () => stopped.abort());
  /** Resolves when the socket took what was written, or the response closed. */
  const waitForDrain = (): Promise<void> =>
    new Promise((resolve) => {
      const done = () => {
        outgoing.off("drain", done);
        stopped.signal.removeEventListener("abort", done);
        resolve();
      };
      outgoing.once("drain", done);
      stopped.signal.addEventListener("abort", done, { once: true });
    });

  const pump = async (): Promise<void> => {
    let cursor = afterId;
    for (;;) {
      const step = await nextTurnStreamStep(record, cursor, heartbeatMs, stopped.signal);
      if (step.type === "stopped") return;
      if (step.type === "keep_alive") {
        outgoing.write(KEEP_ALIVE_FRAME);
        continue;
      }
      if (step.type === "end" || step.last) {
        outgoing.end(step.text);
        return;
      }
      cursor = step.cursor;
      if (!outgoing.write(step.text)) await waitForDrain();
    }
  };
  pump().catch((error: unknown) => outgoing.destroy(error instanceof Error ? error : new Error(String(error))));
}
