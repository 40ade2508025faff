import type { LlmRequest, LlmResponse, LlmStreamEvent, ModelProvider, ProviderFailure, ProviderRetryPolicy } from "@lash/protocol";
import { ProviderCallError } from "@lash/protocol";
import { classifyProviderFailure } from "@lash/provider-utils";
import { readProviderResponse } from "./response-validation.js";
import { streamEventProblem } from "./stream-event-validation.js";
import type { AbortWatch } from "./turn-abort.js";

/** How the runtime calls providers: retry policy, and the clock (so tests can use fake timers). */
export interface ProviderCallSettings {
  readonly retryPolicy: ProviderRetryPolicy;
  readonly sleep: (milliseconds: number, signal: AbortSignal) => Promise<void>;
  /** Random number in [0, 1) for jitter. */
  readonly random: () => number;
}

export type ProviderCallResult =
  | { readonly ok: true; readonly response: LlmResponse }
  | { readonly ok: false; readonly cancelled: boolean; readonly failure: ProviderFailure };

type StreamHandler = (event: LlmStreamEvent) => void | Promise<void>;

/**
 * Ends one call early without cancelling the turn (a stream hook saw what it needs, the output cap
 * was reached). The call then settles at once as cancelled; the provider's signal is the turn's and
 * stays as it is, so a streaming provider is released by ending the iteration (its `finally`), and a
 * `doComplete` provider by `emit` throwing on its next event.
 */
export class CallStop {
  #stopped = false;
  #listener: (() => void) | undefined;

  get stopped(): boolean {
    return this.#stopped;
  }

  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#listener?.();
  }

  /** @internal One listener, the running attempt's. */
  listen(listener: (() => void) | undefined): void {
    this.#listener = listener;
  }
}

/** What an attempt ends with when the turn aborted or the call was stopped: not a provider failure. */
const INTERRUPTED = new Error("the model call was interrupted");

/** An error thrown by the runtime's own stream consumer (a sink), carried through the provider. */
class ConsumerError extends Error {
  constructor(readonly original: unknown) {
    super("stream consumer failed");
  }
}

function invalidOutput(message: string): ProviderCallError {
  return new ProviderCallError({
    kind: "stream",
    message,
    retryable: false,
    terminalReason: "provider_error",
    code: "invalid_provider_output",
  });
}

function failureOf(error: unknown): ProviderFailure {
  if (ProviderCallError.isInstance(error)) return error.failure;
  const message = error instanceof Error ? error.message : `provider threw a non-error value: ${String(error)}`;
  return classifyProviderFailure({ kind: "unknown", message });
}

function validateResponse(response: unknown): LlmResponse {
  const reading = readProviderResponse(response);
  if (reading.ok) return reading.response;
  throw invalidOutput(`provider returned an invalid response ${reading.problem}`);
}

/** What an attempt watches besides the provider: the turn's abort and the call's own stop. */
interface AttemptControl {
  readonly abort: AbortWatch;
  readonly stop: CallStop | undefined;
}

function interrupted(control: AttemptControl): boolean {
  return control.abort.signal.aborted || control.stop?.stopped === true;
}

/** One attempt: `doComplete` with the emit callback, or `doStream` consumed to its final response. */
async function attempt(
  provider: ModelProvider,
  request: LlmRequest,
  control: AttemptControl,
  onEvent: StreamHandler,
): Promise<LlmResponse> {
  const signal = control.abort.signal;
  let settled = false;
  // Failures seen inside `emit` are remembered: a provider might swallow what `emit` throws.
  let streamFailure: ProviderCallError | undefined;
  let consumerFailure: ConsumerError | undefined;
  const consume = (event: LlmStreamEvent): void | Promise<void> => {
    try {
      const pending = onEvent(event);
      return pending !== undefined
        ? pending.catch((error: unknown) => {
            consumerFailure ??= new ConsumerError(error);
            throw consumerFailure;
          })
        : undefined;
    } catch (error) {
      consumerFailure ??= new ConsumerError(error);
      throw consumerFailure;
    }
  };
  const emit: StreamHandler = (event) => {
    // A stopped call tells a provider that still emits to end (its signal is the turn's).
    if (control.stop?.stopped === true && !settled) throw INTERRUPTED;
    // Events after the call settled (or after an abort) are stale: drop them.
    if (settled || signal.aborted) return undefined;
    if (streamFailure) throw streamFailure;
    const problem = streamEventProblem(event);
    if (problem) {
      streamFailure = invalidOutput(`provider streamed an invalid event: ${problem}`);
      throw streamFailure;
    }
    return consume(event);
  };
  const checked = (response: LlmResponse): LlmResponse => {
    if (consumerFailure) throw consumerFailure;
    if (streamFailure) throw streamFailure;
    return response;
  };
  try {
    if (provider.doComplete) return checked(validateResponse(await provider.doComplete(request, { signal, emit })));
    if (!provider.doStream) throw invalidOutput("provider implements neither doComplete nor doStream");
    let response: LlmResponse | undefined;
    // Leaving the loop early (abort, stop) ends the iteration: the provider releases its request.
    for await (const part of provider.doStream(request, { signal })) {
      if (interrupted(control)) break;
      if (response) throw invalidOutput("provider streamed events after its final response");
      if (typeof part === "object" && part !== null && part.type === "response") response = validateResponse(part.response);
      else {
        const pending = emit(part);
        if (pending !== undefined) await pending;
        if (interrupted(control)) break;
      }
    }
    if (interrupted(control)) throw INTERRUPTED;
    if (!response) throw invalidOutput("provider stream ended without a final response");
    return checked(response);
  } catch (error) {
    // A failing sink is the host's error, not the provider's: let it surface unchanged.
    if (consumerFailure) throw consumerFailure;
    throw error;
  } finally {
    settled = true;
  }
}

/**
 * Runs one attempt, but settles as soon as the turn aborts or the call is stopped, so a provider
 * that ignores both cannot hold the turn. The turn is watched through its waiter set, not with a
 * listener on its signal per attempt; both registrations end with the attempt.
 */
async function interruptible(
  provider: ModelProvider,
  request: LlmRequest,
  control: AttemptControl,
  onEvent: StreamHandler,
): Promise<LlmResponse> {
  let interrupt: () => void = () => {};
  const interruption = new Promise<never>((_, reject) => {
    interrupt = () => reject(INTERRUPTED);
  });
  const stopWatching = control.abort.onAbort(interrupt);
  control.stop?.listen(interrupt);
  try {
    return await Promise.race([attempt(provider, request, control, onEvent), interruption]);
  } finally {
    stopWatching();
    control.stop?.listen(undefined);
  }
}

function retryDelay(policy: ProviderRetryPolicy, failure: ProviderFailure, attemptIndex: number, random: () => number): number {
  if (failure.retryAfterMs !== undefined) return Math.min(failure.retryAfterMs, policy.retryAfterCapMs);
  const backoff = Math.min(policy.baseDelayMs * 2 ** attemptIndex, policy.maxDelayMs);
  return backoff + (policy.jitterMs > 0 ? Math.floor(random() * policy.jitterMs) : 0);
}

/**
 * Calls a provider with the retry policy (the one place where provider calls are retried). Before
 * each wait it streams a `retry_status` event. Returns a result value; it never throws for provider
 * failures (only for bugs in `onEvent`). The provider sees the turn's signal; `stop` ends the call
 * early without cancelling the turn (the result is then `cancelled`).
 */
export async function callProvider(
  provider: ModelProvider,
  request: LlmRequest,
  abort: AbortWatch,
  onEvent: StreamHandler,
  settings: ProviderCallSettings,
  stop?: CallStop,
): Promise<ProviderCallResult> {
  const control: AttemptControl = { abort, stop };
  const policy = settings.retryPolicy;
  const attempts = policy.enabled ? Math.max(1, policy.maxAttempts) : 1;
  const cancelledFailure: ProviderFailure = {
    kind: "unknown",
    message: "cancelled",
    retryable: false,
    terminalReason: "cancelled",
    code: "cancelled",
  };
  for (let attemptIndex = 0; ; attemptIndex += 1) {
    if (interrupted(control)) return { ok: false, cancelled: true, failure: cancelledFailure };
    let failure: ProviderFailure;
    try {
      const response = await interruptible(provider, request, control, onEvent);
      return { ok: true, response };
    } catch (error) {
      if (error instanceof ConsumerError) throw error.original;
      if (interrupted(control)) return { ok: false, cancelled: true, failure: cancelledFailure };
      failure = failureOf(error);
    }
    if (attemptIndex + 1 >= attempts || !failure.retryable) return { ok: false, cancelled: false, failure };
    const delay = retryDelay(policy, failure, attemptIndex, settings.random);
    const pending = onEvent({
      type: "retry_status",
      waitSeconds: Math.floor(delay / 1000),
      attempt: attemptIndex + 1,
      maxAttempts: attempts,
      reason: failure.message,
    });
    if (pending !== undefined) await pending;
    try {
      await settings.sleep(delay, abort.signal);
    } catch {
      return { ok: false, cancelled: true, failure: cancelledFailure };
    }
  }
}

/** A sleep that rejects when `signal` aborts (uses the global timers, so fake timers apply). */
export function abortableSleep(milliseconds: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(new Error("aborted"));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new Error("aborted"));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, milliseconds);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
