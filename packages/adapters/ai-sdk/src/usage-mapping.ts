import type { JsonValue, LlmTerminalReason, LlmUsage } from "@lash/protocol";
import { terminalReasonFromFinishReason, usageFromCounts } from "@lash/provider-utils";
import type { AiSdkFinishReason, AiSdkUsage } from "./model-output-types.js";

/** A count the provider reported, or `undefined` when it sent none (or nonsense). */
function reported(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? Math.max(0, value) : undefined;
}

/**
 * Maps an AI SDK usage record (the same shape in `"v3"` and `"v4"`) to lash's four counts (cleaned
 * by `usageFromCounts`: missing or negative counts are 0, fractions are rounded down).
 *
 * - `inputTokens.total` counts every prompt token, cache reads and writes included, so by
 *   default `inputTokens` is that total (`inputUsageExcludesCachedTokens: false`). With
 *   `inputExcludesCached`, the cache reads are taken out (`total - cacheRead`).
 * - `cachedInputTokens` is `inputTokens.cacheRead`.
 * - `outputTokens.total` includes the reasoning tokens while lash counts reasoning beside
 *   output (`total = input + output + reasoning`), so `outputTokens` is `total - reasoning`;
 *   without this, reasoning would be counted twice.
 * - When a provider reports only the breakdown, the total is rebuilt from it.
 */
export function usageFromAiSdk(usage: AiSdkUsage | undefined, inputExcludesCached: boolean): LlmUsage {
  const input = usage?.inputTokens;
  const output = usage?.outputTokens;
  const cacheRead = reported(input?.cacheRead) ?? 0;
  const inputTotal = reported(input?.total) ?? (reported(input?.noCache) ?? 0) + cacheRead + (reported(input?.cacheWrite) ?? 0);
  const reasoning = reported(output?.reasoning) ?? 0;
  const outputTotal = reported(output?.total) ?? (reported(output?.text) ?? 0) + reasoning;
  return usageFromCounts({
    input: inputExcludesCached ? inputTotal - cacheRead : inputTotal,
    output: outputTotal - reasoning,
    cachedInput: cacheRead,
    reasoning,
  });
}

/** The provider's raw usage object, kept on the response for audits (JSON-clean, or `undefined`). */
export function rawUsageFromAiSdk(usage: AiSdkUsage | undefined): JsonValue | undefined {
  if (usage?.raw === undefined) return undefined;
  try {
    return JSON.parse(JSON.stringify(usage.raw)) as JsonValue;
  } catch {
    return undefined;
  }
}

/** A terminal reason, and a diagnostic when the reason alone would not explain the stop. */
export interface TerminalReasonMapping {
  readonly terminalReason: LlmTerminalReason;
  readonly diagnostic?: string;
}

const DIAGNOSTICS: Partial<Record<LlmTerminalReason, string>> = {
  output_limit: "The model reached its output token limit",
  content_filter: "The provider's content filter stopped the model",
  context_overflow: "The prompt did not fit the model's context window",
  provider_error: "The model stopped because of a provider error",
};

/**
 * Maps an AI SDK finish reason with `terminalReasonFromFinishReason`: `stop` → `stop`, `length` →
 * `output_limit`, `content-filter` → `content_filter`, `tool-calls` → `tool_use`, `error` →
 * `provider_error`, `other` and anything unknown → `unknown`. (`"v4"`'s `interrupted` never gets
 * here: the stream translator fails such a call as cut short.) When the unified reason says nothing
 * (`other`), the provider's raw reason is tried (Anthropic's `model_context_window_exceeded` is a
 * context overflow). Every reason that ends the turn gets a diagnostic naming the raw reason, so a
 * host can tell a safety stop from a recitation stop without reading traces.
 *
 * A bare string is accepted too: V2-era models report the unified reason as a string, `"unknown"`
 * when the provider sent none.
 */
export function terminalReasonFromAiSdk(finishReason: AiSdkFinishReason | string | undefined): TerminalReasonMapping {
  const unified = typeof finishReason === "string" ? finishReason : finishReason?.unified;
  const raw = typeof finishReason === "object" && typeof finishReason.raw === "string" ? finishReason.raw : undefined;
  let terminalReason = terminalReasonFromFinishReason(unified);
  if (terminalReason === "unknown" && raw !== undefined) terminalReason = terminalReasonFromFinishReason(raw);
  const text = DIAGNOSTICS[terminalReason];
  if (text === undefined) return { terminalReason };
  return { terminalReason, diagnostic: raw === undefined ? `${text}.` : `${text} (provider reason: ${raw}).` };
}
