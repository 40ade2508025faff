import type { ServerResponse } from "node:http";
import { eventFrame, expiredEventsFrame } from "./turn-log.js";
import type { TurnRecord } from "./turn-record.js";

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
  // A client that left before the head was written: nothing to send, nothing to wait for.
  let closed = outgoing.destroyed;
  let wakeOnClose: (() => void) | undefined;
  outgoing.once("close", () => {
    closed = true;
    wakeOnClose?.();
  });
  /** Resolves at the next append, after `heartbeatMs` without one, or when the response closed. */
  const waitForEvents = (): Promise<"event" | "heartbeat"> =>
    new Promise((resolve) => {
      let settled = false;
      const done = (woke: "event" | "heartbeat") => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        wakeOnClose = undefined;
        resolve(woke);
      };
      const timer = setTimeout(() => done("heartbeat"), heartbeatMs);
      timer.unref();
      wakeOnClose = () => done("event");
      void record.log.waitForMore().then(() => done("event"));
    });
  /** Resolves when the socket took what was written, or the response closed. */
  const waitForDrain = (): Promise<void> =>
    new Promise((resolve) => {
      const done = () => {
        outgoing.off("drain", done);
        wakeOnClose = undefined;
        resolve();
      };
      wakeOnClose = done;
      outgoing.once("drain", done);
    });

  const pump = async (): Promise<void> => {
    let cursor = afterId;
    for (;;) {
      if (closed) return;
      const running = record.running;
      const position = record.log.read(cursor, running);
      if (position.type === "expired") {
        outgoing.end(expiredEventsFrame(cursor, position.oldestKeptId));
        return;
      }
      const last = position.events.at(-1);
      if (last === undefined) {
        if (!running) {
          outgoing.end();
          return;
        }
        if ((await waitForEvents()) === "heartbeat" && !closed) outgoing.write(": keep-alive\n\n");
        continue;
      }
      cursor = last.id;
      const text = position.events.map(eventFrame).join("");
      // The turn had ended before this read: these are its last events.
      if (!running) {
        outgoing.end(text);
        return;
      }
      if (!outgoing.write(text)) await waitForDrain();
    }
  };
  pump().catch((error: unknown) => outgoing.destroy(error instanceof Error ? error : new Error(String(error))));
}
