/**
 * Who learns that a turn was aborted. Waiting on the turn's `AbortSignal` directly costs an
 * `EventTarget` listener per waiter (every model call, every tool call, every retry), added and
 * removed again; a turn keeps its waiters in a set instead and tells them itself.
 */
export interface AbortWatch {
  /** The turn's signal, as tools and providers see it. */
  readonly signal: AbortSignal;
  /**
   * Calls `listener` once when the turn aborts (at once when it already has). Returns what removes
   * it; a waiter removes itself when its work is over, so nothing outlives the work.
   */
  onAbort(listener: () => void): () => void;
}

function nothing(): void {}

/**
 * A turn's one abort controller: the host's cancel, the wall-time budget and a failed turn abort
 * it; model calls and tool calls watch it through `onAbort`.
 */
export class TurnAbort implements AbortWatch {
  readonly #controller = new AbortController();
  readonly #listeners = new Set<() => void>();

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  get aborted(): boolean {
    return this.#controller.signal.aborted;
  }

  /** Aborts the signal, then tells every waiter (once; later calls do nothing). */
  abort(reason?: unknown): void {
    if (this.#controller.signal.aborted) return;
    this.#controller.abort(reason);
    const listeners = [...this.#listeners];
    this.#listeners.clear();
    for (const listener of listeners) listener();
  }

  onAbort(listener: () => void): () => void {
    if (this.#controller.signal.aborted) {
      listener();
      return nothing;
    }
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }
}

/**
 * An `AbortWatch` over a plain signal, for callers that have no turn (a listener on the signal per
 * waiter, removed with it).
 */
export function watchSignal(signal: AbortSignal): AbortWatch {
  return {
    signal,
    onAbort(listener) {
      if (signal.aborted) {
        listener();
        return nothing;
      }
      signal.addEventListener("abort", listener, { once: true });
      return () => signal.removeEventListener("abort", listener);
    },
  };
}
