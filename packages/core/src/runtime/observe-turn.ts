import type { AssembledTurn, EventSink, TurnActivity, TurnInput } from "@lash/protocol";
import { type Observable, ReplaySubject } from "rxjs";
import type { LashRuntime } from "./lash-runtime.js";

/** A running turn as an observable of activities plus the result. */
export interface ObservedTurn {
  /**
   * Every activity of the turn, replayed to late subscribers, completing when the turn ends (or
   * erroring with the turn's error).
   */
  readonly activities$: Observable<TurnActivity>;
  readonly result: Promise<AssembledTurn>;
}

/**
 * Starts a turn and exposes its activities as an rxjs `Observable`. The turn starts at once; the
 * activities are buffered for the turn's lifetime so no subscriber misses any.
 */
export function observeTurn(
  runtime: LashRuntime,
  input: TurnInput,
  options: { readonly signal?: AbortSignal; readonly events?: EventSink } = {},
): ObservedTurn {
  const subject = new ReplaySubject<TurnActivity>();
  const result = runtime.streamTurn(input, {
    ...options,
    activities: { emit: (activity) => subject.next(activity) },
  });
  result.then(
    () => subject.complete(),
    (error: unknown) => subject.error(error),
  );
  // The caller may only subscribe to the observable; the promise's rejection is reported there too.
  result.catch(() => undefined);
  return { activities$: subject.asObservable(), result };
}
