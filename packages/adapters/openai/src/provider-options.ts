import type { JsonValue, ProviderRetryPolicy } from "@lash/protocol";
import { LashError } from "@lash/protocol";
import type { ProviderTimeouts } from "@lash/provider-utils";
import { resolveProviderTimeouts } from "@lash/provider-utils";
import OpenAI from "openai";

/** Options shared by the Chat Completions and the Responses providers. */
export interface OpenAIProviderOptions {
  /**
   * Sent as `Authorization: Bearer <apiKey>`; a function is called before every request (rotating
   * credentials). It is never read from the environment: pass `process.env.OPENAI_API_KEY`
   * yourself. Omit it for servers without authentication (a local Ollama or llama.cpp server): no
   * `Authorization` header is sent then.
   */
  readonly apiKey?: string | (() => Promise<string>);
  /** The API root the endpoint paths are appended to. Default `https://api.openai.com/v1`. */
  readonly baseURL?: string;
  /** Extra headers sent with every request (`HTTP-Referer` for OpenRouter, `OpenAI-Beta`, ...). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Persisted with the session configuration. */
  readonly providerId?: string;
  /** The model used when the session policy names none. */
  readonly defaultModel?: string;
  /**
   * How long the response may take to start, and the longest silence between two chunks of its
   * body (`null` disables one). Defaults: 300 000 ms and 120 000 ms. Both fire as retryable
   * `timeout` failures.
   */
  readonly timeouts?: Partial<ProviderTimeouts>;
  /** Handed to the runtime, which owns retries; the SDK's own retries are always off. */
  readonly retryPolicy?: ProviderRetryPolicy;
  /** The output token limit sent with every request; none when absent (the server's default). */
  readonly maxOutputTokens?: number;
  /**
   * `true` (default): ask for a server-sent event stream and forward it as it arrives. `false`:
   * one plain JSON response (for servers that cannot stream); the runtime then sees no deltas.
   */
  readonly stream?: boolean;
  /**
   * Extra top-level fields of every request body (`temperature`, OpenRouter's `provider`, vLLM's
   * `top_k`, ...). Fields the adapter sets itself (`model`, `messages`, `stream`, ...) win.
   */
  readonly extraBody?: Readonly<Record<string, JsonValue>>;
  /**
   * Whether `usage.inputTokens` leaves out the cached tokens. Default `false`: OpenAI and the
   * servers that copy it count cached tokens inside `prompt_tokens` / `input_tokens`.
   */
  readonly inputUsageExcludesCachedTokens?: boolean;
  /** OpenAI organization and project headers (not read from the environment). */
  readonly organization?: string;
  readonly project?: string;
  /** The `fetch` used for every request (a proxy agent, a test double); the global one by default. */
  readonly fetch?: typeof globalThis.fetch;
}

/** What a provider object keeps from its options. */
export interface ResolvedProviderSettings {
  readonly providerId: string;
  readonly defaultModel: string | undefined;
  readonly timeouts: ProviderTimeouts;
  readonly maxOutputTokens: number | undefined;
  readonly stream: boolean;
  readonly extraBody: Readonly<Record<string, JsonValue>>;
  /** The client every call derives its own per-call client from. */
  readonly client: OpenAI;
  readonly fetch: typeof globalThis.fetch;
}

/**
 * The longest delay a timer honours. The SDK's own request timer is pushed out of the way with it:
 * the adapter enforces the timeouts itself, so that a timeout always surfaces the same way.
 */
const LONGEST_TIMER_MS = 2_147_483_647;

/** The SDK refuses to build a client without a key; a server without auth gets no header at all. */
const UNUSED_API_KEY = "no-api-key";

function configurationError(message: string): LashError {
  return new LashError("invalid_configuration", message);
}

function validateOptions(options: OpenAIProviderOptions, defaultProviderId: string): void {
  if (options.providerId !== undefined && options.providerId.trim() === "") {
    throw configurationError(`${defaultProviderId}: providerId must not be empty`);
  }
  if (options.baseURL !== undefined) {
    let url: URL;
    try {
      url = new URL(options.baseURL);
    } catch {
      throw configurationError(`${defaultProviderId}: baseURL is not a URL: ${JSON.stringify(options.baseURL)}`);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw configurationError(`${defaultProviderId}: baseURL must be http or https, got ${url.protocol}`);
    }
  }
  const limit = options.maxOutputTokens;
  if (limit !== undefined && (!Number.isSafeInteger(limit) || limit <= 0)) {
    throw configurationError(`${defaultProviderId}: maxOutputTokens must be a positive integer, got ${String(limit)}`);
  }
  if (typeof options.apiKey === "string" && options.apiKey.trim() === "") {
    throw configurationError(`${defaultProviderId}: apiKey is an empty string (omit it for servers without authentication)`);
  }
}

/**
 * Validates the options and builds the SDK client. Configuration errors are thrown here, before any
 * request, as `LashError` `invalid_configuration`.
 */
export function resolveProviderSettings(options: OpenAIProviderOptions, defaultProviderId: string): ResolvedProviderSettings {
  validateOptions(options, defaultProviderId);
  const timeouts = resolveProviderTimeouts(options.timeouts);
  const baseFetch = options.fetch ?? globalThis.fetch;
  const headers: Record<string, string | null> = { ...options.headers };
  if (options.apiKey === undefined && !hasHeader(headers, "authorization")) headers.Authorization = null;
  const client = new OpenAI({
    apiKey: options.apiKey ?? UNUSED_API_KEY,
    baseURL: options.baseURL ?? "https://api.openai.com/v1",
    organization: options.organization ?? null,
    project: options.project ?? null,
    defaultHeaders: headers,
    // Retries belong to the runtime (one attempt per call), timeouts to the adapter.
    maxRetries: 0,
    timeout: LONGEST_TIMER_MS,
    fetch: baseFetch,
    // Failures reach the caller as classified errors; the SDK's console output would only repeat them.
    logLevel: "off",
  });
  return {
    providerId: options.providerId ?? defaultProviderId,
    defaultModel: options.defaultModel,
    timeouts,
    maxOutputTokens: options.maxOutputTokens,
    stream: options.stream ?? true,
    extraBody: options.extraBody ?? {},
    client,
    fetch: baseFetch,
  };
}

function hasHeader(headers: Readonly<Record<string, unknown>>, name: string): boolean {
  return Object.keys(headers).some((key) => key.toLowerCase() === name);
}
