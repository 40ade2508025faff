import type { TurnStream } from "@lash/core";
import type { TurnResult } from "@lash/remote-protocol";
import { HttpError } from "../http/http-error.js";
import { TurnLog, type TurnLogLimits } from "./turn-log.js";

/** How a segment of a turn ended: with a result (an outcome, expected stops included), or a failure. */
export type TurnSettlement =
  | { readonly type: "result"; readonly result: TurnResult }
  | { readonly type: "error"; readonly error: HttpError };

/**
 * One turn as the server tracks it: its event log (kept after it ended, for readers that reattach),
 * whether it runs, and how its last segment ended. A turn that waited for approval and was resumed
 * keeps its record: the resumed segment's events go on in the same log.
 */
export class TurnRecord {
  readonly turnId: string;
  readonly sessionId: string;
  readonly log: TurnLog;
  /** The id of the `turn` event that opened the latest segment (0 before one started): where a reader of that segment starts. */
  segmentFirstEventId = 0;
  #running = false;
  #stream: TurnStream | undefined;
  #settlement: TurnSettlement | undefined;
  #settled: Promise<TurnSettlement> | undefined;
  #resolveSettled: ((settlement: TurnSettlement) => void) | undefined;

  constructor(turnId: string, sessionId: string, limits: TurnLogLimits) {
    this.turnId = turnId;
    this.sessionId = sessionId;
    this.log = new TurnLog(limits);
  }

  get running(): boolean {
    return this.#running;
  }

  /** How the last segment ended; `undefined` while the first one runs. */
  get settlement(): TurnSettlement | undefined {
    return this.#settlement;
  }

  /** Resolves when the running segment ends (at once when none runs). */
  settled(): Promise<TurnSettlement> {
    if (this.#settled !== undefined) return this.#settled;
    if (this.#settlement !== undefined) return Promise.resolve(this.#settlement);
    // A record whose only segment was refused before it started: there is no turn to wait for.
    return Promise.resolve({
      type: "error",
      error: new HttpError("turn_not_found", `turn ${this.turnId} never started`, { details: { turnId: this.turnId } }),
    });
  }

  /** A segment starts on `stream`. */
  begin(stream: TurnStream): void {
    this.#running = true;
    this.#stream = stream;
    this.#settled = new Promise((resolve) => {
      this.#resolveSettled = resolve;
    });
  }

  /** The running segment ended. Readers are woken to see that nothing more comes. */
  settle(settlement: TurnSettlement): void {
    this.#running = false;
    this.#stream = undefined;
    this.#settlement = settlement;
    this.#resolveSettled?.(settlement);
    this.#resolveSettled = undefined;
    this.#settled = undefined;
    this.log.wake();
  }

  /**
   * The segment was refused before its first event: nothing of it counts, and what earlier
   * segments left (a suspended turn's result) stays as it was.
   */
  refuse(failure: HttpError): void {
    this.#running = false;
    this.#stream = undefined;
    this.#resolveSettled?.({ type: "error", error: failure });
    this.#resolveSettled = undefined;
    this.#settled = undefined;
    this.log.wake();
  }

  /** Cancels the running segment (the library's `TurnStream.cancel`: the turn ends `cancelled`, what it produced is committed). */
  cancel(reason: string): void {
    this.#stream?.cancel(reason);
  }
}
