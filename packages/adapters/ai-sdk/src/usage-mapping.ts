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

/** How many characters of the model's text a content-filter diagnostic quotes (it ends up in an issue message). */
const LONGEST_QUOTED_TEXT = 2_000;

function shortened(value: string, longest: number): string {
  return value.length > longest ? `${value.slice(0, longest)}…` : value;
}

/**
 * Maps an AI SDK finish reason with `terminalReasonFromFinishReason`: `stop` → `stop`, `length` →
 * `output_limit`, `content-filter` → `content_filter`, `tool-calls` → `tool_use`, `error` →
 * `provider_error`, `other` and anything unknown → `unknown`. (`"v4"`'s `interrupted` never gets
 * here: the stream translator fails such a call as cut short.) When the unified reason says nothing
 * (`other`), the provider's raw reason is tried (Anthropic's `model_context_window_exceeded` is a
 * context overflow). Every reason that ends the turn gets a diagnostic naming the raw reason, so a
 * host can tell a safety stop from a recitation stop without reading traces; `unknown` ends the
 * turn too (the response may have been cut off), and its diagnostic names the reason the provider
 * gave. A content-filter stop quotes `text`, what the model produced before it: a provider's
 * refusal often arrives as the model's own words ("I'm sorry, I cannot ...").
 *
 * A bare string is accepted too: V2-era models report the unified reason as a string, `"unknown"`
 * when the provider sent none.
 */
export function terminalReasonFromAiSdk(finishReason: AiSdkFinishReason | string | undefined, text = ""): TerminalReasonMapping {
  const unified = typeof finishReason === "string" ? finishReason : finishReason?.unified;
  const raw = typeof finishReason === "object" && typeof finishReason.raw === "string" ? finishReason.raw : undefined;
  let terminalReason = terminalReasonFromFinishReason(unified);
  if (terminalReason === "unknown" && raw !== undefined) terminalReason = terminalReasonFromFinishReason(raw);
  if (terminalReason === "unknown") {
    const given = raw ?? unified;
    // V2-era models say `"unknown"` when the provider sent no reason at all.
    const diagnostic =
      given === undefined || given === "" || (raw === undefined && unified === "unknown")
        ? "The provider ended the response without a finish reason."
        : `The provider ended the response with an unknown finish reason ${JSON.stringify(shortened(given, 64))}.`;
    return { terminalReason, diagnostic };
  }
  const base = DIAGNOSTICS[terminalReason];
  if (base === undefined) return { terminalReason };
  const diagnostic = raw === undefined ? base : `${base} (provider reason: ${raw})`;
  const said = terminalReason === "content_filter" ? text.trim() : "";
  return { terminalReason, diagnostic: said === "" ? `${diagnostic}.` : `${diagnostic}: ${shortened(said, LONGEST_QUOTED_TEXT)}` };
}
