import type { ServerResponse } from "node:http";
import { performance } from "node:perf_hooks";
// The module's timers, not the globals: a test that installs fake timers (for the adapter's own
// deadlines) must not freeze the server that plays the script in the same process.
import { clearTimeout, setTimeout } from "node:timers";
import type { WireScriptEvent } from "./wire-script-schema.js";

/** How an exchange ended, as seen by the server. */
export type ExchangeOutcome =
  /** Still playing, or holding the connection open after a `timeout` event. */
  | "pending"
  /** The response ended normally (`end`, `http_error`, or a rejected request's 500). */
  | "completed"
  /** The script's `disconnect` event destroyed the socket. */
  | "server_disconnected"
  /** The client closed the connection before the response ended (an abort or the adapter's timeout). */
  | "client_closed"
  /** `close()` shut the server down while the exchange was still open. */
  | "server_closed";

/** The state one exchange shares with its recorded request. */
export interface PlaybackState {
  outcome: ExchangeOutcome;
  eventsPlayed: number;
  /** True once a `timeout` event left the connection open on purpose. */
  heldOpen: boolean;
}

/** Stops a playback early (the client went away or the server is closing). */
export interface PlaybackControl {
  readonly stopped: () => boolean;
  /** Registers the pending wait so that a stop can cut it short. */
  readonly onWait: (cancel: (() => void) | undefined) => void;
}

function sleep(milliseconds: number, control: PlaybackControl): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      control.onWait(undefined);
      resolve();
    }, milliseconds);
    control.onWait(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/**
 * Runs one write or end and resolves once Node handed the bytes to the socket (so a later
 * `destroy` cannot drop them), or once the response closed (a write to a closed socket may never
 * call back).
 */
function settle(response: ServerResponse, send: (done: () => void) => void): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      response.off("close", done);
      resolve();
    };
    response.once("close", done);
    send(done);
  });
}

function write(response: ServerResponse, chunk: string | Uint8Array): Promise<void> {
  return settle(response, (done) => response.write(chunk, () => done()));
}

function end(response: ServerResponse, chunk?: string): Promise<void> {
  return settle(response, (done) => {
    if (chunk === undefined) response.end(() => done());
    else response.end(chunk, () => done());
  });
}

function headerList(headers: readonly { readonly name: string; readonly value: string }[]): string[] {
  // A flat [name, value, name, value] list keeps repeated names (two `x-request-id`s) as sent.
  return headers.flatMap((header) => [header.name, header.value]);
}

function startResponse(
  response: ServerResponse,
  status: number,
  headers: readonly { readonly name: string; readonly value: string }[],
): void {
  response.writeHead(status, headerList(headers));
  response.flushHeaders();
}

/**
 * Plays `timeline` on `response`: waits until each event's `at` (scaled by `timeScale`, counted
 * from `arrivedAt`, a `performance.now()` time) and sends exactly what the event says.
 */
export async function playTimeline(
  timeline: readonly WireScriptEvent[],
  response: ServerResponse,
  options: { readonly arrivedAt: number; readonly timeScale: number; readonly state: PlaybackState; readonly control: PlaybackControl },
): Promise<void> {
  const { state, control } = options;
  let previousAt = 0;
  for (const event of timeline) {
    const due = options.arrivedAt + event.at * options.timeScale;
    // Events recorded apart stay apart even when playback runs late: a wait, however short, lets
    // the client read what was sent before the next piece goes out, so TCP does not merge pieces
    // that the script sends separately (a UTF-8 character split across two chunks, for example).
    const shortest = event.at > previousAt && options.timeScale > 0 ? 1 : 0;
    previousAt = event.at;
    const wait = Math.max(due - performance.now(), shortest);
    if (wait > 0) await sleep(wait, control);
    if (control.stopped()) return;
    switch (event.event) {
      case "response_start":
        startResponse(response, event.status, event.headers);
        break;
      case "sse":
        await write(response, `data: ${event.data}\n\n`);
        break;
      case "chunk":
        await write(response, event.bytes === undefined ? Buffer.from(event.data ?? "", "utf8") : Uint8Array.from(event.bytes));
        break;
      case "body":
        if (!response.headersSent) startResponse(response, 200, []);
        await write(response, event.data);
        break;
      case "end":
        if (!response.headersSent) startResponse(response, 200, []);
        state.eventsPlayed += 1;
        await end(response);
        return;
      case "http_error":
        response.writeHead(event.status, headerList(event.headers));
        state.eventsPlayed += 1;
        await end(response, event.body);
        return;
      case "disconnect":
        state.eventsPlayed += 1;
        state.outcome = "server_disconnected";
        response.socket?.destroy();
        return;
      case "timeout":
        state.eventsPlayed += 1;
        state.heldOpen = true;
        return;
    }
    state.eventsPlayed += 1;
  }
  // A timeline without a closing event: end the response rather than leave the client hanging.
  if (!control.stopped() && !response.writableEnded) {
    if (!response.headersSent) startResponse(response, 200, []);
    await end(response);
  }
}
