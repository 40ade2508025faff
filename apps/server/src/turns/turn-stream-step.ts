import { eventFrame, expiredEventsFrame } from "./turn-log.js";
import type { TurnRecord } from "./turn-record.js";

/**
 * What a reader of a turn's stream sends next: the frames of the events logged after its cursor
 * (`last` when the turn had ended before they were read: nothing follows), a keep-alive after
 * `heartbeatMs` without events, the end (with the `events_expired` error frame when the reader
 * asked for events no longer kept), or nothing because the reader went away.
 */
export type TurnStreamStep =
  | { readonly type: "frames"; readonly text: string; readonly cursor: number; readonly last: boolean }
  | { readonly type: "keep_alive" }
  | { readonly type: "end"; readonly text: string }
  | { readonly type: "stopped" };

/** Resolves after `ms`, or at once when `signal` aborts; the timer never keeps the process alive. */
export function idleTimer(ms: number, signal: AbortSignal): { readonly fired: Promise<void>; cancel(): void } {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const fired = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
    timer.unref();
    onAbort = resolve;
    signal.addEventListener("abort", onAbort, { once: true });
  });
  return {
    fired,
    cancel: () => {
      clearTimeout(timer);
      if (onAbort !== undefined) signal.removeEventListener("abort", onAbort);
    },
  };
}

/**
 * What a reader at `cursor` can send now, without waiting: the frames logged after it (`last` when
 * the turn had ended before they were read: nothing follows), or the end (with the
 * `events_expired` error frame when the reader asked for events no longer kept); `undefined` when
 * nothing was logged since and the turn runs. The one place both ways of writing a turn's stream
 * (the web body, through `nextTurnStreamStep`, and the Node writer) read the log.
 */
export function readTurnStream(
  record: TurnRecord,
  cursor: number,
): Extract<TurnStreamStep, { type: "frames" } | { type: "end" }> | undefined {
  const running = record.running;
  const position = record.log.read(cursor, running);
  if (position.type === "expired") return { type: "end", text: expiredEventsFrame(cursor, position.oldestKeptId) };
  const events = position.events;
  const last = events.at(-1);
  if (last === undefined) return running ? undefined : { type: "end", text: "" };
  let text = "";
  for (const event of events) text += eventFrame(event);
  return { type: "frames", text, cursor: last.id, last: !running };
}

/**
 * The next step of a reader at `cursor`, waiting for events when there are none yet. `signal`
 * aborts when the reader goes away, which also ends a wait for events.
 */
export async function nextTurnStreamStep(
  record: TurnRecord,
  cursor: number,
  heartbeatMs: number,
  signal: AbortSignal,
): Promise<TurnStreamStep> {
  for (;;) {
    if (signal.aborted) return { type: "stopped" };
    const step = readTurnStream(record, cursor);
    if (step !== undefined) return step;
    const more = record.log.waitForMore();
    const timer = idleTimer(heartbeatMs, signal);
    const woke = await Promise.race([more.then(() => "event" as const), timer.fired.then(() => "idle" as const)]);
    timer.cancel();
    if (woke === "idle" && !signal.aborted) return { type: "keep_alive" };
  }
}
