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

/** The cancellation of the options a turn stream passes on; kept out of the public options type. */
const cancellations = new WeakMap<object, TurnCancellation>();

/** `options` (copied) carrying `cancellation` to the turn. */
export function withCancellation<Options extends object>(options: Options, cancellation: TurnCancellation): Options {
  const carried = { ...options };
  cancellations.set(carried, cancellation);
  return carried;
}

/** The cancellation carried by `options`, if any. */
export function cancellationOf(options: object): TurnCancellation | undefined {
  return cancellations.get(options);
}
