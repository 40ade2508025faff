/**
 * A turn stream's `cancel`, which may come before the turn it cancels has its context (or after it
 * ended). The turn binds its abort here; a cancel before that is kept and applied when it binds.
 * The stream so needs neither an `AbortController` of its own nor a listener on the host's signal:
 * the turn's one controller serves both.
 */
export class TurnCancellation {
  #pending: { readonly reason: unknown } | undefined;
  #abort: ((reason: unknown) => void) | undefined;

  cancel(reason?: unknown): void {
    if (this.#abort !== undefined) this.#abort(reason);
    else this.#pending ??= { reason };
  }

  /** The running turn takes cancels from now on (a kept one at once); the returned function ends that. */
  bind(abort: (reason: unknown) => void): () => void {
    this.#abort = abort;
    const pending = this.#pending;
    this.#pending = undefined;
    if (pending !== undefined) abort(pending.reason);
    return () => {
      if (this.#abort === abort) this.#abort = undefined;
    };
  }
}

/**
 * The cancellation of the options a turn stream passes on, kept out of the public options type: a
 * symbol-keyed property that is not enumerable, so a spread or a JSON copy of the options leaves it
 * behind (as a weak map would), without a weak map entry per turn for the garbage collector.
 */
const CANCELLATION = Symbol("lash.turnCancellation");

type CarriesCancellation = { readonly [CANCELLATION]?: TurnCancellation };

/** `options` (which the caller made for this turn) carrying `cancellation` to the turn. */
export function withCancellation<Options extends object>(options: Options, cancellation: TurnCancellation): Options {
  Object.defineProperty(options, CANCELLATION, { value: cancellation });
  return options;
}

/** The cancellation carried by `options`, if any. */
export function cancellationOf(options: object): TurnCancellation | undefined {
  return (options as CarriesCancellation)[CANCELLATION];
}
