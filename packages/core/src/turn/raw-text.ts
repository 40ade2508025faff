const RAW_LIMIT = 4_000;
const RAW_KEEP = 2_000;

/**
 * Shortens a provider's raw error body for the issue list: trimmed, and when longer than 4,000
 * characters, the first and last 2,000 around a marker saying how much was left out.
 */
export function truncateRaw(raw: string): string {
  const trimmed = raw.trim();
  if (trimmed.length <= RAW_LIMIT) return trimmed;
  const omitted = trimmed.length - 2 * RAW_KEEP;
  return `${trimmed.slice(0, RAW_KEEP)}\n\n... (${omitted} chars omitted) ...\n\n${trimmed.slice(-RAW_KEEP)}`;
}
