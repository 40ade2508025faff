import type { ProviderFailure, ProviderFailureKind } from "@lash/protocol";
import { ProviderCallError } from "@lash/protocol";
import { classifyProviderFailure, type ProviderFailureInput } from "./provider-failure-classifier.js";
import { truncateText } from "./provider-raw-text.js";
import type { RequestDeadline } from "./request-deadline.js";

/** Options of `providerFailureFromTransport`. */
export interface TransportFailureOptions {
  /** The caller's signal (`ProviderCallOptions.signal`): when it has aborted, the abort is rethrown. */
  readonly signal?: AbortSignal;
  /** The attempt's deadline: when one of its timeouts fired, that `timeout` failure is returned. */
  readonly deadline?: Pick<RequestDeadline, "timedOut">;
  /** The request body, when the adapter wants it kept with the failure. */
  readonly requestBody?: string;
}

/** Errno and undici codes of a connection that failed or dropped: worth another attempt. */
const TRANSPORT_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ENETUNREACH",
  "ENETDOWN",
  "EHOSTUNREACH",
  "EHOSTDOWN",
  "UND_ERR_SOCKET",
  "UND_ERR_CLOSED",
  "ERR_STREAM_PREMATURE_CLOSE",
]);
/** Codes and error names of a timeout enforced below the adapter (socket, undici, an SDK's own timer). */
const TIMEOUT_CODES = new Set([
  "ETIMEDOUT",
  "ESOCKETTIMEDOUT",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
]);
const TIMEOUT_NAMES = new Set(["TimeoutError", "APIConnectionTimeoutError"]);
const TRANSPORT_NAMES = new Set(["APIConnectionError", "FetchError"]);
const ABORT_NAMES = new Set(["AbortError", "APIUserAbortError"]);
/** Wording of dropped connections in Node, undici and the SDKs (`TypeError: terminated` is undici's mid-body drop). */
const TRANSPORT_PHRASES = [
  "socket hang up",
  "fetch failed",
  "terminated",
  "other side closed",
  "network error",
  "connection error",
  "premature close",
  "connection reset",
  "connection closed",
  "econnreset",
];

/** How deep the `cause` chain is followed (a cyclic chain must not loop). */
const DEEPEST_CAUSE = 8;

interface ErrorLink {
  readonly name?: string;
  readonly message?: string;
  readonly code?: string;
}

function linksOf(error: unknown): ErrorLink[] {
  const links: ErrorLink[] = [];
  let current: unknown = error;
  const seen = new Set<unknown>();
  while (current !== undefined && current !== null && links.length < DEEPEST_CAUSE && !seen.has(current)) {
    seen.add(current);
    if (typeof current !== "object") {
      links.push({ message: String(current) });
      break;
    }
    const record = current as Record<string, unknown>;
    const link: { name?: string; message?: string; code?: string } = {};
    if (typeof record.name === "string") link.name = record.name;
    if (typeof record.message === "string") link.message = record.message;
    if (typeof record.code === "string") link.code = record.code;
    links.push(link);
    current = record.cause;
  }
  return links;
}

/**
 * The error to throw for the caller's abort: the signal's reason (what `AbortController.abort(reason)`
 * was given), or an `AbortError` `DOMException` when it had none.
 */
export function callerAbortError(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException("This operation was aborted", "AbortError");
}

function classify(links: readonly ErrorLink[]): { kind: ProviderFailureKind; code?: string } {
  const timeout = links.find(
    (link) => (link.code !== undefined && TIMEOUT_CODES.has(link.code)) || (link.name !== undefined && TIMEOUT_NAMES.has(link.name)),
  );
  if (timeout !== undefined) return { kind: "timeout", code: timeout.code ?? "timeout" };
  const coded = links.find((link) => link.code !== undefined && TRANSPORT_CODES.has(link.code));
  if (coded?.code !== undefined) return { kind: "transport", code: coded.code };
  const aborted = links.some((link) => link.name !== undefined && ABORT_NAMES.has(link.name));
  if (aborted) return { kind: "unknown", code: "aborted" };
  const transport = links.some(
    (link) =>
      (link.name !== undefined && TRANSPORT_NAMES.has(link.name)) ||
      (link.message !== undefined && TRANSPORT_PHRASES.some((phrase) => link.message?.toLowerCase().includes(phrase))),
  );
  if (transport) return { kind: "transport" };
  if (links[0]?.name === "SyntaxError") return { kind: "stream" };
  return { kind: "unknown" };
}

function messageOf(links: readonly ErrorLink[]): string {
  const messages: string[] = [];
  for (const link of links) {
    const message = link.message?.trim();
    if (message !== undefined && message.length > 0 && !messages.includes(message)) messages.push(message);
  }
  return truncateText(messages.length === 0 ? "the provider request failed" : messages.join(": "), 1_000);
}

/**
 * Classifies an error thrown while sending a request or reading its response (not an HTTP error
 * status: use `providerFailureFromHttp` for those), in this order:
 * 1. the caller's `signal` aborted: this does not return, it throws `callerAbortError(signal)`, so a
 *    cancellation can never become a (retryable) failure;
 * 2. the `deadline` timed out: its `timeout` failure (retryable);
 * 3. a `ProviderCallError`: its failure, unchanged;
 * 4. otherwise the `cause` chain is read: socket and undici timeouts and an SDK's own timeout are
 *    `timeout`; connection failures (`ECONNRESET`, `ECONNREFUSED`, `socket hang up`, `fetch failed`,
 *    undici's `terminated` after a dropped body, ...) are `transport`; both retryable. An abort that
 *    did not come from the caller is `unknown` with code `aborted` and never retryable; a
 *    `SyntaxError` (a malformed stream) is `stream`; anything else is `unknown`, not retryable.
 *
 * The message joins the messages of the cause chain (`fetch failed: connect ECONNREFUSED ...`).
 */
export function providerFailureFromTransport(error: unknown, options: TransportFailureOptions = {}): ProviderFailure {
  if (options.signal?.aborted === true) throw callerAbortError(options.signal);
  const timeout = options.deadline?.timedOut();
  if (timeout !== undefined) return timeout;
  if (ProviderCallError.isInstance(error)) return error.failure;
  const links = linksOf(error);
  const { kind, code } = classify(links);
  const input: ProviderFailureInput = { kind, message: messageOf(links) };
  if (code !== undefined) input.code = code;
  if (kind === "unknown" || kind === "stream") input.retryable = false;
  if (options.requestBody !== undefined) input.requestBody = options.requestBody;
  return classifyProviderFailure(input);
}
