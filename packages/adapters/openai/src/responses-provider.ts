import type { LlmRequest, LlmStreamPart, ModelProvider } from "@lash/protocol";
import { MODEL_PROVIDER_SPECIFICATION_VERSION } from "@lash/protocol";
import { runProviderCall } from "./call-runner.js";
import { type OpenAIProviderOptions, resolveProviderSettings } from "./provider-options.js";
import { type ResponsesRequestSettings, responsesRequestBody } from "./responses-request-mapping.js";
import { createResponsesStreamDecoder, decodeResponse } from "./responses-response-mapping.js";

/** Options of `createOpenAIResponsesProvider`. */
export interface OpenAIResponsesProviderOptions extends OpenAIProviderOptions {
  /**
   * `store` of every request (default `false`: the server keeps nothing, and reasoning is replayed
   * from its encrypted content, which the adapter always asks for).
   */
  readonly store?: boolean;
  /** Reasoning effort (`minimal` ... `high`) when the request names no `modelVariant`. */
  readonly reasoningEffort?: string;
  /** Ask for reasoning summaries (`auto`, `concise`, `detailed`); only reasoning models accept it. */
  readonly reasoningSummary?: "auto" | "concise" | "detailed";
  /**
   * Send the request's session id as `prompt_cache_key` (default `true`), so the calls of one
   * session hit the same prompt cache.
   */
  readonly sessionCacheKey?: boolean;
}

/** The default `providerId` of the Responses provider. */
export const OPENAI_RESPONSES_PROVIDER_ID = "openai-responses";

/**
 * A `ModelProvider` for the Responses API (`POST {baseURL}/responses`) of OpenAI, the ChatGPT
 * (Codex) backend, or a compatible server. Reasoning items come back with their encrypted content
 * in the reasoning parts' `replay`, and are sent back with the next request, so no server-side
 * state (`previous_response_id`) is needed. Streams by default (`doStream`), one attempt per call.
 *
 * @example
 * const provider = createOpenAIResponsesProvider({
 *   apiKey: process.env.OPENAI_API_KEY,
 *   defaultModel: "gpt-5.4",
 *   reasoningSummary: "auto",
 * });
 */
export function createOpenAIResponsesProvider(options: OpenAIResponsesProviderOptions = {}): ModelProvider {
  const settings = resolveProviderSettings(options, OPENAI_RESPONSES_PROVIDER_ID);
  const requestSettings: ResponsesRequestSettings = {
    providerId: settings.providerId,
    defaultModel: settings.defaultModel,
    maxOutputTokens: settings.maxOutputTokens,
    stream: settings.stream,
    store: options.store ?? false,
    reasoningEffort: options.reasoningEffort,
    reasoningSummary: options.reasoningSummary,
    sessionCacheKey: options.sessionCacheKey ?? true,
    extraBody: settings.extraBody,
  };
  const provider: ModelProvider = {
    specificationVersion: MODEL_PROVIDER_SPECIFICATION_VERSION,
    providerId: settings.providerId,
    inputUsageExcludesCachedTokens: options.inputUsageExcludesCachedTokens ?? false,
    ...(settings.defaultModel === undefined ? {} : { defaultModel: settings.defaultModel }),
    ...(options.retryPolicy === undefined ? {} : { retryPolicy: options.retryPolicy }),
    async *doStream(request: LlmRequest, callOptions: { readonly signal: AbortSignal }): AsyncGenerator<LlmStreamPart, void, undefined> {
      const body = responsesRequestBody(request, requestSettings);
      if (body.stream === true) {
        const streamingBody = body;
        yield* runProviderCall(settings, callOptions.signal, {
          streaming: true,
          send: (client, signal) => client.responses.create(streamingBody, { signal }).asResponse(),
          decoder: createResponsesStreamDecoder(),
        });
        return;
      }
      const wholeBody = { ...body, stream: false as const };
      yield* runProviderCall(settings, callOptions.signal, {
        streaming: false,
        send: (client, signal) => client.responses.create(wholeBody, { signal }).asResponse(),
        decode: decodeResponse,
      });
    },
  };
  return provider;
}
