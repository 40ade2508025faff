import { z } from "zod";

const tokenCount = z.number().int();

/**
 * Token counts of one or more model calls. `cachedInputTokens` are the input tokens served from the
 * provider's prompt cache; whether `inputTokens` already includes them depends on the provider (see
 * `ModelProvider.inputUsageExcludesCachedTokens`).
 */
export const tokenUsageSchema = z.object({
  /** Prompt tokens. */
  inputTokens: tokenCount,
  /** Generated tokens, reasoning left out. */
  outputTokens: tokenCount,
  /** Prompt tokens served from the prompt cache. */
  cachedInputTokens: tokenCount,
  /** Reasoning tokens (default 0: older documents have none). */
  reasoningTokens: tokenCount.default(0),
});
export type TokenUsage = z.infer<typeof tokenUsageSchema>;

/**
 * Exact prompt-usage snapshot of the most recent completed model call, normalised so that
 * `promptContextTokens` always counts the cached tokens once.
 */
export const promptUsageSchema = z.object({
  /** The prompt's size in tokens, cached tokens counted once: what the context window holds before the answer. */
  promptContextTokens: tokenCount,
  /** The call's input count as the provider reported it. */
  inputTokens: tokenCount,
  /** The call's cached input count. */
  cachedInputTokens: tokenCount,
  /** Prompt and answer together, in tokens: what the next call's prompt starts from (default 0). */
  contextBudgetTokens: tokenCount.default(0),
});
export type PromptUsage = z.infer<typeof promptUsageSchema>;

/**
 * One row of a session's token ledger: the accumulated usage of one `(source, model, priceTableDate)`
 * triple over the session's lifetime. Sources name who spent the tokens (`"turn"`, `"subagent"`,
 * `"child"`, a plugin id, ...); lash never interprets them.
 */
export const tokenLedgerEntrySchema = z.object({
  /** Who spent the tokens. */
  source: z.string(),
  /** The model that spent them. */
  model: z.string(),
  /** The tokens, summed. */
  usage: tokenUsageSchema,
  /**
   * The `effectiveDate` (`YYYY-MM-DD`) of the price table in force when these tokens were spent, when
   * the host configured one (`priceTableDate` on the runtime). Cost reports price the row with that
   * table, so a later price change does not rewrite the cost of past turns. Absent: priced with
   * whatever table the report uses. Rows with different dates are never merged.
   */
  priceTableDate: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/, "expected YYYY-MM-DD")
    .optional(),
});
export type TokenLedgerEntry = z.infer<typeof tokenLedgerEntrySchema>;

/** A usage with every count at zero. */
export function emptyTokenUsage(): TokenUsage {
  return { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, reasoningTokens: 0 };
}

/** Field-by-field sum. */
export function addTokenUsage(left: TokenUsage, right: TokenUsage): TokenUsage {
  return {
    inputTokens: left.inputTokens + right.inputTokens,
    outputTokens: left.outputTokens + right.outputTokens,
    cachedInputTokens: left.cachedInputTokens + right.cachedInputTokens,
    reasoningTokens: left.reasoningTokens + right.reasoningTokens,
  };
}

/** Field-by-field difference `left - right` (may be negative). */
export function subtractTokenUsage(left: TokenUsage, right: TokenUsage): TokenUsage {
  return {
    inputTokens: left.inputTokens - right.inputTokens,
    outputTokens: left.outputTokens - right.outputTokens,
    cachedInputTokens: left.cachedInputTokens - right.cachedInputTokens,
    reasoningTokens: left.reasoningTokens - right.reasoningTokens,
  };
}

/** `input + output + reasoning`; cached input tokens are excluded (they are part of, or beside, input). */
export function totalTokens(usage: TokenUsage): number {
  return usage.inputTokens + usage.outputTokens + usage.reasoningTokens;
}

/**
 * The single empty-usage rule used everywhere (ledger merges, diffs, stores): a usage is empty only
 * when all four counts are zero, so cached-only usage is kept.
 */
export function isEmptyTokenUsage(usage: TokenUsage): boolean {
  return usage.inputTokens === 0 && usage.outputTokens === 0 && usage.cachedInputTokens === 0 && usage.reasoningTokens === 0;
}

/**
 * True when two ledger rows count the same `(source, model, priceTableDate)` triple (an absent date
 * matches only an absent date).
 */
export function sameLedgerKey(left: TokenLedgerEntry, right: TokenLedgerEntry): boolean {
  return left.source === right.source && left.model === right.model && left.priceTableDate === right.priceTableDate;
}

/**
 * Merges entries into a ledger with one row per `(source, model, priceTableDate)`: counts of the same
 * triple are added, new triples are appended in first-seen order, empty usages are skipped. Returns a
 * new array; the inputs are not modified.
 */
export function mergeTokenLedger(ledger: readonly TokenLedgerEntry[], entries: readonly TokenLedgerEntry[]): TokenLedgerEntry[] {
  const merged = ledger.map((entry) => ({ ...entry, usage: { ...entry.usage } }));
  for (const entry of entries) {
    if (isEmptyTokenUsage(entry.usage)) continue;
    const existing = merged.find((row) => sameLedgerKey(row, entry));
    if (existing) existing.usage = addTokenUsage(existing.usage, entry.usage);
    else
      merged.push({
        source: entry.source,
        model: entry.model,
        usage: { ...entry.usage },
        ...(entry.priceTableDate === undefined ? {} : { priceTableDate: entry.priceTableDate }),
      });
  }
  return merged;
}

/**
 * Normalises the usage of one model call into a `PromptUsage`. Negative counts are clamped to zero;
 * returns `undefined` when input, cached and output are all zero.
 *
 * @param inputExcludesCached - true when the provider reports cached tokens beside, not inside, input.
 */
export function normalizePromptUsage(usage: TokenUsage, inputExcludesCached: boolean): PromptUsage | undefined {
  const input = Math.max(0, usage.inputTokens);
  const cached = Math.max(0, usage.cachedInputTokens);
  const output = Math.max(0, usage.outputTokens);
  if (input === 0 && cached === 0 && output === 0) return undefined;
  const promptContextTokens = inputExcludesCached ? input + cached : input;
  const adjustedInput = inputExcludesCached ? input : Math.max(0, input - cached);
  return {
    promptContextTokens,
    inputTokens: input,
    cachedInputTokens: cached,
    contextBudgetTokens: adjustedInput + output + cached,
  };
}
