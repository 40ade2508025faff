import type { AssembledTurn, TurnActivity, TurnActivitySink } from "@lash/protocol";

/**
 * The activities of one turn, in order, kept for the turn's lifetime. Readers start at the first
 * activity whenever they start, so a consumer that begins late, or reads slowly, misses nothing;
 * and the turn never waits for a reader: everything a reader has not taken yet stays here. That
 * is at most the turn's own activities, which the turn produced anyway. A host that wants the turn
 * to wait for it (back-pressure) passes an `activities` sink instead: the turn awaits a sink's
 * promise before going on.
 */
class ActivityLog {
  readonly #activities: TurnActivity[] = [];
  #ended = false;
  #failure: { readonly error: unknown } | undefined;
  #wake: (() => void)[] = [];

  push(activity: TurnActivity): void {
    this.#activities.push(activity);
    this.#notify();
  }

  end(failure?: { readonly error: unknown }): void {
    this.#ended = true;
    this.#failure = failure;
    this.#notify();
  }

  #notify(): void {
    if (this.#wake.length === 0) return;
    const waiting = this.#wake;
    this.#wake = [];
    for (const wake of waiting) wake();
  }

  /** Activity `index` when it is already logged, else `undefined`. */
  ready(index: number): TurnActivity | undefined {
    return this.#activities[index];
  }

  /** Activity `index`, or `undefined` once the turn ended before it (a failed turn throws its error). */
  async at(index: number): Promise<TurnActivity | undefined> {
    for (;;) {
      const activity = this.#activities[index];
      if (activity !== undefined) return activity;
      if (this.#ended) {
        if (this.#failure !== undefined) throw this.#failure.error;
        return undefined;
      }
      await new Promise<void>((resolve) => this.#wake.push(resolve));
    }
  }
}

/**
 * The assembled turn, with `output` typed by the turn's output schema (`undefined` unless the turn
 * asked for structured output and finished with an answer the schema accepted).
 */
export type TurnResult<Output = unknown> = Omit<AssembledTurn, "output"> & { readonly output?: Output };

/** What the runtime hands a `TurnStream`: the running turn and a way to stop it. */
export interface TurnStreamSource {
  readonly result: Promise<AssembledTurn>;
  readonly cancel: (reason?: unknown) => void;
}

/**
 * A running turn, returned at once by `runtime.streamTurn(...)`:
 * - `for await (const activity of turn)`: every `TurnActivity`, in order;
 * - `turn.textStream`: the text the model streams (`text_delta` activities), as strings;
 * - `await turn` or `await turn.result`: the assembled turn (expected stops are values in its
 *   `outcome`; only infrastructure failures reject, and a reader then throws the same error after
 *   the activities produced before it), with `output` typed by the turn's output schema;
 * - `turn.toReadableStream()`: the activities as a web `ReadableStream`, for frameworks;
 * - `turn.cancel(reason?)`: ends the turn `cancelled`, with what it produced committed.
 *
 * The turn runs whether or not anyone reads. Each reader starts at the first activity and never
 * misses one; the turn never waits for a reader (see `ActivityLog`). Leaving a `for await` early
 * stops that reader only: the turn goes on (use `cancel` to stop it).
 */
export class TurnStream<Output = unknown> implements AsyncIterable<TurnActivity>, PromiseLike<TurnResult<Output>> {
  /** The assembled turn, once it is committed. */
  readonly result: Promise<TurnResult<Output>>;
  readonly #log: ActivityLog;
  readonly #cancel: (reason?: unknown) => void;

  /** @internal The runtime creates turn streams (`runtime.streamTurn`). */
  constructor(start: (activities: TurnActivitySink) => TurnStreamSource) {
    const log = new ActivityLog();
    this.#log = log;
    const source = start({ emit: (activity) => log.push(activity) });
    this.#cancel = source.cancel;
    this.result = source.result.then(
      (turn) => {
        log.end();
        return turn as TurnResult<Output>;
      },
      (error: unknown) => {
        log.end({ error });
        throw error;
      },
    );
    // A caller that only reads the activities learns of a failure from its reader; the promise must
    // not also surface as an unhandled rejection.
    this.result.catch(() => undefined);
  }

  // biome-ignore lint/suspicious/noThenProperty: a turn stream is awaitable on purpose (`await runtime.streamTurn(...)`).
  then<Fulfilled = TurnResult<Output>, Rejected = never>(
    onFulfilled?: ((turn: TurnResult<Output>) => Fulfilled | PromiseLike<Fulfilled>) | null,
    onRejected?: ((reason: unknown) => Rejected | PromiseLike<Rejected>) | null,
  ): Promise<Fulfilled | Rejected> {
    return this.result.then(onFulfilled, onRejected);
  }

  /** Ends the turn `cancelled`: the provider call and running tools see the abort. */
  cancel(reason?: unknown): void {
    this.#cancel(reason);
  }

  [Symbol.asyncIterator](): AsyncIterator<TurnActivity> {
    const log = this.#log;
    let index = 0;
    let done = false;
    const step = (activity: TurnActivity | undefined): IteratorResult<TurnActivity> => {
      if (activity === undefined) {
        done = true;
        return { done: true, value: undefined };
      }
      index += 1;
      return { done: false, value: activity };
    };
    return {
      next(): Promise<IteratorResult<TurnActivity>> {
        if (done) return Promise.resolve({ done: true, value: undefined });
        // An activity already logged is handed over without waiting: a reader that keeps up pays
        // one resolved promise per activity, the least an async iterator can cost.
        const ready = log.ready(index);
        if (ready !== undefined) return Promise.resolve(step(ready));
        return log.at(index).then(step);
      },
      return(): Promise<IteratorResult<TurnActivity>> {
        done = true;
        return Promise.resolve({ done: true, value: undefined });
      },
    };
  }

  /** The text the model streams, piece by piece (every `text_delta` of every model call). */
  get textStream(): AsyncIterable<string> {
    const activities = this;
    return {
      async *[Symbol.asyncIterator]() {
        for await (const activity of activities) if (activity.type === "text_delta") yield activity.text;
      },
    };
  }

  /**
   * The activities as a web `ReadableStream` (objects, not bytes). Cancelling the stream stops
   * reading, not the turn.
   */
  toReadableStream(): ReadableStream<TurnActivity> {
    const iterator = this[Symbol.asyncIterator]();
    return new ReadableStream<TurnActivity>({
      async pull(controller) {
        try {
          const next = await iterator.next();
          if (next.done) controller.close();
          else controller.enqueue(next.value);
        } catch (error) {
          controller.error(error);
        }
      },
      async cancel() {
        await iterator.return?.();
      },
    });
  }
}
