/** Numbers, times and money as the console shows them. */

const integer = new Intl.NumberFormat("en-US");

export function count(value: number | undefined): string {
  return value === undefined ? "–" : integer.format(value);
}

/** `2026-12-07 13:05` in UTC, as the `lash` command prints times. */
export function time(iso: string | undefined): string {
  if (iso === undefined || iso === "") return "–";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : `${date.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

export function milliseconds(value: number | null | undefined): string {
  if (value === null || value === undefined) return "–";
  return value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${Math.round(value)} ms`;
}

export function usd(value: string | undefined): string {
  return value === undefined ? "unpriced" : `$${value}`;
}

export function shortId(id: string): string {
  return id.length > 13 ? `${id.slice(0, 8)}…` : id;
}

/** Total tokens as the API counts them: input + output + reasoning. */
export function totalTokens(
  usage: { inputTokens: number; outputTokens: number; reasoningTokens?: number } | undefined,
): number | undefined {
  return usage === undefined ? undefined : usage.inputTokens + usage.outputTokens + (usage.reasoningTokens ?? 0);
}
