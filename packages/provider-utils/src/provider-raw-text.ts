/** Above this many characters a raw provider body is cut in the middle. */
const RAW_LIMIT_CHARACTERS = 4_000;
/** Characters kept from each end of a body that is cut. */
const RAW_KEPT_CHARACTERS = 2_000;

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

/**
 * Shortens a raw provider body (an error body, a stream fragment): trimmed, then, when longer than
 * 4000 characters, the first 2000, `"\n\n... (N chars omitted) ...\n\n"`, and the last 2000. Both
 * ends keep whole surrogate pairs, so the result is always well-formed text. Error bodies are kept
 * in failures and events: a hostile or broken server must not be able to put megabytes into a
 * session.
 */
export function truncateProviderRaw(raw: string): string {
  const trimmed = raw.trim();
  if (trimmed.length <= RAW_LIMIT_CHARACTERS) return trimmed;
  let headEnd = RAW_KEPT_CHARACTERS;
  if (isHighSurrogate(trimmed.charCodeAt(headEnd - 1))) headEnd -= 1;
  let tailStart = trimmed.length - RAW_KEPT_CHARACTERS;
  if (isLowSurrogate(trimmed.charCodeAt(tailStart))) tailStart += 1;
  const omitted = tailStart - headEnd;
  return `${trimmed.slice(0, headEnd)}\n\n... (${omitted} chars omitted) ...\n\n${trimmed.slice(tailStart)}`;
}

/** Cuts `text` to at most `limit` characters without splitting a surrogate pair, marking the cut with "…". */
export function truncateText(text: string, limit: number): string {
  if (text.length <= limit) return text;
  let end = Math.max(0, limit - 1);
  if (end > 0 && isHighSurrogate(text.charCodeAt(end - 1))) end -= 1;
  return `${text.slice(0, end)}…`;
}
