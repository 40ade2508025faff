import {
  APICallError,
  EmptyResponseBodyError,
  InvalidArgumentError,
  InvalidPromptError,
  InvalidResponseDataError,
  JSONParseError,
  LoadAPIKeyError,
  LoadSettingError,
  NoContentGeneratedError,
  NoSuchModelError,
  TypeValidationError,
  UnsupportedFunctionalityError,
} from "@ai-sdk/provider";
import type { ProviderFailure, ProviderFailureKind } from "@lash/protocol";
import { ProviderCallError } from "@lash/protocol";
import type { ProviderFailureInput, RequestDeadline } from "@lash/provider-utils";
import {
  callerAbortError,
  classifyProviderFailure,
  providerFailureFromHttp,
  providerFailureFromTransport,
  truncateProviderRaw,
} from "@lash/provider-utils";

/** How deep to look through `cause` chains (wrappers such as the AI Gateway's keep the HTTP error as the cause). */
const MOST_CAUSES = 8;

function isErrorStatus(status: number): boolean {
  return status >= 400;
}

function messageOf(error: unknown): string {
  if (error instanceof Error && error.message !== "") return error.message;
  if (typeof error === "string" && error !== "") return error;
  if (typeof error === "object" && error !== null) {
    const message = (error as Record<string, unknown>).message;
    if (typeof message === "string" && message !== "") return message;
    try {
      return JSON.stringify(error);
    } catch {
      // Falls through to the generic text.
    }
  }
  return "the AI SDK model call failed";
}

function causeOf(error: unknown): unknown {
  return typeof error === "object" && error !== null ? (error as { cause?: unknown }).cause : undefined;
}

/** The error itself or the first error in its `cause` chain that `matches`. */
function findInChain<T>(error: unknown, matches: (candidate: unknown) => candidate is T): T | undefined {
  let current = error;
  for (let depth = 0; depth < MOST_CAUSES && current !== undefined && current !== null; depth += 1) {
    if (matches(current)) return current;
    current = causeOf(current);
  }
  return undefined;
}

/** An HTTP status a wrapper error carries without being an `APICallError` (the AI Gateway's errors do). */
function statusCodeOf(error: unknown): number | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const status = (error as Record<string, unknown>).statusCode;
  return typeof status === "number" && Number.isInteger(status) && status >= 100 && status <= 599 ? status : undefined;
}

/** The kind of an AI SDK error raised before or after the HTTP exchange, when it has one. */
function kindOfSdkError(error: unknown): { kind: ProviderFailureKind; retryable: boolean } | undefined {
  if (LoadAPIKeyError.isInstance(error)) return { kind: "auth", retryable: false };
  if (NoSuchModelError.isInstance(error)) return { kind: "unsupported", retryable: false };
  if (UnsupportedFunctionalityError.isInstance(error)) return { kind: "unsupported", retryable: false };
  if (InvalidPromptError.isInstance(error) || InvalidArgumentError.isInstance(error) || LoadSettingError.isInstance(error)) {
    return { kind: "validation", retryable: false };
  }
  // A body the SDK could not parse or validate: what the server sent is broken, and sending the same
  // request again is unlikely to help.
  if (TypeValidationError.isInstance(error) || JSONParseError.isInstance(error) || InvalidResponseDataError.isInstance(error)) {
    return { kind: "stream", retryable: false };
  }
  // An empty body or no content is usually a server hiccup.
  if (EmptyResponseBodyError.isInstance(error) || NoContentGeneratedError.isInstance(error)) {
    return { kind: "stream", retryable: true };
  }
  return undefined;
}

/** What `failureFromModelError` needs to know about the call that failed. */
export interface ModelErrorContext {
  /** The caller's signal: when it aborted, the abort is rethrown instead of classified. */
  readonly signal?: AbortSignal;
  /** The attempt's deadline: when it fired, its `timeout` failure wins over the SDK's abort error. */
  readonly deadline?: Pick<RequestDeadline, "timedOut">;
  /** The kind of a failure nothing more specific is known about (default `unknown`). */
  readonly fallbackKind?: ProviderFailureKind;
}

function withStatusPrefix(status: number, message: string): string {
  return message.startsWith("HTTP ") ? message : `HTTP ${status}: ${message}`;
}

/**
 * Classifies an error thrown by an AI SDK model (or found in its stream), in this order:
 * 1. the caller aborted: the abort is rethrown (`callerAbortError`), never classified;
 * 2. the request deadline fired: its retryable `timeout` failure;
 * 3. a `ProviderCallError`: its failure, unchanged;
 * 4. an `APICallError` (itself or in the `cause` chain, where wrappers such as the AI Gateway keep
 *    it) with an error status (400 and above): an HTTP failure read from its status, response
 *    headers (`Retry-After` included) and body by `providerFailureFromHttp`;
 * 5. a wrapper error that carries only an error `statusCode`: an HTTP failure with that status;
 * 6. the AI SDK's own errors by class: a missing API key is `auth`, an invalid prompt or argument
 *    `validation`, unsupported functionality or an unknown model `unsupported`, an unparsable
 *    response `stream`;
 * 7. anything else through `providerFailureFromTransport` (connection failures and timeouts are
 *    retryable; an `APICallError` without a status keeps the SDK's `isRetryable`).
 */
export function failureFromModelError(error: unknown, context: ModelErrorContext = {}): ProviderFailure {
  if (context.signal?.aborted === true) throw callerAbortError(context.signal);
  const timedOut = context.deadline?.timedOut();
  if (timedOut !== undefined) return timedOut;
  if (ProviderCallError.isInstance(error)) return error.failure;
  const message = messageOf(error);
  const apiError = findInChain(error, APICallError.isInstance);
  // The SDK reports a body that broke off after a 2xx status as an `APICallError` with that status
  // ("Failed to process successful response"): the cause, not the status, says what went wrong.
  if (apiError?.statusCode !== undefined && isErrorStatus(apiError.statusCode)) {
    return providerFailureFromHttp({
      status: apiError.statusCode,
      headers: apiError.responseHeaders,
      body: apiError.responseBody,
      message: withStatusPrefix(apiError.statusCode, message),
    });
  }
  const status = statusCodeOf(error);
  if (status !== undefined && isErrorStatus(status) && apiError === undefined) {
    return providerFailureFromHttp({ status, message: withStatusPrefix(status, message) });
  }
  const sdkError = findInChain(error, (candidate): candidate is unknown => kindOfSdkError(candidate) !== undefined);
  const known = sdkError === undefined ? undefined : kindOfSdkError(sdkError);
  if (known !== undefined) return classifyProviderFailure({ kind: known.kind, message, retryable: known.retryable });
  const failure = providerFailureFromTransport(error);
  if (failure.kind !== "unknown") return failure;
  if (apiError?.isRetryable === true) return classifyProviderFailure({ kind: "transport", message: failure.message, retryable: true });
  const fallbackKind = context.fallbackKind ?? "unknown";
  if (fallbackKind === "unknown" || failure.code === "aborted") return failure;
  return classifyProviderFailure({ kind: fallbackKind, message: failure.message, retryable: false });
}

/**
 * Wording of mid-stream provider errors that are worth another attempt: the server was overloaded
 * or failed, not the request. Streams have no status code to say so.
 */
const TRANSIENT_STREAM_PHRASES = [
  "overloaded",
  "server_error",
  "server error",
  "internal error",
  "unavailable",
  "timeout",
  "timed out",
  "rate limit",
  "rate_limit",
];

/**
 * Classifies an `error` part of a model's stream. It carries whatever the provider sent: an
 * `APICallError`, an `Error`, or the provider's own error object (`{ message, type, code }`).
 */
export function failureFromStreamError(error: unknown): ProviderFailure {
  if (findInChain(error, APICallError.isInstance) !== undefined || error instanceof Error) {
    return failureFromModelError(error, { fallbackKind: "stream" });
  }
  const message = messageOf(error);
  const input: ProviderFailureInput = { kind: "stream", message };
  if (typeof error === "object" && error !== null) {
    const record = error as Record<string, unknown>;
    const code = [record.code, record.type].find((value) => typeof value === "string" || typeof value === "number");
    if (code !== undefined) input.code = String(code);
    const raw = safeJson(error);
    if (raw !== undefined) input.raw = raw;
  }
  const text = `${message} ${input.code ?? ""}`.toLowerCase();
  input.retryable = TRANSIENT_STREAM_PHRASES.some((phrase) => text.includes(phrase));
  return classifyProviderFailure(input);
}

function safeJson(value: unknown): string | undefined {
  try {
    const text = JSON.stringify(value);
    return text === undefined ? undefined : truncateProviderRaw(text);
  } catch {
    return undefined;
  }
}

/** A `ProviderCallError` for a classified failure, keeping the original error as the cause. */
export function providerCallError(failure: ProviderFailure, cause?: unknown): ProviderCallError {
  return new ProviderCallError(failure, cause === undefined ? {} : { cause });
}
