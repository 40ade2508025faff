import { llmUsageSchema } from "@lash/protocol";
import { describe, expect, it } from "vitest";
import { usageFromCounts } from "./usage-from-counts.js";

describe("usageFromCounts", () => {
  it("maps the four counts", () => {
    expect(usageFromCounts({ input: 7, output: 4, cachedInput: 2, reasoning: 1 })).toEqual({
      inputTokens: 7,
      outputTokens: 4,
      cachedInputTokens: 2,
      reasoningTokens: 1,
    });
  });

  it("treats missing, null, negative, non-finite and non-number values as 0", () => {
    const usage = usageFromCounts({
      input: Number.NaN,
      output: -3,
      cachedInput: null,
      reasoning: "5" as unknown as number,
    });
    expect(usage).toEqual({ inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, reasoningTokens: 0 });
    expect(usageFromCounts({})).toEqual(usage);
    expect(usageFromCounts({ input: Number.POSITIVE_INFINITY }).inputTokens).toBe(0);
  });

  it("always yields integers the schema accepts", () => {
    const usage = usageFromCounts({ input: 2.7, output: 1e300 });
    expect(usage.inputTokens).toBe(2);
    expect(usage.outputTokens).toBe(Number.MAX_SAFE_INTEGER);
    expect(llmUsageSchema.parse(usage)).toEqual(usage);
  });
});
