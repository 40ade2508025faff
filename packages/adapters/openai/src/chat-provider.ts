import type { LlmRequest, LlmStreamPart, ModelProvider } from "@lash/protocol";
import { MODEL_PROVIDER_SPECIFICATION_VERSION } from "@lash/protocol";
import { runProviderCall } from "./call-runner.js";
import { type ChatRequestSettings, chatRequestBody } from "./chat-request-mapping.js";
import { createChatStreamDecoder, decodeChatCompletion } from "./chat-response-mapping.js";
import { type OpenAIProviderOptions, resolveProviderSettings } from "./provider-options.js";

/** Options of `createOpenAIChatProvider`. */
export interface OpenAIChatProviderOptions extends OpenAIProviderOptions {
  /**
   * The body field that carries `maxOutputTokens`: `max_completion_tokens` (default, what OpenAI
   * expects) or `max_tokens` (older compatible servers).
   */
  readonly maxOutputTokensField?: "max_completion_tokens" | "max_tokens";
  /**
   * Ask for a final usage chunk with `stream_options: { include_usage: true }` (default `true`).
   * Turn it off for a server that rejects the field; the call then reports zero usage.
   */
  readonly streamUsage?: boolean;
}

/** The default `providerId` of the Chat Completions provider. */
export const OPENAI_CHAT_PROVIDER_ID = "openai-chat";

/**
 * A `ModelProvider` for the Chat Completions API (`POST {baseURL}/chat/completions`) of OpenAI or
 * any server that copies it: OpenRouter, vLLM, llama.cpp's server, Ollama, LiteLLM, Azure's v1 API.
 * It streams by default (`doStream`), makes one attempt per call (the runtime retries) and throws
 * `ProviderCallError` with a classified failure.
 *
 * @example
 * const provider = createOpenAIChatProvider({
 *   baseURL: "http://localhost:11434/v1",
 *   defaultModel: "qwen3:8b",
 * });
 */
export function createOpenAIChatProvider(options: OpenAIChatProviderOptions = {}): ModelProvider {
  const settings = resolveProviderSettings(options, OPENAI_CHAT_PROVIDER_ID);
  const requestSettings: ChatRequestSettings = {
    providerId: settings.providerId,
    defaultModel: settings.defaultModel,
    maxOutputTokens: settings.maxOutputTokens,
    maxOutputTokensField: options.maxOutputTokensField ?? "max_completion_tokens",
    stream: settings.stream,
    streamUsage: options.streamUsage ?? true,
    extraBody: settings.extraBody,
  };
  const provider: ModelProvider = {
    specificationVersion: MODEL_PROVIDER_SPECIFICATION_VERSION,
    providerId: settings.providerId,
    inputUsageExcludesCachedTokens: options.inputUsageExcludesCachedTokens ?? false,
    ...(settings.defaultModel === undefined ? {} : { defaultModel: settings.defaultModel }),
    ...(options.retryPolicy === undefined ? {} : { retryPolicy: options.retryPolicy }),
    async *doStream(request: LlmRequest, callOptions: { readonly signal: AbortSignal }): AsyncGenerator<LlmStreamPart, void, undefined> {
      const body = chatRequestBody(request, requestSettings);
      if (body.stream === true) {
        const streamingBody = body;
        yield* runProviderCall(settings, callOptions.signal, {
          streaming: true,
          send: (client, signal) => client.chat.completions.create(streamingBody, { signal }).asResponse(),
          decoder: createChatStreamDecoder(),
        });
        return;
      }
      const wholeBody = { ...body, stream: false as const };
      yield* runProviderCall(settings, callOptions.signal, {
        streaming: false,
        send: (client, signal) => client.chat.completions.create(wholeBody, { signal }).asResponse(),
        decode: decodeChatCompletion,
      });
    },
  };
  return provider;
}
