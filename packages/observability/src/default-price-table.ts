import type { ModelPrice, PriceTable } from "./price-table.js";

/** Dollars per million tokens -> integer micro-dollars per million tokens. */
function usd(dollars: number): number {
  return Math.round(dollars * 1_000_000);
}

function price(input: number, cachedInput: number, output: number, inputIncludesCachedTokens: boolean): ModelPrice {
  // Every listed provider bills reasoning (thinking) tokens at the output price.
  return {
    microUsdPerMillionTokens: { input: usd(input), cachedInput: usd(cachedInput), output: usd(output), reasoning: usd(output) },
    inputIncludesCachedTokens,
  };
}

const openai = (input: number, cached: number, output: number): ModelPrice => price(input, cached, output, true);
const anthropic = (input: number, cacheRead: number, output: number): ModelPrice => price(input, cacheRead, output, false);
const google = (input: number, cached: number, output: number): ModelPrice => price(input, cached, output, true);

/**
 * List prices of common OpenAI, Anthropic and Google models (standard tier, no batch discount), as
 * published on the providers' price pages on `effectiveDate`. Simplifications: Anthropic cache
 * writes are priced as plain input (they are counted as input tokens), and Gemini 2.5 Pro uses its
 * price for prompts up to 200k tokens. Override or extend with `withModelPrices`; a model missing
 * here is reported as unpriced.
 */
export const DEFAULT_PRICE_TABLE: PriceTable = Object.freeze({
  currency: "USD",
  effectiveDate: "2025-10-01",
  models: Object.freeze({
    "gpt-5": openai(1.25, 0.125, 10),
    "gpt-5-mini": openai(0.25, 0.025, 2),
    "gpt-5-nano": openai(0.05, 0.005, 0.4),
    "gpt-4.1": openai(2, 0.5, 8),
    "gpt-4.1-mini": openai(0.4, 0.1, 1.6),
    "gpt-4.1-nano": openai(0.1, 0.025, 0.4),
    "gpt-4o": openai(2.5, 1.25, 10),
    "gpt-4o-mini": openai(0.15, 0.075, 0.6),
    o3: openai(2, 0.5, 8),
    "o4-mini": openai(1.1, 0.275, 4.4),
    "claude-opus-4-1": anthropic(15, 1.5, 75),
    "claude-opus-4": anthropic(15, 1.5, 75),
    "claude-sonnet-4-5": anthropic(3, 0.3, 15),
    "claude-sonnet-4": anthropic(3, 0.3, 15),
    "claude-haiku-4-5": anthropic(1, 0.1, 5),
    "claude-3-5-haiku": anthropic(0.8, 0.08, 4),
    "gemini-2.5-pro": google(1.25, 0.31, 10),
    "gemini-2.5-flash": google(0.3, 0.075, 2.5),
    "gemini-2.5-flash-lite": google(0.1, 0.025, 0.4),
  }),
}) as PriceTable;
