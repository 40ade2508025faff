import type { JsonValue, LlmUsage } from "@lash/protocol";
import { jsonValueSchema } from "@lash/protocol";
import { usageFromCounts } from "@lash/provider-utils";

/** The usage of one call, and the provider's own object for audits. */
export interface MappedUsage {
  readonly usage: LlmUsage;
  /** The usage object as the server sent it; absent when it was too large to keep. */
  readonly providerUsage: JsonValue | undefined;
}

/** A usage object larger than this (as JSON) is not kept: it is not a usage object anyone sends. */
const LARGEST_KEPT_USAGE_CHARACTERS = 16_384;

function field(value: unknown, name: string): unknown {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>)[name] : undefined;
}

function numberField(value: unknown, name: string): number | undefined {
  const found = field(value, name);
  return typeof found === "number" ? found : undefined;
}

function keptCopy(raw: unknown): JsonValue | undefined {
  let text: string;
  try {
    text = JSON.stringify(raw);
  } catch {
    // Nested deeper than the stack allows: not a usage object worth keeping.
    return undefined;
  }
  // Measured before validating: a small object cannot nest deep enough to exhaust the stack.
  if (text.length > LARGEST_KEPT_USAGE_CHARACTERS) return undefined;
  const parsed = jsonValueSchema.safeParse(raw);
  return parsed.success ? parsed.data : undefined;
}

/**
 * The counts with each token once (ADR 0016): the input count includes the cached tokens
 * (`inputUsageExcludesCachedTokens` is `false`); the server's output count includes the reasoning
 * tokens, so they are taken out of `outputTokens` and reported in `reasoningTokens` alone.
 */
function usageFrom(
  input: number | undefined,
  output: number | undefined,
  cached: number | undefined,
  reasoning: number | undefined,
): LlmUsage {
  const reasoningCount = typeof reasoning === "number" && Number.isFinite(reasoning) && reasoning > 0 ? reasoning : 0;
  const outputWithoutReasoning = typeof output === "number" && Number.isFinite(output) ? Math.max(0, output - reasoningCount) : output;
  return usageFromCounts({ input, output: outputWithoutReasoning, cachedInput: cached, reasoning });
}

/**
 * Chat Completions usage: `prompt_tokens` (cached included), `completion_tokens` (reasoning
 * included), `prompt_tokens_details.cached_tokens`, `completion_tokens_details.reasoning_tokens`.
 * Missing or nonsense counts are 0; `undefined` when `raw` is not an object.
 */
export function chatUsage(raw: unknown): MappedUsage | undefined {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return undefined;
  return {
    usage: usageFrom(
      numberField(raw, "prompt_tokens"),
      numberField(raw, "completion_tokens"),
      numberField(field(raw, "prompt_tokens_details"), "cached_tokens"),
      numberField(field(raw, "completion_tokens_details"), "reasoning_tokens"),
    ),
    providerUsage: keptCopy(raw),
  };
}

/**
 * Responses usage: `input_tokens` (cached included), `output_tokens` (reasoning included),
 * `input_tokens_details.cached_tokens`, `output_tokens_details.reasoning_tokens`.
 */
export function responsesUsage(raw: unknown): MappedUsage | undefined {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return undefined;
  return {
    usage: usageFrom(
      numberField(raw, "input_tokens"),
      numberField(raw, "output_tokens"),
      numberField(field(raw, "input_tokens_details"), "cached_tokens"),
      numberField(field(raw, "output_tokens_details"), "reasoning_tokens"),
    ),
    providerUsage: keptCopy(raw),
  };
}

/** Zero usage, for a response that reported none. */
export function emptyUsage(): LlmUsage {
  return { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, reasoningTokens: 0 };
}
