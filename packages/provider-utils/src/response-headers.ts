/**
 * Response headers in any of the shapes adapters meet: a fetch `Headers`, a list of `[name, value]`
 * pairs (repeated names allowed), or a plain record (Node's `IncomingHttpHeaders`, an SDK's map).
 */
export type ResponseHeadersInput =
  | Iterable<readonly [string, string]>
  | Readonly<Record<string, string | readonly string[] | number | undefined>>;

/** More headers than this are dropped: an error record has no use for them. */
const MOST_HEADERS = 100;
/** Longer header values are cut. */
const LONGEST_VALUE = 2_048;
/** Never kept in a failure: they can carry credentials that would end up persisted in a session. */
const DROPPED_HEADERS = new Set(["set-cookie", "authorization", "proxy-authorization", "cookie"]);

function isIterable(value: unknown): value is Iterable<readonly [string, string]> {
  return typeof value === "object" && value !== null && Symbol.iterator in value;
}

/**
 * Normalizes response headers to a record with lower-case names. Repeated names are joined with
 * `", "` (the HTTP rule for list-valued fields), credential-bearing headers are dropped, and the
 * count and value lengths are capped, because the headers come from the network.
 */
export function normalizeResponseHeaders(headers: ResponseHeadersInput | undefined): Record<string, string> {
  const result: Record<string, string> = {};
  if (headers === undefined || headers === null) return result;
  let count = 0;
  const add = (name: string, value: string): void => {
    const key = name.toLowerCase();
    // `__proto__` would be swallowed by the record's prototype setter instead of stored.
    if (DROPPED_HEADERS.has(key) || key === "__proto__") return;
    const existing = Object.hasOwn(result, key) ? result[key] : undefined;
    if (existing === undefined) {
      if (count >= MOST_HEADERS) return;
      count += 1;
    }
    const combined = existing === undefined ? value : `${existing}, ${value}`;
    result[key] = combined.length > LONGEST_VALUE ? combined.slice(0, LONGEST_VALUE) : combined;
  };
  if (isIterable(headers)) {
    for (const entry of headers) {
      if (Array.isArray(entry) && typeof entry[0] === "string" && typeof entry[1] === "string") add(entry[0], entry[1]);
    }
    return result;
  }
  for (const [name, value] of Object.entries(headers)) {
    if (typeof value === "string") add(name, value);
    else if (typeof value === "number") add(name, String(value));
    else if (Array.isArray(value)) for (const item of value) if (typeof item === "string") add(name, item);
  }
  return result;
}
