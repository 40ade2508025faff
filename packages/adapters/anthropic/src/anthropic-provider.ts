import Anthropic from "@anthropic-ai/sdk";
import type { LlmRequest, LlmStreamPart, ModelProvider } from "@lash/protocol";
import { MODEL_PROVIDER_SPECIFICATION_VERSION } from "@lash/protocol";
import { readServerSentEvents, startRequestDeadline } from "@lash/provider-utils";
import { providerErrorFrom } from "./anthropic-failure-mapping.js";
import { type AnthropicProviderOptions, type ResolvedAnthropicOptions, resolveAnthropicOptions } from "./anthropic-provider-options.js";
import { buildMessagesRequest } from "./anthropic-request-mapping.js";
import { parseAnthropicStreamEvent } from "./anthropic-stream-events.js";
import { AnthropicStreamMapping } from "./anthropic-stream-mapping.js";

/**
 * Sent with every request: tool arguments stream as they are generated instead of arriving in one
 * piece at the end of the block.
 */
export const ANTHROPIC_BETA_FEATURES: readonly string[] = ["fine-grained-tool-streaming-2025-05-14"];

/** Where requests go when `baseURL` is not set. */
const DEFAULT_BASE_URL = "https://api.anthropic.com";

/** The largest delay a timer honours; used where the SDK needs a number for "no timeout". */
const LONGEST_TIMER_MS = 2_147_483_647;

/** A `ModelProvider` for Anthropic's Messages API (see `createAnthropicProvider`). */
export interface AnthropicProvider extends ModelProvider {
  readonly providerId: string;
  readonly inputUsageExcludesCachedTokens: true;
  doStream(request: LlmRequest, options: { readonly signal: AbortSignal }): AsyncIterable<LlmStreamPart>;
}

function betaHeader(userHeaders: Readonly<Record<string, string>>): string {
  const values: string[] = [];
  for (const [name, value] of Object.entries(userHeaders)) {
    if (name.toLowerCase() === "anthropic-beta") values.push(...value.split(","));
  }
  values.push(...ANTHROPIC_BETA_FEATURES);
  return [...new Set(values.map((value) => value.trim()).filter((value) => value !== ""))].join(",");
}

function createClient(options: ResolvedAnthropicOptions): Anthropic {
  const userHeaders: Record<string, string> = {};
  for (const [name, value] of Object.entries(options.headers)) {
    if (name.toLowerCase() !== "anthropic-beta") userHeaders[name] = value;
  }
  return new Anthropic({
    apiKey: options.apiKey,
    // Given explicitly so the SDK never falls back to `ANTHROPIC_BASE_URL` from the environment.
    baseURL: options.baseURL ?? DEFAULT_BASE_URL,
    ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
    // Retries belong to the runtime (one place, with `retry_status` events); the SDK makes one attempt.
    maxRetries: 0,
    defaultHeaders: {
      // The Messages API authenticates with `x-api-key`; the SDK would send the key as a bearer
      // token, so that header is removed (a caller's own `authorization` header still wins).
      "x-api-key": options.apiKey,
      authorization: null,
      ...userHeaders,
      "anthropic-beta": betaHeader(options.headers),
    },
  });
}

function responseSummary(response: Response): string {
  const requestId = response.headers.get("request-id");
  const shownId = requestId === null ? "" : ` request-id ${requestId.slice(0, 200)}`;
  return `HTTP ${response.status}${shownId}`;
}

/**
 * Creates a `ModelProvider` (`lash.provider.v1`) for Anthropic's Messages API, built on the
 * official `@anthropic-ai/sdk` client. Each call is one streaming request (`doStream`); the SDK's
 * own retries are off because the runtime retries classified failures.
 *
 * @throws LashError `invalid_configuration` when an option is wrong (no side effect has happened).
 *
 * @example
 * const provider = createAnthropicProvider({
 *   apiKey: process.env.ANTHROPIC_API_KEY ?? "",
 *   defaultModel: "claude-sonnet-4-20250514",
 *   thinking: { budgetTokens: 4_096 },
 * });
 */
export function createAnthropicProvider(options: AnthropicProviderOptions): AnthropicProvider {
  const resolved = resolveAnthropicOptions(options);
  const client = createClient(resolved);
  const requestSettings = {
    defaultModel: resolved.defaultModel,
    maxOutputTokens: resolved.maxOutputTokens,
    thinkingBudgetTokens: resolved.thinkingBudgetTokens,
    cacheRetention: resolved.cacheRetention,
  };

  async function* doStream(
    request: LlmRequest,
    callOptions: { readonly signal: AbortSignal },
  ): AsyncGenerator<LlmStreamPart, void, undefined> {
    const { signal } = callOptions;
    signal.throwIfAborted();
    const body = buildMessagesRequest(request, requestSettings);
    const deadline = startRequestDeadline({ timeouts: resolved.timeouts, signal });
    const context = { signal, deadline };
    try {
      let response: Response;
      try {
        response = await client.messages
          .create(body, {
            signal: deadline.signal,
            // The deadline enforces the request timeout; the SDK's timer only backs it up.
            timeout: resolved.timeouts.requestTimeoutMs ?? LONGEST_TIMER_MS,
            maxRetries: 0,
          })
          .asResponse();
      } catch (error) {
        throw providerErrorFrom(error, context);
      }
      // The SDK sent the request; the body is read by the shared reader (the SDK's own `Stream` drops
      // frames without an `event:` line, which servers and the shared fixtures send).
      const mapping = new AnthropicStreamMapping();
      const completion = { name: "message_stop", isReached: () => mapping.finished };
      try {
        for await (const serverEvent of readServerSentEvents(response, { deadline, signal, completion })) {
          const events = mapping.accept(parseAnthropicStreamEvent(serverEvent.data, serverEvent.event));
          for (const event of events) yield event;
          if (mapping.finished) break;
        }
      } catch (error) {
        throw providerErrorFrom(error, context);
      }
      yield { type: "response", response: { ...mapping.response(), httpSummary: responseSummary(response) } };
    } finally {
      deadline.dispose();
    }
  }

  const provider: AnthropicProvider = {
    specificationVersion: MODEL_PROVIDER_SPECIFICATION_VERSION,
    providerId: resolved.providerId,
    inputUsageExcludesCachedTokens: true,
    doStream,
    ...(resolved.defaultModel === undefined ? {} : { defaultModel: resolved.defaultModel }),
    ...(resolved.retryPolicy === undefined ? {} : { retryPolicy: resolved.retryPolicy }),
  };
  return provider;
}
