import type { ProviderFailure } from "@lash/protocol";
import { ProviderCallError } from "@lash/protocol";
import { classifyProviderFailure } from "./provider-failure-classifier.js";
import type { ProviderTimeouts } from "./provider-timeouts.js";

/** Options of `startRequestDeadline`. */
export interface RequestDeadlineOptions {
  /** Resolved timeouts (see `resolveProviderTimeouts`); `null` disables one. */
  readonly timeouts: ProviderTimeouts;
  /** The caller's signal (`ProviderCallOptions.signal`); its abort aborts the deadline's signal too. */
  readonly signal?: AbortSignal;
}

/**
 * The timeouts of one HTTP attempt, folded into one `AbortSignal` to hand to `fetch` or an SDK.
 *
 * Lifecycle: start it right before sending the request, call `responseStarted()` once the status
 * and headers arrived, `chunkReceived()` for every piece of the body, and `dispose()` in a
 * `finally` (it clears the timers and detaches from the caller's signal; calling it again is a no-op).
 */
export interface RequestDeadline {
  /**
   * Aborts when the caller's signal aborts (with the caller's reason), when no response started
   * within `requestTimeoutMs`, or when no chunk arrived within `chunkTimeoutMs` of the previous one
   * (or of the response start). A timeout aborts with a `ProviderCallError` carrying the failure
   * `timedOut()` returns.
   */
  readonly signal: AbortSignal;
  /** The status line and headers arrived: stops the request timer and starts the chunk timer. Idempotent. */
  responseStarted(): void;
  /** A piece of the body arrived: restarts the chunk timer (and counts as the response start if that was not reported). */
  chunkReceived(): void;
  /**
   * The `timeout` failure (retryable, code `timeout`) when one of the timeouts fired, else
   * `undefined` (also when the caller aborted). Throw `new ProviderCallError(failure)` with it
   * instead of the SDK's abort error.
   */
  timedOut(): ProviderFailure | undefined;
  /** Clears every timer and stops listening to the caller's signal. Idempotent. */
  dispose(): void;
}

type TimerHandle = ReturnType<typeof setTimeout>;

function timeoutFailure(message: string): ProviderFailure {
  return classifyProviderFailure({ kind: "timeout", code: "timeout", message, retryable: true });
}

/**
 * Starts the deadline of one HTTP attempt (see `RequestDeadline`). Timers use the global
 * `setTimeout`, so fake timers (vitest `vi.useFakeTimers()`) drive them in tests.
 *
 * @example
 * const deadline = startRequestDeadline({ timeouts, signal: options.signal });
 * try {
 *   const response = await fetch(url, { ...init, signal: deadline.signal });
 *   deadline.responseStarted();
 *   for await (const chunk of response.body) { deadline.chunkReceived(); ... }
 * } catch (error) {
 *   const timeout = deadline.timedOut();
 *   if (timeout !== undefined) throw new ProviderCallError(timeout);
 *   throw new ProviderCallError(providerFailureFromTransport(error, { signal: options.signal }));
 * } finally {
 *   deadline.dispose();
 * }
 */
export function startRequestDeadline(options: RequestDeadlineOptions): RequestDeadline {
  const { timeouts, signal: callerSignal } = options;
  const controller = new AbortController();
  let timer: TimerHandle | undefined;
  let started = false;
  let disposed = false;
  let failure: ProviderFailure | undefined;

  const clearTimer = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
  };
  const fire = (message: string): void => {
    timer = undefined;
    if (controller.signal.aborted || disposed) return;
    failure = timeoutFailure(message);
    controller.abort(new ProviderCallError(failure));
  };
  const arm = (delayMs: number | null, message: string): void => {
    clearTimer();
    if (delayMs === null || disposed || controller.signal.aborted) return;
    timer = setTimeout(() => fire(message), delayMs);
  };
  const onCallerAbort = (): void => {
    clearTimer();
    if (!controller.signal.aborted) controller.abort(callerSignal?.reason);
  };

  if (callerSignal?.aborted === true) {
    controller.abort(callerSignal.reason);
  } else {
    callerSignal?.addEventListener("abort", onCallerAbort, { once: true });
    arm(timeouts.requestTimeoutMs, `the provider did not start its response within ${timeouts.requestTimeoutMs} ms (requestTimeoutMs)`);
  }

  const armChunkTimer = (): void =>
    arm(timeouts.chunkTimeoutMs, `the provider sent no stream chunk for ${timeouts.chunkTimeoutMs} ms (chunkTimeoutMs)`);

  return {
    signal: controller.signal,
    responseStarted(): void {
      if (started) return;
      started = true;
      armChunkTimer();
    },
    chunkReceived(): void {
      started = true;
      armChunkTimer();
    },
    timedOut(): ProviderFailure | undefined {
      return failure;
    },
    dispose(): void {
      if (disposed) return;
      disposed = true;
      clearTimer();
      callerSignal?.removeEventListener("abort", onCallerAbort);
    },
  };
}
