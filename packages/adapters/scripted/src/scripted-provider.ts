import type {
  LlmRequest,
  LlmResponse,
  LlmStreamEvent,
  LlmStreamPart,
  ModelProvider,
  ProviderCallOptions,
  ProviderFailure,
  ProviderRetryPolicy,
} from "@lash/protocol";
import { MODEL_PROVIDER_SPECIFICATION_VERSION, ProviderCallError } from "@lash/protocol";
import type { ProviderFailureInput } from "@lash/provider-utils";
import { classifyProviderFailure } from "@lash/provider-utils";

/** A pause between scripted stream events (honours the abort signal; fake timers control it). */
export interface ScriptedSleep {
  readonly type: "sleep";
  readonly ms: number;
}

/** What a step streams: stream events, and pauses between them. */
export type ScriptedEvent = LlmStreamEvent | ScriptedSleep;

/**
 * One scripted model call: wait `delayMs`, stream `events`, then return `response` (missing fields
 * default to an empty `stop` response with zero usage) or throw `error`.
 */
export interface ScriptedStep {
  readonly events?: readonly ScriptedEvent[];
  readonly response?: Partial<LlmResponse>;
  /**
   * Thrown after the events. An object with `kind`, `retryable` and `terminalReason` is taken as an
   * already classified `ProviderFailure`; any other object is classified with
   * `classifyProviderFailure`; both are thrown as a `ProviderCallError`. An `Error` is thrown as is
   * (a buggy provider).
   */
  readonly error?: ProviderFailure | ProviderFailureInput | Error;
  /** Wait this long before the first event. */
  readonly delayMs?: number;
  /** Called with the request before anything is streamed (assert on it here). */
  readonly expect?: (request: LlmRequest) => void;
}

export interface ScriptedProviderOptions {
  /** Default `"scripted"`. */
  readonly providerId?: string;
  /** Default `"scripted-model"`. */
  readonly defaultModel?: string;
  /** Default false. */
  readonly inputUsageExcludesCachedTokens?: boolean;
  /** `complete` (the default) implements `doComplete`; `stream` implements `doStream`. */
  readonly mode?: "complete" | "stream";
  readonly retryPolicy?: ProviderRetryPolicy;
  /** Start the script over when it runs out (for benchmarks). */
  readonly repeat?: boolean;
  /** Keep a copy of every request in `requests` (default true; benchmarks turn it off). */
  readonly recordRequests?: boolean;
}

const MAX_QUOTED_TEXT = 120;

/** Thrown when the provider gets a call its script has no step for. */
export class UnexpectedModelCallError extends Error {
  /** 1-based number of the call among all calls the provider received. */
  readonly callNumber: number;
  readonly scriptLength: number;
  /** The text of the request's last user message ("" when it has none). */
  readonly lastUserText: string;

  constructor(callNumber: number, scriptLength: number, request: LlmRequest) {
    const text = lastUserText(request);
    const quoted = text.length > MAX_QUOTED_TEXT ? `${text.slice(0, MAX_QUOTED_TEXT)}…` : text;
    super(
      `unexpected model call #${callNumber}: the script has ${scriptLength} step${scriptLength === 1 ? "" : "s"} and all were used ` +
        `(last user text: ${JSON.stringify(quoted)})`,
    );
    this.name = "UnexpectedModelCallError";
    this.callNumber = callNumber;
    this.scriptLength = scriptLength;
    this.lastUserText = text;
  }
}

/** Thrown by `assertAllConsumed` when scripted steps were never used. */
export class UnconsumedScriptError extends Error {
  readonly remaining: number;
  readonly scriptLength: number;

  constructor(remaining: number, scriptLength: number) {
    super(`${remaining} of ${scriptLength} scripted model call${scriptLength === 1 ? "" : "s"} never happened`);
    this.name = "UnconsumedScriptError";
    this.remaining = remaining;
    this.scriptLength = scriptLength;
  }
}

/** A step prepared once at construction, so a call does no normalization work. */
interface PreparedStep {
  readonly events: readonly ScriptedEvent[];
  readonly response: LlmResponse;
  readonly error: ProviderFailure | Error | undefined;
  readonly delayMs: number;
  readonly expect: ((request: LlmRequest) => void) | undefined;
}

function lastUserText(request: LlmRequest): string {
  const messages = request.messages ?? [];
  for (let index = messages.length - 1; index >= 0; index -= 1) {
    const message = messages[index];
    if (message?.role !== "user") continue;
    let text = "";
    for (const block of message.blocks) if (block.type === "text") text += block.text;
    if (text !== "") return text;
  }
  return "";
}

function abortError(signal: AbortSignal): Error {
  const error = new Error("the model call was aborted", { cause: signal.reason });
  error.name = "AbortError";
  return error;
}

function sleep(milliseconds: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(abortError(signal));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortError(signal));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, milliseconds);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

function isPlainObject(value: object): boolean {
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
}

/** A copy of plain data (arrays, plain objects, byte arrays); anything else is shared. */
function copyData<T>(value: T): T {
  if (typeof value !== "object" || value === null) return value;
  if (Array.isArray(value)) return value.map(copyData) as T;
  // `Buffer#slice` would return a view: the typed-array `slice` always copies the bytes.
  if (value instanceof Uint8Array) return Uint8Array.prototype.slice.call(value) as T;
  if (!isPlainObject(value)) return value;
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value)) copy[key] = copyData((value as Record<string, unknown>)[key]);
  return copy as T;
}

/** Freezes the arrays and plain objects of a value made by `copyData` (never the caller's objects). */
function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && (Array.isArray(value) || isPlainObject(value))) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}

function isClassified(error: ProviderFailure | ProviderFailureInput): error is ProviderFailure {
  return typeof error.kind === "string" && typeof error.retryable === "boolean" && typeof error.terminalReason === "string";
}

function prepareResponse(partial: Partial<LlmResponse> | undefined): LlmResponse {
  const { fullText = "", parts = [], usage, terminalReason = "stop", ...rest } = partial ?? {};
  return deepFreeze(
    copyData({
      ...rest,
      fullText,
      parts,
      usage: { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, reasoningTokens: 0, ...usage },
      terminalReason,
    }),
  );
}

function prepareStep(step: ScriptedStep): PreparedStep {
  const error = step.error;
  return {
    events: deepFreeze(copyData(step.events ?? [])),
    response: prepareResponse(step.response),
    error: error === undefined || error instanceof Error ? error : isClassified(error) ? { ...error } : classifyProviderFailure(error),
    delayMs: step.delayMs ?? 0,
    expect: step.expect,
  };
}

/** The caller owns what a call returns: a fresh response, sharing only frozen leaves. */
function responseOf(step: PreparedStep): LlmResponse {
  const template = step.response;
  return { ...template, parts: template.parts.map((part) => ({ ...part })), usage: { ...template.usage } };
}

/** An iterator that fails on its first step. */
// biome-ignore lint/correctness/useYield: a stream that fails on its first read, like a provider whose request fails
async function* failing(error: unknown): AsyncGenerator<LlmStreamPart, void, undefined> {
  throw error;
}

function errorOf(error: ProviderFailure | Error): Error {
  return error instanceof Error ? error : new ProviderCallError({ ...error });
}

/**
 * A `ModelProvider` that plays a script: one step per call, in order. It records every request,
 * fails loudly on a call it has no step for, and can assert that every step was used.
 *
 * Only the method of the chosen `mode` exists on the instance (`doComplete` or `doStream`), as the
 * runtime picks the one that is present. A call whose signal is already aborted throws an
 * `AbortError` at once: it is counted and recorded, but uses no step.
 */
export class ScriptedProvider implements ModelProvider {
  readonly specificationVersion = MODEL_PROVIDER_SPECIFICATION_VERSION;
  readonly providerId: string;
  readonly defaultModel: string;
  readonly inputUsageExcludesCachedTokens: boolean;
  readonly retryPolicy: ProviderRetryPolicy | undefined;
  /** Every request received, in order (deep copies, so later changes by the caller do not show). */
  readonly requests: LlmRequest[] = [];
  /** Calls that arrived after the script ran out (kept even when the runtime swallowed the error). */
  readonly unexpectedCalls: UnexpectedModelCallError[] = [];
  /** What the steps' `expect` callbacks threw (kept even when the runtime swallowed the error). */
  readonly failedExpectations: unknown[] = [];
  // `declare`: no own property is created for the method the mode does not implement.
  declare readonly doComplete?: (request: LlmRequest, options: ProviderCallOptions) => Promise<LlmResponse>;
  declare readonly doStream?: (request: LlmRequest, options: { readonly signal: AbortSignal }) => AsyncIterable<LlmStreamPart>;
  readonly #steps: readonly PreparedStep[];
  readonly #repeat: boolean;
  readonly #recordRequests: boolean;
  #next = 0;
  #calls = 0;

  constructor(steps: readonly ScriptedStep[], options: ScriptedProviderOptions = {}) {
    this.#steps = steps.map(prepareStep);
    this.#repeat = options.repeat ?? false;
    this.#recordRequests = options.recordRequests ?? true;
    this.providerId = options.providerId ?? "scripted";
    this.defaultModel = options.defaultModel ?? "scripted-model";
    this.inputUsageExcludesCachedTokens = options.inputUsageExcludesCachedTokens ?? false;
    this.retryPolicy = options.retryPolicy;
    if (options.mode === "stream") this.doStream = (request, callOptions) => this.#stream(request, callOptions.signal);
    else this.doComplete = (request, callOptions) => this.#complete(request, callOptions);
  }

  /** Calls received so far, including unexpected and already-aborted ones. */
  get callCount(): number {
    return this.#calls;
  }

  /** Steps not played yet (in `repeat` mode: steps left in the current pass over the script). */
  get remainingSteps(): number {
    return this.#steps.length - this.#next;
  }

  /**
   * Throws `UnconsumedScriptError` when a step was never played (in `repeat` mode: when the last
   * pass over the script stopped half-way, or the script was never played).
   */
  assertAllConsumed(): void {
    const remaining = this.remainingSteps;
    if (remaining > 0) throw new UnconsumedScriptError(remaining, this.#steps.length);
  }

  #begin(request: LlmRequest, signal: AbortSignal): PreparedStep {
    this.#calls += 1;
    if (this.#recordRequests) this.requests.push(copyData(request));
    if (signal.aborted) throw abortError(signal);
    if (this.#repeat && this.#next === this.#steps.length) this.#next = 0;
    const step = this.#steps[this.#next];
    if (step === undefined) {
      const error = new UnexpectedModelCallError(this.#calls, this.#steps.length, request);
      this.unexpectedCalls.push(error);
      throw error;
    }
    this.#next += 1;
    if (step.expect) {
      try {
        step.expect(request);
      } catch (error) {
        this.failedExpectations.push(error);
        throw error;
      }
    }
    return step;
  }

  async #complete(request: LlmRequest, options: ProviderCallOptions): Promise<LlmResponse> {
    const { signal, emit } = options;
    const step = this.#begin(request, signal);
    if (step.delayMs > 0) await sleep(step.delayMs, signal);
    for (const event of step.events) {
      if (event.type === "sleep") {
        await sleep(event.ms, signal);
        continue;
      }
      if (signal.aborted) throw abortError(signal);
      const pending = emit(event);
      if (pending !== undefined) await pending;
    }
    if (signal.aborted) throw abortError(signal);
    if (step.error) throw errorOf(step.error);
    return responseOf(step);
  }

  /** The call is taken (counted, recorded, step used) at once; its failure surfaces on iteration. */
  #stream(request: LlmRequest, signal: AbortSignal): AsyncGenerator<LlmStreamPart, void, undefined> {
    try {
      return this.#play(this.#begin(request, signal), signal);
    } catch (error) {
      return failing(error);
    }
  }

  async *#play(step: PreparedStep, signal: AbortSignal): AsyncGenerator<LlmStreamPart, void, undefined> {
    if (step.delayMs > 0) await sleep(step.delayMs, signal);
    for (const event of step.events) {
      if (event.type === "sleep") {
        await sleep(event.ms, signal);
        continue;
      }
      if (signal.aborted) throw abortError(signal);
      yield event;
    }
    if (signal.aborted) throw abortError(signal);
    if (step.error) throw errorOf(step.error);
    yield { type: "response", response: responseOf(step) };
  }
}
