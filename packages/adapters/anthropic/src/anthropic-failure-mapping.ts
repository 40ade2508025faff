import { APIError } from "@anthropic-ai/sdk";
import type { ProviderFailure } from "@lash/protocol";
import { ProviderCallError } from "@lash/protocol";
import type { RequestDeadline } from "@lash/provider-utils";
import {
  classifyProviderFailure,
  malformedStreamFailure,
  providerFailureFromHttp,
  providerFailureFromTransport,
  truncateProviderRaw,
  truncateText,
} from "@lash/provider-utils";
import { MalformedStreamEventError } from "./anthropic-stream-events.js";
import { AnthropicStreamErrorEvent } from "./anthropic-stream-mapping.js";

/** Anthropic's status for "overloaded": not a standard code, and worth waiting for. */
const OVERLOADED_STATUS = 529;

/** Error types (the body's `error.type`) that say "try again later". */
const RETRYABLE_ERROR_TYPES = new Set(["overloaded_error", "api_error", "rate_limit_error", "timeout_error"]);
const AUTH_ERROR_TYPES = new Set(["authentication_error", "permission_error"]);

const LONGEST_MESSAGE = 1_000;

/** The labels the SDK appends to an error's message: ` (request_id: ..., path: /v1/messages)`. */
const SDK_MESSAGE_LABELS = / \((?:(?:error_code|request_id|path|type): [^,()]*(?:, )?)+\)$/;

function errorTypeOf(body: unknown): string | undefined {
  if (typeof body !== "object" || body === null) return undefined;
  const error = (body as Record<string, unknown>).error;
  if (typeof error !== "object" || error === null) return undefined;
  const type = (error as Record<string, unknown>).type;
  return typeof type === "string" && type.length <= 200 ? type : undefined;
}

/**
 * What the generic classification cannot know about Anthropic:
 * - 529 and `overloaded_error` are retryable (the generic table does not list 529);
 * - `billing_error` (402) is a quota failure;
 * - `authentication_error` / `permission_error` are auth failures whatever the status;
 * - a 404 `not_found_error` that names a model (`"model: claude-x"`) is an unknown model.
 * Context overflow ("prompt is too long") and the credit-balance wording are already recognised
 * by `classifyProviderFailure`.
 */
function refine(failure: ProviderFailure, errorType: string | undefined): ProviderFailure {
  const refined: ProviderFailure = { ...failure };
  if (failure.status === OVERLOADED_STATUS || errorType === "overloaded_error") {
    refined.retryable = true;
  }
  if (errorType === "billing_error" || failure.status === 402) {
    refined.kind = "quota";
    refined.retryable = false;
  }
  if (errorType !== undefined && AUTH_ERROR_TYPES.has(errorType)) {
    refined.kind = "auth";
    refined.retryable = false;
  }
  if (errorType === "not_found_error" && /\bmodel\b/i.test(failure.message)) {
    refined.kind = "unsupported";
    refined.retryable = false;
  }
  return refined;
}

/** The failure of an HTTP error response the SDK turned into an `APIError`. */
function failureFromApiError(error: APIError & { status: number }): ProviderFailure {
  // The SDK keeps the parsed JSON body in `error.error`; a body that was not JSON only survives in
  // the message, between the status and the SDK's own bracketed labels (request id, path, ...).
  const body: unknown = error.error ?? error.message.replace(/^\d{3} /, "").replace(SDK_MESSAGE_LABELS, "");
  const failure = providerFailureFromHttp({ status: error.status, headers: error.headers ?? undefined, body });
  return refine(failure, errorTypeOf(error.error));
}

/** The failure of an `error` event in the middle of a stream (after a 200). */
export function failureFromStreamErrorEvent(event: AnthropicStreamErrorEvent): ProviderFailure {
  const errorType = event.errorType === undefined ? undefined : truncateText(event.errorType, 200);
  const detail = event.apiMessage === undefined ? undefined : truncateText(event.apiMessage, LONGEST_MESSAGE);
  const message = `stream error${errorType === undefined ? "" : ` (${errorType})`}: ${detail ?? "the server ended the stream with an error event"}`;
  const failure = classifyProviderFailure({
    kind: "stream",
    message,
    code: errorType ?? "stream_error",
    retryable: errorType !== undefined && RETRYABLE_ERROR_TYPES.has(errorType),
    raw: truncateProviderRaw(JSON.stringify({ type: "error", error: { type: errorType, message: detail } })),
  });
  return refine(failure, errorType);
}

export interface FailureContext {
  /** The caller's signal: its abort is rethrown as the abort, never turned into a failure. */
  readonly signal: AbortSignal;
  readonly deadline: Pick<RequestDeadline, "timedOut">;
}

/**
 * Turns anything thrown while calling the API or reading its stream into what `doStream` throws:
 * the caller's abort (its reason, unchanged), or a `ProviderCallError` with a classified failure.
 * A timeout wins over the abort error it caused.
 */
export function providerErrorFrom(error: unknown, context: FailureContext): unknown {
  if (context.signal.aborted) return context.signal.reason ?? error;
  const timeout = context.deadline.timedOut();
  if (timeout !== undefined) return new ProviderCallError(timeout, { cause: error });
  if (ProviderCallError.isInstance(error)) return error;
  if (error instanceof AnthropicStreamErrorEvent) return new ProviderCallError(failureFromStreamErrorEvent(error), { cause: error });
  if (error instanceof MalformedStreamEventError) return new ProviderCallError(malformedStreamFailure(error.message), { cause: error });
  if (error instanceof APIError && typeof error.status === "number") {
    return new ProviderCallError(failureFromApiError(error as APIError & { status: number }), { cause: error });
  }
  try {
    return new ProviderCallError(providerFailureFromTransport(error, { signal: context.signal, deadline: context.deadline }), {
      cause: error,
    });
  } catch (abort) {
    // `providerFailureFromTransport` throws the caller's abort when the signal fired meanwhile.
    return abort;
  }
}
