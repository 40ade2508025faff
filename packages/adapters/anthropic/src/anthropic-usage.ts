import type { JsonObject, LlmUsage } from "@lash/protocol";
import { usageFromCounts } from "@lash/provider-utils";

/**
 * The token counts of a Messages response, as far as they arrived. `message_start` carries the
 * input side, `message_delta` the cumulative output (and, on some servers, the input again);
 * `undefined` means "not reported yet", never zero.
 */
export interface AnthropicUsageCounts {
  inputTokens?: number;
  outputTokens?: number;
  cacheCreationInputTokens?: number;
  cacheReadInputTokens?: number;
  cacheCreation5mInputTokens?: number;
  cacheCreation1hInputTokens?: number;
  thinkingTokens?: number;
}

/**
 * Maps Anthropic's counts to `LlmUsage`:
 * - `inputTokens` = `input_tokens + cache_creation_input_tokens`. Anthropic's `input_tokens` leaves
 *   out both cache reads and cache writes; a cache write is input the model processed in full (it
 *   is billed above the base rate), so it counts as input, and the prompt size is always
 *   `inputTokens + cachedInputTokens`.
 * - `cachedInputTokens` = `cache_read_input_tokens` (beside, not inside, `inputTokens`: the provider
 *   declares `inputUsageExcludesCachedTokens`).
 * - `reasoningTokens` = `output_tokens_details.thinking_tokens`, and `outputTokens` = `output_tokens`
 *   minus those, because Anthropic's `output_tokens` includes the thinking and lash's total is
 *   `input + output + reasoning`: the total then matches the billed output exactly once.
 */
export function llmUsageFromAnthropic(counts: AnthropicUsageCounts): LlmUsage {
  const output = counts.outputTokens ?? 0;
  const thinking = Math.min(counts.thinkingTokens ?? 0, output);
  return usageFromCounts({
    input: (counts.inputTokens ?? 0) + (counts.cacheCreationInputTokens ?? 0),
    output: output - thinking,
    cachedInput: counts.cacheReadInputTokens,
    reasoning: thinking,
  });
}

/**
 * The counts as Anthropic named them, for `LlmResponse.providerUsage` (audits). Only the validated
 * numeric fields are kept: the raw object came from the network and could hold anything.
 */
export function providerUsageFromAnthropic(counts: AnthropicUsageCounts): JsonObject {
  const usage: JsonObject = {};
  if (counts.inputTokens !== undefined) usage.input_tokens = counts.inputTokens;
  if (counts.outputTokens !== undefined) usage.output_tokens = counts.outputTokens;
  if (counts.cacheCreationInputTokens !== undefined) usage.cache_creation_input_tokens = counts.cacheCreationInputTokens;
  if (counts.cacheReadInputTokens !== undefined) usage.cache_read_input_tokens = counts.cacheReadInputTokens;
  if (counts.cacheCreation5mInputTokens !== undefined || counts.cacheCreation1hInputTokens !== undefined) {
    const creation: JsonObject = {};
    if (counts.cacheCreation5mInputTokens !== undefined) creation.ephemeral_5m_input_tokens = counts.cacheCreation5mInputTokens;
    if (counts.cacheCreation1hInputTokens !== undefined) creation.ephemeral_1h_input_tokens = counts.cacheCreation1hInputTokens;
    usage.cache_creation = creation;
  }
  if (counts.thinkingTokens !== undefined) usage.output_tokens_details = { thinking_tokens: counts.thinkingTokens };
  return usage;
}
