/** Options of `retryAfterMsFromHeaders`. */
export interface RetryAfterOptions {
  /** The current time in epoch milliseconds, for HTTP-date values; `Date.now()` when absent. */
  readonly now?: number;
}

/** Header values longer than this are not a delay anyone meant to send. */
const LONGEST_HEADER_VALUE = 64;

function nonNegativeMilliseconds(value: number): number | undefined {
  return Number.isFinite(value) && value >= 0 ? Math.ceil(value) : undefined;
}

/** A decimal number of (milli)seconds: digits with at most one fraction, nothing else. */
const DECIMAL = /^\d+(?:\.\d+)?$/;

/**
 * The delay a server asked for before retrying, in milliseconds, from response headers (names in
 * lower case, see `normalizeResponseHeaders`):
 * - `retry-after-ms` (OpenAI and compatible servers): milliseconds, decimals allowed; it wins over
 *   `retry-after` because it is more precise;
 * - `retry-after`: a number of seconds (decimals allowed) or an HTTP date (the delay until then,
 *   0 when it already passed).
 *
 * Returns `undefined` when neither header holds a usable value (negative, garbage, not finite).
 */
export function retryAfterMsFromHeaders(headers: Readonly<Record<string, string>>, options: RetryAfterOptions = {}): number | undefined {
  const milliseconds = headers["retry-after-ms"]?.trim();
  if (milliseconds !== undefined && milliseconds.length <= LONGEST_HEADER_VALUE && DECIMAL.test(milliseconds)) {
    const parsed = nonNegativeMilliseconds(Number(milliseconds));
    if (parsed !== undefined) return parsed;
  }
  const retryAfter = headers["retry-after"]?.trim();
  if (retryAfter === undefined || retryAfter.length === 0 || retryAfter.length > LONGEST_HEADER_VALUE) return undefined;
  if (DECIMAL.test(retryAfter)) return nonNegativeMilliseconds(Number(retryAfter) * 1_000);
  // An HTTP date always names a weekday or a month; this keeps `Date.parse` from guessing at
  // arbitrary strings such as "9 apples".
  if (!/[a-z]{3}/i.test(retryAfter)) return undefined;
  const date = Date.parse(retryAfter);
  if (!Number.isFinite(date)) return undefined;
  return Math.max(0, date - (options.now ?? Date.now()));
}

/**
 * A protobuf-JSON duration such as `"55s"` or `"1.5s"` (Google's `google.rpc.RetryInfo.retryDelay`)
 * in milliseconds; `undefined` for anything else.
 */
export function durationMsFromProtobufJson(value: unknown): number | undefined {
  if (typeof value !== "string" || value.length > LONGEST_HEADER_VALUE) return undefined;
  const match = /^(\d+(?:\.\d+)?)s$/.exec(value.trim());
  if (match?.[1] === undefined) return undefined;
  return nonNegativeMilliseconds(Number(match[1]) * 1_000);
}
