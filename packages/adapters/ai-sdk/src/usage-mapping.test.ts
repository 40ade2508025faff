import type { LanguageModelV4Usage } from "@ai-sdk/provider";
import type { LanguageModelV3Usage } from "@ai-sdk/provider-v3";
import { describe, expect, it } from "vitest";
import { finishReason, usageOf } from "../test/model-fixtures.js";
import { terminalReasonFromAiSdk, usageFromAiSdk } from "./usage-mapping.js";

describe("usageFromAiSdk", () => {
  it("records the input total with cache reads included by default, and reasoning beside output", () => {
    expect(usageFromAiSdk(usageOf(1_000, 300, { cacheRead: 600, cacheWrite: 100, reasoning: 200 }), false)).toEqual({
      inputTokens: 1_000,
      outputTokens: 100,
      cachedInputTokens: 600,
      reasoningTokens: 200,
    });
  });

  it("takes the cache reads out of the input when the provider is declared to exclude them", () => {
    expect(usageFromAiSdk(usageOf(1_000, 300, { cacheRead: 600, cacheWrite: 100 }), true)).toEqual({
      inputTokens: 400,
      outputTokens: 300,
      cachedInputTokens: 600,
      reasoningTokens: 0,
    });
  });

  it("rebuilds totals from the breakdown when a provider reports only that", () => {
    const usage: LanguageModelV4Usage = {
      inputTokens: { total: undefined, noCache: 40, cacheRead: 50, cacheWrite: 10 },
      outputTokens: { total: undefined, text: 7, reasoning: 3 },
    };
    expect(usageFromAiSdk(usage, false)).toEqual({ inputTokens: 100, outputTokens: 7, cachedInputTokens: 50, reasoningTokens: 3 });
  });

  it('reads a "v3" record the same way (the shape did not change)', () => {
    const usage: LanguageModelV3Usage = {
      inputTokens: { total: 1_000, noCache: 300, cacheRead: 600, cacheWrite: 100 },
      outputTokens: { total: 300, text: 100, reasoning: 200 },
    };
    expect(usageFromAiSdk(usage, false)).toEqual({ inputTokens: 1_000, outputTokens: 100, cachedInputTokens: 600, reasoningTokens: 200 });
  });

  it("counts missing, negative and fractional values safely", () => {
    const usage: LanguageModelV4Usage = {
      inputTokens: { total: 10.7, noCache: undefined, cacheRead: -4, cacheWrite: undefined },
      outputTokens: { total: Number.NaN, text: undefined, reasoning: undefined },
    };
    expect(usageFromAiSdk(usage, false)).toEqual({ inputTokens: 10, outputTokens: 0, cachedInputTokens: 0, reasoningTokens: 0 });
    expect(usageFromAiSdk(undefined, false)).toEqual({ inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, reasoningTokens: 0 });
  });
});

describe("terminalReasonFromAiSdk", () => {
  it.each([
    ["stop", "stop"],
    ["length", "output_limit"],
    ["content-filter", "content_filter"],
    ["tool-calls", "tool_use"],
    ["error", "provider_error"],
    ["other", "unknown"],
  ] as const)("maps %s to %s", (unified, expected) => {
    expect(terminalReasonFromAiSdk(finishReason(unified)).terminalReason).toBe(expected);
  });

  it("maps the V2-era bare strings, unknown included", () => {
    expect(terminalReasonFromAiSdk("unknown").terminalReason).toBe("unknown");
    expect(terminalReasonFromAiSdk("length").terminalReason).toBe("output_limit");
    expect(terminalReasonFromAiSdk(undefined).terminalReason).toBe("unknown");
  });

  it("reads the raw reason when the unified one says nothing", () => {
    expect(terminalReasonFromAiSdk(finishReason("other", "model_context_window_exceeded"))).toEqual({
      terminalReason: "context_overflow",
      diagnostic: "The prompt did not fit the model's context window (provider reason: model_context_window_exceeded).",
    });
    expect(terminalReasonFromAiSdk(finishReason("other", "pause_turn")).terminalReason).toBe("unknown");
  });

  it("names the reason the provider gave in the diagnostic of an unknown finish", () => {
    expect(terminalReasonFromAiSdk(finishReason("other", "network_error"))).toEqual({
      terminalReason: "unknown",
      diagnostic: 'The provider ended the response with an unknown finish reason "network_error".',
    });
    expect(terminalReasonFromAiSdk(finishReason("other")).diagnostic).toBe(
      'The provider ended the response with an unknown finish reason "other".',
    );
    expect(terminalReasonFromAiSdk(undefined).diagnostic).toBe("The provider ended the response without a finish reason.");
    expect(terminalReasonFromAiSdk("unknown").diagnostic).toBe("The provider ended the response without a finish reason.");
    expect(terminalReasonFromAiSdk("something-new").diagnostic).toBe(
      'The provider ended the response with an unknown finish reason "something-new".',
    );
  });

  it("quotes the text the model produced in the diagnostic of a content-filter stop", () => {
    expect(terminalReasonFromAiSdk({ unified: "content-filter", raw: "refusal" }, " I'm sorry, I cannot assist with that. ")).toEqual({
      terminalReason: "content_filter",
      diagnostic: "The provider's content filter stopped the model (provider reason: refusal): I'm sorry, I cannot assist with that.",
    });
    expect(terminalReasonFromAiSdk("content-filter", "Sure")).toEqual({
      terminalReason: "content_filter",
      diagnostic: "The provider's content filter stopped the model: Sure",
    });
    const long = terminalReasonFromAiSdk("content-filter", "x".repeat(5_000)).diagnostic ?? "";
    expect(long.length).toBeLessThan(2_100);
    expect(long.endsWith("…")).toBe(true);
    // Text is quoted only for a content-filter stop.
    expect(terminalReasonFromAiSdk("length", "partial").diagnostic).toBe("The model reached its output token limit.");
  });

  it("names the raw reason in the diagnostic of a reason that ends the turn", () => {
    expect(terminalReasonFromAiSdk(finishReason("content-filter", "SAFETY")).diagnostic).toBe(
      "The provider's content filter stopped the model (provider reason: SAFETY).",
    );
    expect(terminalReasonFromAiSdk(finishReason("length")).diagnostic).toBe("The model reached its output token limit.");
    expect(terminalReasonFromAiSdk(finishReason("stop", "end_turn")).diagnostic).toBeUndefined();
  });
});
