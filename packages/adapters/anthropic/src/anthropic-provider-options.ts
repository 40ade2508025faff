import type { ProviderRetryPolicy } from "@lash/protocol";
import { RuntimeError } from "@lash/protocol";
import type { ProviderTimeouts } from "@lash/provider-utils";
import { resolveProviderTimeouts } from "@lash/provider-utils";

/** How long prompt-cache entries written by a call live. */
export type AnthropicCacheRetention = "none" | "short" | "long";

/** Extended thinking: `{ budgetTokens }` turns it on with that budget; `false` (the default) leaves it off. */
export type AnthropicThinkingOption = { readonly budgetTokens: number } | false;

/** Options of `createAnthropicProvider`. */
export interface AnthropicProviderOptions {
  /** The API key, sent as the `x-api-key` header. Required: the environment is never read for it. */
  readonly apiKey: string;
  /** Default `https://api.anthropic.com`; any server that speaks the Messages API works. */
  readonly baseURL?: string;
  /** Extra headers sent with every request (an `anthropic-beta` value is merged with the adapter's own). */
  readonly headers?: Readonly<Record<string, string>>;
  /** The provider kind persisted with the session config. Default `"anthropic"`. */
  readonly providerId?: string;
  /** The model used when the session policy names none. */
  readonly defaultModel?: string;
  /**
   * `max_tokens` of every request (the Messages API requires one). Default 8192, or
   * `thinking.budgetTokens + 8192` with thinking on, so the answer keeps 8192 tokens after thinking.
   */
  readonly maxOutputTokens?: number;
  /** Extended thinking; the budget must be at least 1024 and below `maxOutputTokens`. Default off. */
  readonly thinking?: AnthropicThinkingOption;
  /**
   * Prompt caching: `short` (default) marks cache breakpoints with the 5-minute TTL, `long` with the
   * 1-hour TTL, `none` sends no `cache_control` at all.
   */
  readonly cacheRetention?: AnthropicCacheRetention;
  /**
   * `requestTimeoutMs`: until the response starts (default 300 000); `chunkTimeoutMs`: the longest
   * gap between two body chunks (default 120 000). `null` disables one.
   */
  readonly timeouts?: Partial<ProviderTimeouts>;
  /** The runtime's retry policy for this provider; the runtime default applies when absent. */
  readonly retryPolicy?: ProviderRetryPolicy;
  /** A `fetch` implementation for the SDK (proxies, custom agents); the global `fetch` by default. */
  readonly fetch?: typeof globalThis.fetch;
}

/** The options with every default applied, validated once at construction. */
export interface ResolvedAnthropicOptions {
  readonly apiKey: string;
  readonly baseURL: string | undefined;
  readonly headers: Readonly<Record<string, string>>;
  readonly providerId: string;
  readonly defaultModel: string | undefined;
  readonly maxOutputTokens: number;
  readonly thinkingBudgetTokens: number | undefined;
  readonly cacheRetention: AnthropicCacheRetention;
  readonly timeouts: ProviderTimeouts;
  readonly retryPolicy: ProviderRetryPolicy | undefined;
  readonly fetch: typeof globalThis.fetch | undefined;
}

/** `max_tokens` when the caller sets none (and the answer's share when thinking is on). */
export const DEFAULT_MAX_OUTPUT_TOKENS = 8_192;
/** The smallest thinking budget the Messages API accepts. */
const SMALLEST_THINKING_BUDGET = 1_024;
const CACHE_RETENTIONS: readonly AnthropicCacheRetention[] = ["none", "short", "long"];

function invalid(message: string): RuntimeError {
  return new RuntimeError("invalid_configuration", `createAnthropicProvider: ${message}`);
}

function isPositiveInteger(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value > 0;
}

function resolveHeaders(headers: unknown): Record<string, string> {
  if (headers === undefined) return {};
  if (typeof headers !== "object" || headers === null || Array.isArray(headers)) throw invalid("headers must be a record of strings");
  const resolved: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers as Record<string, unknown>)) {
    if (typeof value !== "string") throw invalid(`header ${JSON.stringify(name)} must be a string`);
    resolved[name] = value;
  }
  return resolved;
}

function resolveThinkingBudget(thinking: AnthropicThinkingOption | undefined): number | undefined {
  if (thinking === undefined || thinking === false) return undefined;
  const budget: unknown = typeof thinking === "object" && thinking !== null ? thinking.budgetTokens : undefined;
  if (!isPositiveInteger(budget) || budget < SMALLEST_THINKING_BUDGET) {
    throw invalid(`thinking.budgetTokens must be an integer of at least ${SMALLEST_THINKING_BUDGET}`);
  }
  return budget;
}

/**
 * Applies the defaults and checks every option, so a wrong configuration fails at construction
 * (a `RuntimeError` with code `invalid_configuration`) rather than on the first model call.
 */
export function resolveAnthropicOptions(options: AnthropicProviderOptions): ResolvedAnthropicOptions {
  if (typeof options !== "object" || options === null) throw invalid("options are required");
  if (typeof options.apiKey !== "string" || options.apiKey.trim() === "") throw invalid("apiKey must be a non-empty string");
  if (options.baseURL !== undefined) {
    if (typeof options.baseURL !== "string" || !URL.canParse(options.baseURL)) throw invalid("baseURL must be an absolute URL");
  }
  const providerId = options.providerId ?? "anthropic";
  if (typeof providerId !== "string" || providerId === "") throw invalid("providerId must be a non-empty string");
  if (options.defaultModel !== undefined && (typeof options.defaultModel !== "string" || options.defaultModel === "")) {
    throw invalid("defaultModel must be a non-empty string");
  }
  const thinkingBudgetTokens = resolveThinkingBudget(options.thinking);
  const maxOutputTokens = options.maxOutputTokens ?? (thinkingBudgetTokens ?? 0) + DEFAULT_MAX_OUTPUT_TOKENS;
  if (!isPositiveInteger(maxOutputTokens)) throw invalid("maxOutputTokens must be a positive integer");
  if (thinkingBudgetTokens !== undefined && thinkingBudgetTokens >= maxOutputTokens) {
    throw invalid(`thinking.budgetTokens (${thinkingBudgetTokens}) must be below maxOutputTokens (${maxOutputTokens})`);
  }
  const cacheRetention = options.cacheRetention ?? "short";
  if (!CACHE_RETENTIONS.includes(cacheRetention)) throw invalid(`cacheRetention must be one of ${CACHE_RETENTIONS.join(", ")}`);
  if (options.fetch !== undefined && typeof options.fetch !== "function") throw invalid("fetch must be a function");
  return {
    apiKey: options.apiKey,
    baseURL: options.baseURL,
    headers: resolveHeaders(options.headers),
    providerId,
    defaultModel: options.defaultModel,
    maxOutputTokens,
    thinkingBudgetTokens,
    cacheRetention,
    timeouts: resolveProviderTimeouts(options.timeouts),
    retryPolicy: options.retryPolicy,
    fetch: options.fetch,
  };
}
