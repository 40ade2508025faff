import type { LlmUsage } from "@lash/protocol";

/** Token counts as a provider reported them; any of them may be missing or nonsense. */
export interface UsageCounts {
  readonly input?: number | null;
  readonly output?: number | null;
  readonly cachedInput?: number | null;
  readonly reasoning?: number | null;
}

function count(value: number | null | undefined): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) return 0;
  // `LlmUsage` holds integers; a fractional count is a provider bug, rounded down rather than rejected.
  return Math.floor(Math.min(value, Number.MAX_SAFE_INTEGER));
}

/**
 * Builds an `LlmUsage` from provider counts. A missing, `null`, negative, non-finite or non-number
 * value counts as 0, fractions are rounded down and values are capped at `Number.MAX_SAFE_INTEGER`,
 * so the result always passes `llmUsageSchema`. Whether `input` includes `cachedInput` is the
 * provider's convention (declare it with `ModelProvider.inputUsageExcludesCachedTokens`).
 */
export function usageFromCounts(counts: UsageCounts): LlmUsage {
  return {
    inputTokens: count(counts.input),
    outputTokens: count(counts.output),
    cachedInputTokens: count(counts.cachedInput),
    reasoningTokens: count(counts.reasoning),
  };
}
