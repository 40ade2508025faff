import { LashError } from "@lash/protocol";
import { describe, expect, it } from "vitest";
import { resolveAnthropicOptions } from "./anthropic-provider-options.js";
import { type AnthropicProviderOptions, createAnthropicProvider, DEFAULT_MAX_OUTPUT_TOKENS } from "./index.js";

function configurationError(options: AnthropicProviderOptions): LashError {
  try {
    createAnthropicProvider(options);
  } catch (error) {
    if (LashError.isInstance(error)) return error;
    throw error;
  }
  throw new Error("expected a configuration error");
}

describe("createAnthropicProvider options", () => {
  it("applies the defaults", () => {
    const resolved = resolveAnthropicOptions({ apiKey: "key" });
    expect(resolved).toMatchObject({
      providerId: "anthropic",
      maxOutputTokens: DEFAULT_MAX_OUTPUT_TOKENS,
      thinkingBudgetTokens: undefined,
      cacheRetention: "short",
      timeouts: { requestTimeoutMs: 300_000, chunkTimeoutMs: 120_000 },
    });
    // With thinking on, the answer keeps the default output budget after the thinking budget.
    expect(resolveAnthropicOptions({ apiKey: "key", thinking: { budgetTokens: 4096 } }).maxOutputTokens).toBe(
      4096 + DEFAULT_MAX_OUTPUT_TOKENS,
    );
  });

  it("describes itself as a lash.provider.v1 provider", () => {
    const provider = createAnthropicProvider({ apiKey: "key", providerId: "claude", defaultModel: "claude-test" });
    expect(provider).toMatchObject({
      specificationVersion: "lash.provider.v1",
      providerId: "claude",
      defaultModel: "claude-test",
      inputUsageExcludesCachedTokens: true,
    });
    expect(provider.doComplete).toBeUndefined();
  });

  it.each([
    ["an empty API key", { apiKey: " " }, /apiKey/],
    ["a relative base URL", { apiKey: "k", baseURL: "/v1" }, /baseURL/],
    ["a small thinking budget", { apiKey: "k", thinking: { budgetTokens: 100 } }, /at least 1024/],
    [
      "a thinking budget above max tokens",
      { apiKey: "k", thinking: { budgetTokens: 4096 }, maxOutputTokens: 4096 },
      /below maxOutputTokens/,
    ],
    ["a fractional max tokens", { apiKey: "k", maxOutputTokens: 10.5 }, /maxOutputTokens/],
    ["an unknown retention", { apiKey: "k", cacheRetention: "forever" as "long" }, /cacheRetention/],
    ["a negative timeout", { apiKey: "k", timeouts: { chunkTimeoutMs: -1 } }, /chunkTimeoutMs/],
    ["a non-string header", { apiKey: "k", headers: { "x-n": 1 as unknown as string } }, /header "x-n"/],
  ])("rejects %s at construction", (_name, options, message) => {
    const error = configurationError(options);
    expect(error.code).toBe("invalid_configuration");
    expect(error.message).toMatch(message);
  });
});
