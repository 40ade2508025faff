import type {
  LlmRequest,
  LlmResponse,
  LlmStreamEvent,
  LlmStreamPart,
  ModelProvider,
  ProviderCallOptions,
  ProviderFailure,
  ProviderFailureInput,
  ProviderRetryPolicy,
} from "@lash/protocol";
import { classifyProviderFailure, MODEL_PROVIDER_SPECIFICATION_VERSION, ProviderCallError } from "@lash/protocol";

/** A pause between scripted stream events (honours the abort signal; fake timers control it). */
export interface ScriptedSleep {
  readonly type: "sleep";
  readonly ms: number;
}

export type ScriptedEvent = LlmStreamEvent | ScriptedSleep;

/**
 * One scripted model call: stream `events`, then return `response` (missing fields default to an
 * empty `stop` response) or throw `error`.
 */
export interface ScriptedStep {
  readonly events?: readonly ScriptedEvent[];
  readonly response?: Partial<LlmResponse>;
  /** A classified failure (`ProviderCallError`), failure details to classify, or any error thrown as is. */
  readonly error?: ProviderFailure | ProviderFailureInput | Error;
  /** Wait this long before the first event. */
  readonly delayMs?: number;
  /** Called with the request before anything is streamed (assert on it here). */
  readonly expect?: (request: LlmRequest) => void;
}

export interface ScriptedProviderOptions {
  readonly providerId?: string;
  readonly defaultModel?: string;
  readonly inputUsageExcludesCachedTokens?: boolean;
  /** `complete` implements `doComplete` (the default), `stream` implements `doStream`. */
  readonly mode?: "complete" | "stream";
  readonly retryPolicy?: ProviderRetryPolicy;
  /** Start the script over when it runs out (for benchmarks). */
  readonly repeat?: boolean;
  /** Keep a copy of every request in `requests` (default true; benchmarks turn it off). */
  readonly recordRequests?: boolean;
}

/** Thrown when the provider gets a call its script has no step for. */
export class UnexpectedModelCallError extends Error {
  readonly callNumber: number;

  constructor(callNumber: number, request: LlmRequest) {
    super(`unexpected model call #${callNumber}: the script has no step left (last user text: ${JSON.stringify(lastUserText(request))})`);
    this.name = "UnexpectedModelCallError";
    this.callNumber = callNumber;
  }
}

/** Thrown by `assertAllConsumed` when scripted steps were never used. */
export class UnconsumedScriptError extends Error {
  readonly remaining: number;

  constructor(remaining: number) {
    super(`${remaining} scripted model call${remaining === 1 ? " was" : "s were"} never made`);
    this.name = "UnconsumedScriptError";
    this.remaining = remaining;
  }
}

function lastUserText(request: LlmRequest): string {
  for (let index = request.messages.length - 1; index >= 0; index -= 1) {
    const message = request.messages[index];
    if (message?.role !== "user") continue;
    return message.blocks.map((block) => (block.type === "text" ? block.text : block.type === "tool_result" ? block.content : "")).join("");
  }
  return "";
}

function abortError(): Error {
  const error = new Error("the call was aborted");
  error.name = "AbortError";
  return error;
}

function sleep(milliseconds: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(abortError());
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortError());
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, milliseconds);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

function isClassified(error: ProviderFailure | ProviderFailureInput): error is ProviderFailure {
  return typeof (error as ProviderFailure).retryable === "boolean" && typeof (error as ProviderFailure).kind === "string" && "terminalReason" in error;
}

function toResponse(partial: Partial<LlmResponse> | undefined): LlmResponse {
  return {
    fullText: partial?.fullText ?? "",
    parts: partial?.parts ? partial.parts.map((part) => ({ ...part })) : [],
    usage: { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, reasoningTokens: 0, ...partial?.usage },
    terminalReason: partial?.terminalReason ?? "stop",
    ...(partial?.terminalDiagnostic === undefined ? {} : { terminalDiagnostic: partial.terminalDiagnostic }),
    ...(partial?.providerUsage === undefined ? {} : { providerUsage: partial.providerUsage }),
  };
}

function failureToThrow(error: ProviderFailure | ProviderFailureInput | Error): Error {
  if (error instanceof Error) return error;
  return new ProviderCallError(isClassified(error) ? error : classifyProviderFailure(error));
}

/**
 * A `ModelProvider` that plays a script: one step per call, in order. It records every request,
 * fails loudly on a call it has no step for, and can assert that every step was used.
 */
export class ScriptedProvider implements ModelProvider {
  readonly specificationVersion = MODEL_PROVIDER_SPECIFICATION_VERSION;
  readonly providerId: string;
  readonly defaultModel: string | undefined;
  readonly inputUsageExcludesCachedTokens: boolean;
  readonly retryPolicy: ProviderRetryPolicy | undefined;
  /** Every request received, in order (copies). */
  readonly requests: LlmRequest[] = [];
  /** Calls that arrived after the script ran out. */
  readonly unexpectedCalls: UnexpectedModelCallError[] = [];
  readonly doComplete?: (request: LlmRequest, options: ProviderCallOptions) => Promise<LlmResponse>;
  readonly doStream?: (request: LlmRequest, options: { readonly signal: AbortSignal }) => AsyncIterable<LlmStreamPart>;
  readonly #steps: readonly ScriptedStep[];
  readonly #repeat: boolean;
  readonly #recordRequests: boolean;
  #next = 0;
  #calls = 0;

  constructor(steps: readonly ScriptedStep[], options: ScriptedProviderOptions = {}) {
    this.#steps = [...steps];
    this.#repeat = options.repeat ?? false;
    this.#recordRequests = options.recordRequests ?? true;
    this.providerId = options.providerId ?? "scripted";
    this.defaultModel = options.defaultModel ?? "scripted-model";
    this.inputUsageExcludesCachedTokens = options.inputUsageExcludesCachedTokens ?? false;
    this.retryPolicy = options.retryPolicy;
    if (options.mode === "stream") this.doStream = (request, callOptions) => this.#stream(request, callOptions.signal);
    else this.doComplete = (request, callOptions) => this.#complete(request, callOptions);
  }

  get callCount(): number {
    return this.#calls;
  }

  get remainingSteps(): number {
    return this.#repeat ? Number.POSITIVE_INFINITY : this.#steps.length - this.#next;
  }

  assertAllConsumed(): void {
    if (!this.#repeat && this.#next < this.#steps.length) throw new UnconsumedScriptError(this.#steps.length - this.#next);
  }

  #take(request: LlmRequest): ScriptedStep {
    this.#calls += 1;
    if (this.#recordRequests) this.requests.push(structuredClone(request));
    if (this.#next >= this.#steps.length && this.#repeat && this.#steps.length > 0) this.#next = 0;
    const step = this.#steps[this.#next];
    if (!step) {
      const error = new UnexpectedModelCallError(this.#calls, request);
      this.unexpectedCalls.push(error);
      throw error;
    }
    this.#next += 1;
    step.expect?.(request);
    return step;
  }

  async #complete(request: LlmRequest, options: ProviderCallOptions): Promise<LlmResponse> {
    const { signal } = options;
    if (signal.aborted) throw abortError();
    const step = this.#take(request);
    if (step.delayMs) await sleep(step.delayMs, signal);
    for (const event of step.events ?? []) {
      if (event.type === "sleep") {
        await sleep(event.ms, signal);
        continue;
      }
      if (signal.aborted) throw abortError();
      const pending = options.emit(event);
      if (pending) await pending;
    }
    if (signal.aborted) throw abortError();
    if (step.error) throw failureToThrow(step.error);
    return toResponse(step.response);
  }

  async *#stream(request: LlmRequest, signal: AbortSignal): AsyncGenerator<LlmStreamPart> {
    if (signal.aborted) throw abortError();
    const step = this.#take(request);
    if (step.delayMs) await sleep(step.delayMs, signal);
    for (const event of step.events ?? []) {
      if (event.type === "sleep") {
        await sleep(event.ms, signal);
        continue;
      }
      if (signal.aborted) throw abortError();
      yield event;
    }
    if (step.error) throw failureToThrow(step.error);
    yield { type: "response", response: toResponse(step.response) };
  }
}
