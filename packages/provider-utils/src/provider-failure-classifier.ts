import type { LlmTerminalReason, ProviderFailure, ProviderFailureKind } from "@lash/protocol";

/** What an adapter knows about a failure before classification. */
export interface ProviderFailureInput {
  /** What went wrong, for people. */
  message: string;
  /** The class the adapter already knows; absent = `unknown` (`http` once a status is known). */
  kind?: ProviderFailureKind;
  /** The HTTP status; absent when no response arrived. */
  status?: number;
  /** The provider's error code or type, or the adapter's own; a three-digit code counts as a status. */
  code?: string;
  /** The response body or stream fragment (cut it with `truncateProviderRaw`). */
  raw?: string;
  /** Response headers, names in lower case (`normalizeResponseHeaders`). */
  headers?: Record<string, string>;
  /** The wait the server asked for, in milliseconds. */
  retryAfterMs?: number;
  /** The request body, kept with the failure. */
  requestBody?: string;
  /** The adapter's own opinion for failures without a status (for example a dropped stream). */
  retryable?: boolean;
  /** The terminal reason when the adapter knows better than the wording; absent = `provider_error` (or what the wording says). */
  terminalReason?: LlmTerminalReason;
}

// Timeouts, conflicts, too-early, rate limits and transient server errors, plus 529: Anthropic's
// "overloaded", which its own clients retry.
const RETRYABLE_STATUSES = new Set([408, 409, 425, 429, 500, 502, 503, 504, 529]);
const AUTH_STATUSES = new Set([401, 403]);
const VALIDATION_STATUSES = new Set([400, 413, 422]);

const CONTEXT_OVERFLOW_PHRASES = [
  "context_length_exceeded",
  "context length",
  "maximum context",
  "context window",
  "prompt is too long",
  "input is too long",
  "too many tokens in the prompt",
  "reduce the length of the messages",
];
const RATE_LIMIT_PHRASES = [
  "rate limit",
  "rate_limit",
  "per minute",
  "perminute",
  "per min",
  "tokens per min",
  "requests per",
  "try again in",
];
const QUOTA_PHRASES = ["insufficient_quota", "usage_limit_reached", "usage_not_included", "quota", "credit balance"];
const CONTENT_FILTER_PHRASES = ["content_filter", "prohibited_content", "safety", "sensitive"];
const UNSUPPORTED_PHRASES = ["model_not_found", "unsupported model", "does not exist"];

function includesAny(text: string, phrases: readonly string[]): boolean {
  return phrases.some((phrase) => text.includes(phrase));
}

function statusFrom(input: ProviderFailureInput): number | undefined {
  if (input.status !== undefined) return input.status;
  if (input.code !== undefined && /^\d{3}$/.test(input.code)) return Number(input.code);
  return undefined;
}

/**
 * Classifies a provider failure (the runtime and every adapter share this classifier):
 * - a status (from `status` or a numeric `code`) turns kind `unknown` into `http`;
 * - 408, 409, 425, 429, 500, 502, 503, 504 and 529 (overloaded) are retryable; 401/403 are `auth`; 400/413/422 are
 *   `validation`; without a status, `transport` and `timeout` failures are retryable;
 * - context-overflow wording (unless it reads as a rate limit) is `validation`, not retryable, with
 *   terminal reason `context_overflow`;
 * - quota wording is `quota` and not retryable, unless it reads as a per-minute rate limit or the
 *   server sent `Retry-After` with a retryable status;
 * - content-filter wording sets terminal reason `content_filter`;
 * - unknown-model wording is `unsupported`, not retryable.
 */
export function classifyProviderFailure(input: ProviderFailureInput): ProviderFailure {
  const status = statusFrom(input);
  let kind: ProviderFailureKind = input.kind ?? "unknown";
  if (status !== undefined && kind === "unknown") kind = "http";
  let retryable = status !== undefined ? RETRYABLE_STATUSES.has(status) : (input.retryable ?? (kind === "transport" || kind === "timeout"));
  let terminalReason: LlmTerminalReason = input.terminalReason ?? "provider_error";

  if (status !== undefined && AUTH_STATUSES.has(status)) {
    kind = "auth";
    retryable = false;
  } else if (status !== undefined && VALIDATION_STATUSES.has(status)) {
    kind = "validation";
    retryable = false;
  }

  const text = `${input.message} ${input.code ?? ""} ${input.raw ?? ""}`.toLowerCase();
  const looksLikeRateLimit = includesAny(text, RATE_LIMIT_PHRASES);
  if (includesAny(text, CONTEXT_OVERFLOW_PHRASES) && !looksLikeRateLimit) {
    kind = "validation";
    retryable = false;
    terminalReason = "context_overflow";
  } else if (includesAny(text, QUOTA_PHRASES)) {
    const serverAskedToWait = input.retryAfterMs !== undefined && status !== undefined && RETRYABLE_STATUSES.has(status);
    kind = "quota";
    retryable = looksLikeRateLimit || serverAskedToWait;
  }
  if (includesAny(text, CONTENT_FILTER_PHRASES)) terminalReason = "content_filter";
  if (includesAny(text, UNSUPPORTED_PHRASES)) {
    kind = "unsupported";
    retryable = false;
  }

  const failure: ProviderFailure = { kind, message: input.message, retryable, terminalReason };
  if (status !== undefined) failure.status = status;
  if (input.raw !== undefined) failure.raw = input.raw;
  if (input.code !== undefined) failure.code = input.code;
  if (input.headers !== undefined) failure.headers = input.headers;
  if (input.retryAfterMs !== undefined) failure.retryAfterMs = input.retryAfterMs;
  if (input.requestBody !== undefined) failure.requestBody = input.requestBody;
  return failure;
}
