import type { LlmRequest, LlmResponse, LlmStreamPart, ModelProvider, ProviderRetryPolicy } from "@lash/protocol";
import { LashError, MODEL_PROVIDER_SPECIFICATION_VERSION, ProviderCallError } from "@lash/protocol";
import type { ProviderTimeouts, RequestDeadline } from "@lash/provider-utils";
import { callerAbortError, classifyProviderFailure, resolveProviderTimeouts, startRequestDeadline } from "@lash/provider-utils";
import { failureFromModelError, providerCallError } from "./failure-mapping.js";
import { generateFromModel, streamFromModel } from "./language-model-calls.js";
import { assertLanguageModel } from "./language-model-check.js";
import type { AiSdkCallSettings, AiSdkLanguageModel, AiSdkProviderOptionsRecord } from "./language-model-types.js";
import type { AiSdkStreamPartLike } from "./model-output-types.js";
import type { CallMappingOptions } from "./request-mapping.js";
import { responseFromGenerateResult, StreamTranslator } from "./stream-translation.js";

/** Options of `createAiSdkProvider`. Every field is optional. */
export interface AiSdkProviderOptions {
  /** The lash provider id, persisted with sessions (default: the model's `provider`, e.g. `"openai.responses"`). */
  readonly providerId?: string;
  /**
   * `"stream"` (default) implements `doStream` over the model's `doStream`, so text streams as it is
   * generated; `"generate"` implements `doComplete` over `doGenerate` (one response, no deltas).
   */
  readonly mode?: "stream" | "generate";
  /**
   * Whether the `inputTokens` lash records exclude the cached tokens. Default `false`: the AI SDK
   * reports `inputTokens.total` with cache reads included, and that total is recorded. With `true`
   * the cache reads are subtracted. The runtime reads the flag to normalize prompt usage either way.
   */
  readonly inputUsageExcludesCachedTokens?: boolean;
  /** The output limit sent with every call (`maxOutputTokens`); the provider's default when absent. */
  readonly maxOutputTokens?: number;
  /**
   * Provider options sent with every call (`{ openai: { reasoningEffort: "low" } }`), or a function
   * of the request that returns them.
   */
  readonly providerOptions?: AiSdkProviderOptionsRecord | ((request: LlmRequest) => AiSdkProviderOptionsRecord | undefined);
  /** Sampling settings and extra headers sent with every call. */
  readonly settings?: AiSdkCallSettings;
  /** Provider options for a text block marked `cacheBreakpoint` (the AI SDK has no generic cache marker). */
  readonly cacheBreakpointProviderOptions?: AiSdkProviderOptionsRecord;
  /**
   * Request and chunk timeouts (see `ProviderTimeouts`; a missing field takes its default, `null`
   * disables it). With `mode: "generate"`, `requestTimeoutMs` bounds the whole call.
   */
  readonly timeouts?: Partial<ProviderTimeouts>;
  /** The retry policy the runtime applies to this provider's calls (the runtime's default when absent). */
  readonly retryPolicy?: ProviderRetryPolicy;
  /**
   * The model to use when a request names another model id than `model.modelId` (for example
   * `(modelId) => openai(modelId)`). Without it, such a request fails as `unsupported`: a silent
   * switch to the wrapped model would record usage under the wrong model. The models it returns
   * may be of either supported specification version.
   */
  readonly languageModelFor?: (modelId: string) => AiSdkLanguageModel;
}

const CONTEXT = "createAiSdkProvider";

function checkOptions(options: AiSdkProviderOptions): void {
  if (typeof options !== "object" || options === null) {
    throw new LashError("invalid_configuration", `${CONTEXT}: options must be an object`);
  }
  if (options.providerId !== undefined && (typeof options.providerId !== "string" || options.providerId.trim() === "")) {
    throw new LashError("invalid_configuration", `${CONTEXT}: providerId must be a non-empty string`);
  }
  if (options.mode !== undefined && options.mode !== "stream" && options.mode !== "generate") {
    throw new LashError("invalid_configuration", `${CONTEXT}: mode must be "stream" or "generate", got ${JSON.stringify(options.mode)}`);
  }
  const limit = options.maxOutputTokens;
  if (limit !== undefined && (typeof limit !== "number" || !Number.isInteger(limit) || limit <= 0)) {
    throw new LashError("invalid_configuration", `${CONTEXT}: maxOutputTokens must be a positive integer, got ${String(limit)}`);
  }
  if (options.languageModelFor !== undefined && typeof options.languageModelFor !== "function") {
    throw new LashError("invalid_configuration", `${CONTEXT}: languageModelFor must be a function`);
  }
}

/** Calls `call`, turning a synchronous throw (a model that throws instead of rejecting) into a rejection. */
function invoke<T>(call: () => PromiseLike<T>): Promise<T> {
  return new Promise<T>((resolve) => resolve(call()));
}

/** Settles with `promise`, or rejects with the signal's reason once it aborts (for models that ignore their signal). */
function untilAborted<T>(promise: PromiseLike<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as unknown);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as unknown);
    signal.addEventListener("abort", onAbort, { once: true });
    Promise.resolve(promise).then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

/**
 * A lash `ModelProvider` over an AI SDK language model: specification `"v4"` (AI SDK 7, `ai` 7.x,
 * `@ai-sdk/provider` 4.x) or `"v3"` (AI SDK 6, `ai` 6.x, `@ai-sdk/provider` 3.x). Each call is built
 * for the generation the model names, and makes one attempt: retries are the runtime's.
 *
 * @example
 * import { openai } from "@ai-sdk/openai";
 * const provider = createAiSdkProvider(openai("gpt-4o-mini"));
 * const runtime = await LashRuntime.builder().withProvider(provider).withPolicy({ maxContextTokens: 128_000 }).build();
 *
 * @throws LashError `unsupported_provider_version` when the model implements another specification
 *   version; `invalid_configuration` when `model` is not an AI SDK language model or an option is
 *   invalid. Both are thrown here, before any call.
 */
export function createAiSdkProvider(model: AiSdkLanguageModel, options: AiSdkProviderOptions = {}): ModelProvider {
  assertLanguageModel(model, `${CONTEXT}(model)`);
  checkOptions(options);
  const timeouts = resolveProviderTimeouts(options.timeouts);
  const inputExcludesCached = options.inputUsageExcludesCachedTokens ?? false;
  const translation = { inputExcludesCached };
  const mapping: CallMappingOptions = {
    ...(options.maxOutputTokens === undefined ? {} : { maxOutputTokens: options.maxOutputTokens }),
    ...(options.settings === undefined ? {} : { settings: options.settings }),
    ...(options.providerOptions === undefined ? {} : { providerOptions: options.providerOptions }),
    ...(options.cacheBreakpointProviderOptions === undefined
      ? {}
      : { cacheBreakpointProviderOptions: options.cacheBreakpointProviderOptions }),
  };
  const resolvedModels = new Map<string, AiSdkLanguageModel>();

  const modelFor = (request: LlmRequest): AiSdkLanguageModel => {
    if (request.model === "" || request.model === model.modelId) return model;
    const cached = resolvedModels.get(request.model);
    if (cached !== undefined) return cached;
    if (options.languageModelFor === undefined) {
      throw new ProviderCallError(
        classifyProviderFailure({
          kind: "unsupported",
          code: "model_mismatch",
          retryable: false,
          message: `this provider wraps the AI SDK model \`${model.modelId}\` (${model.provider}) but the request names \`${request.model}\`: set the session's model to \`${model.modelId}\` (or leave it unset), or pass languageModelFor to createAiSdkProvider`,
        }),
      );
    }
    let resolved: unknown;
    try {
      resolved = options.languageModelFor(request.model);
      assertLanguageModel(resolved, `languageModelFor(${JSON.stringify(request.model)})`);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw new ProviderCallError(classifyProviderFailure({ kind: "unsupported", code: "unsupported_model", message, retryable: false }), {
        cause: error,
      });
    }
    resolvedModels.set(request.model, resolved);
    return resolved;
  };

  /** Throws what a failed attempt should surface: the caller's abort as is, anything else classified. */
  const rethrow = (error: unknown, signal: AbortSignal, deadline: RequestDeadline): never => {
    throw providerCallError(failureFromModelError(error, { signal, deadline }), error);
  };

  async function* doStream(request: LlmRequest, callOptions: { readonly signal: AbortSignal }): AsyncGenerator<LlmStreamPart> {
    const { signal } = callOptions;
    if (signal.aborted) throw callerAbortError(signal);
    const target = modelFor(request);
    const deadline = startRequestDeadline({ timeouts, signal });
    const translator = new StreamTranslator(translation);
    let reader: ReadableStreamDefaultReader<AiSdkStreamPartLike> | undefined;
    // A model that ignores its abort signal would leave `read()` pending forever: cancelling the
    // reader ends it, whatever the model does.
    const stopReading = (): void => {
      reader?.cancel(deadline.signal.reason).catch(() => {});
    };
    deadline.signal.addEventListener("abort", stopReading, { once: true });
    let completed = false;
    try {
      const starting = invoke(() => streamFromModel(target, request, deadline.signal, mapping));
      const started = await untilAborted(starting, deadline.signal).catch((error: unknown) => {
        // A model that ignored the abort may still hand over a stream later: release it then.
        starting.then((late) => late.stream.cancel()).catch(() => {});
        return rethrow(error, signal, deadline);
      });
      deadline.responseStarted();
      reader = started.stream.getReader();
      for (;;) {
        const next = await reader.read().catch((error: unknown) => rethrow(error, signal, deadline));
        if (deadline.signal.aborted) rethrow(deadline.signal.reason, signal, deadline);
        if (next.done) break;
        deadline.chunkReceived();
        for (const event of translator.translate(next.value)) yield event;
      }
      const { events, response } = translator.end();
      for (const event of events) yield event;
      completed = true;
      yield { type: "response", response };
    } finally {
      deadline.signal.removeEventListener("abort", stopReading);
      deadline.dispose();
      // The consumer stopped early (an abort, a failure): release the model's stream.
      if (!completed) reader?.cancel().catch(() => {});
    }
  }

  async function doComplete(request: LlmRequest, callOptions: { readonly signal: AbortSignal }): Promise<LlmResponse> {
    const { signal } = callOptions;
    if (signal.aborted) throw callerAbortError(signal);
    const target = modelFor(request);
    const deadline = startRequestDeadline({ timeouts, signal });
    try {
      const generating = invoke(() => generateFromModel(target, request, deadline.signal, mapping));
      const result = await untilAborted(generating, deadline.signal).catch((error: unknown) => rethrow(error, signal, deadline));
      return responseFromGenerateResult(result, translation);
    } finally {
      deadline.dispose();
    }
  }

  const provider: ModelProvider = {
    specificationVersion: MODEL_PROVIDER_SPECIFICATION_VERSION,
    providerId: options.providerId ?? model.provider,
    defaultModel: model.modelId,
    inputUsageExcludesCachedTokens: inputExcludesCached,
    ...(options.retryPolicy === undefined ? {} : { retryPolicy: options.retryPolicy }),
    // The runtime prefers `doComplete` when both exist, so exactly one is implemented.
    ...((options.mode ?? "stream") === "stream" ? { doStream } : { doComplete }),
  };
  return Object.freeze(provider);
}
