import { describe, expect, it } from "vitest";
import {
  addTokenUsage,
  emptyTokenUsage,
  isEmptyTokenUsage,
  mergeTokenLedger,
  normalizePromptUsage,
  subtractTokenUsage,
  type TokenLedgerEntry,
  type TokenUsage,
  totalTokens,
} from "./usage.js";

function usage(inputTokens: number, outputTokens: number, cachedInputTokens = 0, reasoningTokens = 0): TokenUsage {
  return { inputTokens, outputTokens, cachedInputTokens, reasoningTokens };
}

describe("token usage arithmetic", () => {
  it("totalTokens is input + output + reasoning and excludes cached tokens", () => {
    expect(totalTokens(usage(10, 5, 1000, 2))).toBe(17);
    expect(totalTokens(usage(0, 0, 50, 0))).toBe(0);
  });

  it("addTokenUsage and subtractTokenUsage work field by field", () => {
    expect(addTokenUsage(usage(1, 2, 3, 4), usage(10, 20, 30, 40))).toEqual(usage(11, 22, 33, 44));
    expect(subtractTokenUsage(usage(1, 2, 3, 4), usage(10, 20, 30, 40))).toEqual(usage(-9, -18, -27, -36));
  });

  it("emptyTokenUsage is all zero", () => {
    expect(emptyTokenUsage()).toEqual(usage(0, 0, 0, 0));
  });
});

describe("isEmptyTokenUsage", () => {
  it("is true only when all four counts are zero", () => {
    expect(isEmptyTokenUsage(usage(0, 0, 0, 0))).toBe(true);
    expect(isEmptyTokenUsage(usage(1, 0, 0, 0))).toBe(false);
    expect(isEmptyTokenUsage(usage(0, 1, 0, 0))).toBe(false);
    expect(isEmptyTokenUsage(usage(0, 0, 0, 1))).toBe(false);
  });

  it("keeps cached-only usage (not empty although its total is zero)", () => {
    const cachedOnly = usage(0, 0, 9, 0);
    expect(totalTokens(cachedOnly)).toBe(0);
    expect(isEmptyTokenUsage(cachedOnly)).toBe(false);
  });
});

describe("mergeTokenLedger", () => {
  const entry = (source: string, model: string, value: TokenUsage): TokenLedgerEntry => ({ source, model, usage: value });

  it("keeps one row per (source, model), adding counts, in first-seen order", () => {
    const merged = mergeTokenLedger(
      [entry("turn", "m1", usage(1, 1))],
      [
        entry("child", "m1", usage(5, 0)),
        entry("turn", "m2", usage(2, 2)),
        entry("turn", "m1", usage(10, 20, 3, 4)),
        entry("child", "m1", usage(1, 1)),
      ],
    );
    expect(merged).toEqual([entry("turn", "m1", usage(11, 21, 3, 4)), entry("child", "m1", usage(6, 1)), entry("turn", "m2", usage(2, 2))]);
  });

  it("skips empty usage but keeps cached-only usage", () => {
    const merged = mergeTokenLedger([], [entry("turn", "m", usage(0, 0, 0, 0)), entry("observer", "m", usage(0, 0, 7, 0))]);
    expect(merged).toEqual([entry("observer", "m", usage(0, 0, 7, 0))]);
  });

  it("does not modify its inputs", () => {
    const ledger = [entry("turn", "m", usage(1, 1))];
    const entries = [entry("turn", "m", usage(2, 2))];
    const snapshot = structuredClone({ ledger, entries });
    const merged = mergeTokenLedger(ledger, entries);
    expect({ ledger, entries }).toEqual(snapshot);
    merged[0]!.usage.inputTokens = 999;
    expect(ledger[0]!.usage.inputTokens).toBe(1);
    expect(entries[0]!.usage.inputTokens).toBe(2);
  });

  it("treats the same source with different models (and vice versa) as different rows", () => {
    const merged = mergeTokenLedger([], [entry("a", "x", usage(1, 0)), entry("a", "y", usage(1, 0)), entry("b", "x", usage(1, 0))]);
    expect(merged.map((row) => `${row.source}/${row.model}`)).toEqual(["a/x", "a/y", "b/x"]);
  });
});

describe("normalizePromptUsage", () => {
  it("counts cached tokens inside input when the provider includes them (tracing scenario: input 80, cached 20)", () => {
    expect(normalizePromptUsage(usage(80, 0, 20), false)).toEqual({
      promptContextTokens: 80,
      inputTokens: 80,
      cachedInputTokens: 20,
      contextBudgetTokens: 80,
    });
  });

  it("adds cached tokens to input when the provider reports them beside input", () => {
    expect(normalizePromptUsage(usage(80, 10, 20), true)).toEqual({
      promptContextTokens: 100,
      inputTokens: 80,
      cachedInputTokens: 20,
      contextBudgetTokens: 110,
    });
  });

  it("includes the output in the context budget, and ignores reasoning", () => {
    expect(normalizePromptUsage(usage(80, 15, 20, 1000), false)).toMatchObject({ promptContextTokens: 80, contextBudgetTokens: 95 });
  });

  it("is undefined when input, cached and output are all zero", () => {
    expect(normalizePromptUsage(usage(0, 0, 0, 5), false)).toBeUndefined();
    expect(normalizePromptUsage(usage(0, 0, 0, 0), true)).toBeUndefined();
  });

  it("clamps negative counts to zero", () => {
    expect(normalizePromptUsage(usage(-5, 3, -2), false)).toEqual({
      promptContextTokens: 0,
      inputTokens: 0,
      cachedInputTokens: 0,
      contextBudgetTokens: 3,
    });
  });

  it("never lets cached tokens make the adjusted input negative", () => {
    expect(normalizePromptUsage(usage(10, 0, 30), false)).toMatchObject({ promptContextTokens: 10, contextBudgetTokens: 30 });
  });
});
