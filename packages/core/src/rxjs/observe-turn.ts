import type { AssembledTurn, TurnActivity, TurnInput } from "@lash/protocol";
import { from, type Observable } from "rxjs";
import type { LashRuntime } from "../runtime/lash-runtime.js";
import type { TurnStream } from "../runtime/turn-stream.js";
import type { TurnRunOptions } from "../turn/run-turn.js";

/** A running turn as an observable of activities plus the result. */
export interface ObservedTurn {
  /**
   * Every activity of the turn, from the first one for every subscriber (however late it
   * subscribes), completing when the turn ends or erroring with the turn's error.
   */
  readonly activities$: Observable<TurnActivity>;
  readonly result: Promise<AssembledTurn>;
}

/** The activities of a running turn as an rxjs `Observable` (each subscriber reads from the first one). */
export function activitiesOf(turn: TurnStream): Observable<TurnActivity> {
  // The stream itself is awaitable, and rxjs would take it for a promise of the result: hand it the
  // activities as a plain async iterable.
  const activities: AsyncIterable<TurnActivity> = { [Symbol.asyncIterator]: () => turn[Symbol.asyncIterator]() };
  return from(activities);
}

/** Starts a turn and exposes its activities as an rxjs `Observable`. The turn starts at once. */
export function observeTurn(runtime: LashRuntime, input: TurnInput | string, options: TurnRunOptions = {}): ObservedTurn {
  const turn = runtime.streamTurn(input, options);
  return { activities$: activitiesOf(turn), result: turn.result };
}
