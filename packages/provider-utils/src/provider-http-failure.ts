import type { ProviderFailure } from "@lash/protocol";
import { classifyProviderFailure, type ProviderFailureInput } from "./provider-failure-classifier.js";
import { truncateProviderRaw, truncateText } from "./provider-raw-text.js";
import { normalizeResponseHeaders, type ResponseHeadersInput } from "./response-headers.js";
import { durationMsFromProtobufJson, retryAfterMsFromHeaders } from "./retry-after.js";

/** What an adapter knows about an HTTP error response. */
export interface ProviderHttpFailureInput {
  /** The HTTP status of the response. */
  readonly status: number;
  readonly headers?: ResponseHeadersInput;
  /**
   * The response body: the text or bytes as received, or the value an SDK already parsed from it
   * (for example `APIError.error`). `undefined` when there was none.
   */
  readonly body?: unknown;
  /** Overrides the message taken from the body (which otherwise falls back to `HTTP <status>`). */
  readonly message?: string;
  /** The request body, when the adapter wants it kept with the failure. */
  readonly requestBody?: string;
  /** The current time in epoch milliseconds, for a `Retry-After` HTTP date; `Date.now()` when absent. */
  readonly now?: number;
}

/** What the body of an error response says, whatever provider sent it. */
interface ErrorBodyDetails {
  message?: string;
  code?: string;
  retryAfterMs?: number;
}

/** Bodies larger than this are not parsed as JSON (they are still kept, truncated, in `raw`). */
const LARGEST_PARSED_BODY = 1_000_000;
/** An extracted error message is cut to this many characters. */
const LONGEST_MESSAGE = 1_000;
/** Codes and types are identifiers; anything longer is not one. */
const LONGEST_CODE = 200;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function nonEmptyString(value: unknown, limit: number): string | undefined {
  if (typeof value !== "string") return undefined;
  const trimmed = value.trim();
  return trimmed.length === 0 ? undefined : truncateText(trimmed, limit);
}

function bodyText(body: unknown): string | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === "string") return body;
  if (body instanceof Uint8Array) return new TextDecoder("utf-8", { fatal: false }).decode(body);
  try {
    return JSON.stringify(body);
  } catch {
    // A cyclic or BigInt-holding value an SDK handed over: keep what can be said about it.
    return String(body);
  }
}

function parsedBody(body: unknown, text: string | undefined): unknown {
  if (typeof body !== "string" && !(body instanceof Uint8Array)) return body;
  if (text === undefined || text.length > LARGEST_PARSED_BODY) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** Google puts the retry delay in `error.details[]` as a `google.rpc.RetryInfo`. */
function googleRetryDelayMs(error: Record<string, unknown>): number | undefined {
  const details = error.details;
  if (!Array.isArray(details)) return undefined;
  for (const detail of details.slice(0, 50)) {
    if (!isRecord(detail)) continue;
    const type = detail["@type"];
    if (typeof type === "string" && type.endsWith("google.rpc.RetryInfo")) {
      return durationMsFromProtobufJson(detail.retryDelay);
    }
  }
  return undefined;
}

/**
 * Reads the error out of the body shapes providers use:
 * - OpenAI and compatible servers: `{ error: { message, type, code } }`;
 * - Anthropic: `{ type: "error", error: { type, message } }`;
 * - Google: `{ error: { code: 429, message, status: "RESOURCE_EXHAUSTED", details } }`, sometimes
 *   wrapped in a one-element array by streaming endpoints;
 * - OAuth token endpoints: `{ error: "invalid_grant", error_description }`;
 * - an SDK's already-unwrapped error object `{ message, type, code }`, and `{ detail }` / `{ message }`.
 */
function errorBodyDetails(parsed: unknown): ErrorBodyDetails {
  const root = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!isRecord(root)) return {};
  const nested = root.error;
  if (typeof nested === "string") {
    const details: ErrorBodyDetails = {};
    const message = nonEmptyString(root.error_description, LONGEST_MESSAGE) ?? nonEmptyString(nested, LONGEST_MESSAGE);
    const code = nonEmptyString(nested, LONGEST_CODE);
    if (message !== undefined) details.message = message;
    if (code !== undefined) details.code = code;
    return details;
  }
  const error = isRecord(nested) ? nested : root;
  const details: ErrorBodyDetails = {};
  const message =
    nonEmptyString(error.message, LONGEST_MESSAGE) ??
    nonEmptyString(root.message, LONGEST_MESSAGE) ??
    nonEmptyString(root.detail, LONGEST_MESSAGE);
  // A string `code` is the most specific identifier (OpenAI's `rate_limit_exceeded`); Google's
  // `status` (`RESOURCE_EXHAUSTED`) beats its numeric `code`, which only repeats the HTTP status.
  const code =
    nonEmptyString(error.code, LONGEST_CODE) ?? nonEmptyString(error.status, LONGEST_CODE) ?? nonEmptyString(error.type, LONGEST_CODE);
  const retryAfterMs = googleRetryDelayMs(error);
  if (message !== undefined) details.message = message;
  if (code !== undefined) details.code = code;
  if (retryAfterMs !== undefined) details.retryAfterMs = retryAfterMs;
  return details;
}

/**
 * Builds the classified `ProviderFailure` of an HTTP error response (through
 * `classifyProviderFailure`): the message, code and type come from the JSON body of any of the
 * common provider shapes (see the source for the list), the delay from `retry-after-ms` /
 * `Retry-After` (seconds or an HTTP date) or Google's `RetryInfo`, and `raw` is the body trimmed
 * and cut to about 4000 characters (see `truncateProviderRaw`). Headers are normalized with
 * `normalizeResponseHeaders`. Nothing in the body is trusted: a body that is not JSON, or JSON of
 * an unknown shape, still yields a failure with the message `HTTP <status>`.
 *
 * Throw it as `new ProviderCallError(providerFailureFromHttp(...))`.
 */
export function providerFailureFromHttp(input: ProviderHttpFailureInput): ProviderFailure {
  const headers = normalizeResponseHeaders(input.headers);
  const text = bodyText(input.body);
  const details = errorBodyDetails(parsedBody(input.body, text));
  const retryAfterMs = retryAfterMsFromHeaders(headers, input.now === undefined ? {} : { now: input.now }) ?? details.retryAfterMs;
  const message =
    nonEmptyString(input.message, LONGEST_MESSAGE) ??
    (details.message === undefined ? `HTTP ${input.status}` : `HTTP ${input.status}: ${details.message}`);
  const failureInput: ProviderFailureInput = { message, status: input.status, headers };
  if (details.code !== undefined) failureInput.code = details.code;
  if (text !== undefined && text.trim().length > 0) failureInput.raw = truncateProviderRaw(text);
  if (retryAfterMs !== undefined) failureInput.retryAfterMs = retryAfterMs;
  if (input.requestBody !== undefined) failureInput.requestBody = input.requestBody;
  return classifyProviderFailure(failureInput);
}
