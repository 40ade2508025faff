import type { ServerResponse } from "node:http";
import { KEEP_ALIVE_FRAME } from "../http/event-stream-headers.js";
import type { TurnRecord } from "./turn-record.js";
import { readTurnStream } from "./turn-stream-step.js";

/**
 * Writes the turn's events after `afterId` straight to a Node response whose head is set (status
 * and headers, not yet sent), as `eventStreamResponse` does through a web stream: those already
 * logged, then the new ones, until the turn is no longer running and everything was sent.
 *
 * The writer follows the log (`TurnLog.subscribe`) rather than waiting on it event by event: an
 * append only schedules a pass for the end of the current turn of the event loop (`setImmediate`),
 * and that pass sends everything logged since the last one in one write. A burst of events (a
 * scripted or cached model streams all its deltas at once) is one write, and the head goes out
 * with the first events and the last ones with the end of the response, so a short turn costs the
 * socket one write. A slow client is waited for (`drain`) while the log keeps the events; one
 * timer, pushed back by every write, sends a keep-alive comment after `heartbeatMs` without one.
 * A client that goes away stops this writer only (the turn goes on: it detached).
 */
export function writeEventStream(outgoing: ServerResponse, record: TurnRecord, afterId: number, heartbeatMs: number): void {
  let cursor = afterId;
  let stopped = false;
  let waitingForDrain = false;
  let scheduled: NodeJS.Immediate | undefined;

  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    unsubscribe();
    clearTimeout(heartbeat);
    if (scheduled !== undefined) clearImmediate(scheduled);
    outgoing.off("close", stop);
    outgoing.off("drain", onDrain);
  };
  const end = (text: string): void => {
    stop();
    outgoing.end(text);
  };
  /** Ends the response on a failure of this writer's own (never expected): the process goes on. */
  const fail = (error: unknown): void => {
    stop();
    outgoing.destroy(error instanceof Error ? error : new Error(String(error)));
  };
  const pass = (): void => {
    scheduled = undefined;
    try {
      writePass();
    } catch (error) {
      fail(error);
    }
  };
  const writePass = (): void => {
    if (stopped) return;
    if (outgoing.destroyed) {
      stop();
      return;
    }
    const step = readTurnStream(record, cursor);
    if (step === undefined) return;
    if (step.type === "end" || step.last) {
      end(step.text);
      return;
    }
    cursor = step.cursor;
    heartbeat.refresh();
    if (!outgoing.write(step.text)) {
      waitingForDrain = true;
      outgoing.once("drain", onDrain);
    }
  };
  const schedule = (): void => {
    if (!stopped && !waitingForDrain && scheduled === undefined) scheduled = setImmediate(pass);
  };
  const onDrain = (): void => {
    waitingForDrain = false;
    schedule();
  };
  const keepAlive = (): void => {
    if (stopped || outgoing.destroyed) {
      stop();
      return;
    }
    try {
      // A client that has not taken the last write yet needs no keep-alive.
      if (!waitingForDrain) outgoing.write(KEEP_ALIVE_FRAME);
      heartbeat.refresh();
    } catch (error) {
      fail(error);
    }
  };

  const heartbeat = setTimeout(keepAlive, heartbeatMs);
  heartbeat.unref();
  const unsubscribe = record.log.subscribe(schedule);
  // A client that goes away (or left before the head was written) stops this writer only.
  outgoing.once("close", stop);
  if (outgoing.destroyed) stop();
  else schedule();
}
