import type { ProviderFailure } from "@lash/protocol";
import { ProviderCallError } from "@lash/protocol";
import type { RequestDeadline } from "@lash/provider-utils";
import {
  callerAbortError,
  classifyProviderFailure,
  malformedStreamFailure,
  providerFailureFromHttp,
  providerFailureFromTransport,
  truncateProviderRaw,
} from "@lash/provider-utils";
import { APIConnectionTimeoutError, APIError, APIUserAbortError } from "openai";
import type { CallObservation } from "./call-fetch.js";

/** What the failure mapping knows about the call that failed. */
export interface FailureContext {
  /** The caller's signal: once it aborted, every error is the abort. */
  readonly signal: AbortSignal;
  readonly deadline: RequestDeadline;
  readonly observation: CallObservation;
}

/**
 * Error codes (and types) of failures reported inside a `200` stream or response body that are
 * worth another attempt: the server had a transient problem, not the request.
 */
const RETRYABLE_BODY_ERROR_CODES = new Set([
  "server_error",
  "internal_error",
  "internal_server_error",
  "service_unavailable",
  "overloaded",
  "overloaded_error",
  "rate_limit_exceeded",
  "rate_limit_error",
  "slow_down",
  "timeout",
]);

const LONGEST_MESSAGE = 1_000;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function shortString(value: unknown, limit: number): string | undefined {
  if (typeof value === "number" && Number.isSafeInteger(value)) return String(value);
  if (typeof value !== "string") return undefined;
  const trimmed = value.trim();
  if (trimmed === "") return undefined;
  return trimmed.length > limit ? `${trimmed.slice(0, limit - 1)}…` : trimmed;
}

function jsonText(value: unknown): string | undefined {
  try {
    return JSON.stringify(value);
  } catch {
    return undefined;
  }
}

/**
 * The failure of an error object a server put inside a successful response: an `{"error": ...}`
 * event of a Chat Completions stream (OpenRouter does this when the upstream fails mid-stream), a
 * Responses `error` event, or the `error` of a `response.failed` event. A numeric code is read as
 * an HTTP status by the classifier.
 */
export function failureFromBodyError(error: unknown, fallbackMessage: string): ProviderFailure {
  const record = isRecord(error) ? error : {};
  const message = shortString(record.message, LONGEST_MESSAGE) ?? fallbackMessage;
  const code = shortString(record.code, 200) ?? shortString(record.type, 200);
  const type = shortString(record.type, 200);
  const retryable =
    (code !== undefined && RETRYABLE_BODY_ERROR_CODES.has(code.toLowerCase())) ||
    (type !== undefined && RETRYABLE_BODY_ERROR_CODES.has(type.toLowerCase()));
  const raw = jsonText(error);
  return classifyProviderFailure({
    kind: "unknown",
    message,
    retryable,
    ...(code === undefined ? {} : { code }),
    ...(raw === undefined ? {} : { raw: truncateProviderRaw(raw) }),
  });
}

/** A `stream` failure naming what was wrong with the data the server sent; never retryable. */
export function malformedStream(problem: string): ProviderCallError {
  return new ProviderCallError(malformedStreamFailure(`malformed stream: ${problem}`));
}

/** OpenAI's rate-limit messages say how long to wait: "Please try again in 3.646s" (or "in 20ms"). */
const TRY_AGAIN_IN = /try again in (\d{1,6}(?:\.\d{1,6})?)\s?(ms|s)\b/i;

function delayFromMessage(message: string): number | undefined {
  const match = TRY_AGAIN_IN.exec(message);
  if (match?.[1] === undefined) return undefined;
  const amount = Number(match[1]);
  return Math.ceil(match[2]?.toLowerCase() === "ms" ? amount : amount * 1_000);
}

function httpFailure(error: APIError, observation: CallObservation): ProviderFailure {
  const status = error.status ?? 0;
  const failure = providerFailureFromHttp({
    status,
    ...(error.headers === undefined ? {} : { headers: error.headers }),
    // The body as received beats the SDK's parsed `error` field: it also holds non-OpenAI shapes.
    body: observation.errorBody ?? error.error,
  });
  if (failure.retryAfterMs !== undefined || !failure.retryable) return failure;
  // Without a `Retry-After` header the wait the message names beats the runtime's blind backoff.
  const delay = delayFromMessage(failure.message);
  return delay === undefined ? failure : { ...failure, retryAfterMs: delay };
}

/**
 * Turns whatever a call threw into what the adapter throws: the caller's abort (never a failure),
 * or a `ProviderCallError` with a classified failure:
 * - HTTP error statuses from the SDK's `APIError`, with the body, headers and `Retry-After`;
 * - an error object inside a successful stream or body;
 * - the adapter's own request and chunk timeouts (`timeout`, retryable);
 * - connection failures before the response (`transport`, retryable) and a connection dropped
 *   while the body streamed (`stream`, retryable);
 * - malformed data (`stream`, not retryable), which the reading side throws as `ProviderCallError`s.
 */
export function toProviderError(error: unknown, context: FailureContext): unknown {
  const { signal, deadline, observation } = context;
  if (signal.aborted) return callerAbortError(signal);
  const timeout = deadline.timedOut();
  if (timeout !== undefined) return new ProviderCallError(timeout, { cause: error });
  if (ProviderCallError.isInstance(error)) return error;
  if (error instanceof APIError) {
    if (typeof error.status === "number") return new ProviderCallError(httpFailure(error, observation), { cause: error });
    if (error instanceof APIConnectionTimeoutError) {
      return new ProviderCallError(classifyProviderFailure({ kind: "timeout", code: "timeout", message: error.message, retryable: true }), {
        cause: error,
      });
    }
    if (error instanceof APIUserAbortError) {
      // Neither the caller nor a timeout aborted: nobody else holds the signal, so this is a bug.
      return new ProviderCallError(
        classifyProviderFailure({ kind: "unknown", code: "aborted", message: "the request was aborted unexpectedly", retryable: false }),
        { cause: error },
      );
    }
  }
  const cause = error instanceof APIError && "cause" in error && error.cause !== undefined ? error.cause : error;
  const failure = providerFailureFromTransport(cause, { signal, deadline });
  if (failure.kind === "transport" && observation.responseStarted) {
    // The connection dropped while the body streamed: the response is incomplete, try again.
    return new ProviderCallError(
      classifyProviderFailure({
        kind: "stream",
        message: `the connection dropped while the response streamed: ${failure.message}`,
        retryable: true,
        ...(failure.code === undefined ? {} : { code: failure.code }),
      }),
      { cause: error },
    );
  }
  return new ProviderCallError(failure, { cause: error });
}
