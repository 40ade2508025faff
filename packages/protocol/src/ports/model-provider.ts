import type { LlmRequest, LlmResponse, LlmStreamEvent } from "../provider-schemas.js";

/** The specification version this release of lash implements. */
export const MODEL_PROVIDER_SPECIFICATION_VERSION = "lash.provider.v1";

/**
 * How provider calls are retried. The runtime retries only failures classified `retryable`; the
 * delay is the server's `Retry-After` (capped by `retryAfterCapMs`), else
 * `min(baseDelayMs * 2^attempt, maxDelayMs) + jitter`.
 */
export interface ProviderRetryPolicy {
  /** False: every failure ends the call after one attempt. */
  readonly enabled: boolean;
  /** Attempts in all, the first included. */
  readonly maxAttempts: number;
  /** The first backoff, in milliseconds; it doubles with each retry. */
  readonly baseDelayMs: number;
  /** The longest backoff, in milliseconds. */
  readonly maxDelayMs: number;
  /** Upper bound of a random extra delay, in milliseconds; 0 disables jitter. */
  readonly jitterMs: number;
  /** The longest wait a server's `Retry-After` can ask for, in milliseconds. */
  readonly retryAfterCapMs: number;
}

/**
 * The default of `ModelProvider.retryPolicy` (part of the contract: a provider that sets none is
 * retried this way): 4 attempts, 2 s / 4 s / 8 s apart; a server's `Retry-After` replaces the wait
 * but is capped at 60 s, so one answer cannot stall a turn for long.
 */
export const DEFAULT_PROVIDER_RETRY_POLICY: ProviderRetryPolicy = Object.freeze({
  enabled: true,
  maxAttempts: 4,
  baseDelayMs: 2_000,
  maxDelayMs: 10_000,
  jitterMs: 0,
  retryAfterCapMs: 60_000,
});

/** Options of one provider call. */
export interface ProviderCallOptions {
  /** Aborted when the turn is cancelled or a budget runs out; the provider must stop promptly. */
  readonly signal: AbortSignal;
  /**
   * Stream side channel: call it for every event, in arrival order. A returned promise is awaited
   * (back-pressure); the provider must not call it after its own promise settled.
   */
  readonly emit: (event: LlmStreamEvent) => void | Promise<void>;
}

/** One item of a `doStream` iterable: a stream event, then exactly one final `response`. */
export type LlmStreamPart = LlmStreamEvent | { readonly type: "response"; readonly response: LlmResponse };

/**
 * The contract a model adapter implements (`specificationVersion: "lash.provider.v1"`).
 *
 * Implement exactly one of:
 * - `doComplete(request, { signal, emit })`: stream events through `emit` and resolve with the final
 *   response; or
 * - `doStream(request, { signal })`: an async iterable of stream events ending with one
 *   `{ type: "response" }` item.
 *
 * Failures are thrown as `ProviderCallError` carrying a classified `ProviderFailure`
 * (`@lash/provider-utils` builds them: `classifyProviderFailure`, `providerFailureFromHttp`, ...);
 * anything else thrown is treated as an unclassified failure. The caller's abort is not a failure:
 * the call rejects with the signal's reason. Retries are the runtime's job: an adapter makes one
 * attempt per call. Everything a provider returns is validated by the runtime before use.
 */
export interface ModelProvider {
  /** The contract version the provider implements; the runtime refuses any other. */
  readonly specificationVersion: typeof MODEL_PROVIDER_SPECIFICATION_VERSION;
  /** The provider kind (`"openai"`, `"anthropic"`, `"scripted"`, ...), persisted with the session config. */
  readonly providerId: string;
  /** The model used when the session policy names none. */
  readonly defaultModel?: string;
  /** True when `usage.inputTokens` does not include `cachedInputTokens` (decides `PromptUsage`). */
  readonly inputUsageExcludesCachedTokens?: boolean;
  /** Retry policy for this provider's calls; the runtime default applies when absent. */
  readonly retryPolicy?: ProviderRetryPolicy;
  /** Maps a configured model name to the one sent (aliases); identity when absent. */
  resolveModel?(model: string): string;
  /** The variants (reasoning effort, ...) a model accepts; absent means variants are not configurable. */
  supportedVariants?(model: string): readonly string[];
  /**
   * Makes one call: streams events through `options.emit` as they arrive and resolves with the final
   * response (which may leave out what streamed: the runtime rebuilds it). Rejects with a
   * `ProviderCallError` on failure, with the signal's reason when `options.signal` aborts.
   */
  doComplete?(request: LlmRequest, options: ProviderCallOptions): Promise<LlmResponse>;
  /**
   * Makes one call as an async iterable: stream events as they arrive, then exactly one
   * `{ type: "response" }` item, then the end. Failures and the caller's abort are thrown from the
   * iteration as for `doComplete`. The runtime stops iterating early when the turn is cancelled: the
   * provider must then release the request (a `finally` that aborts it).
   */
  doStream?(request: LlmRequest, options: { readonly signal: AbortSignal }): AsyncIterable<LlmStreamPart>;
}
