import type { TokenLedgerEntry } from "@lash/protocol";
import { LashError } from "@lash/protocol";
import { describe, expect, it } from "vitest";
import { UsageDecreasedError } from "./usage-decreased-error.js";
import { diffTokenLedger, diffUsageReports } from "./usage-diff.js";
import { SessionUsageReport } from "./usage-report.js";

function entry(source: string, model: string, input: number, output: number, cached: number, reasoning: number): TokenLedgerEntry {
  return { source, model, usage: { inputTokens: input, outputTokens: output, cachedInputTokens: cached, reasoningTokens: reasoning } };
}

describe("SessionUsageReport.fromEntries", () => {
  it("aggregates sources and models: totals, sums per source and per model", () => {
    const entries = [
      entry("turn", "gpt-5.4-mini", 10, 2, 3, 1),
      entry("observer", "gpt-5.4-mini", 7, 1, 0, 0),
      entry("turn", "gpt-5.4", 20, 4, 5, 2),
    ];
    const report = SessionUsageReport.fromEntries(entries);
    expect(report.entryCount).toBe(3);
    expect(report.usage).toEqual({
      inputTokens: 37,
      outputTokens: 7,
      cachedInputTokens: 8,
      reasoningTokens: 3,
      totalTokens: 47,
      contextTotalTokens: 55,
    });
    expect(report.bySource.turn?.inputTokens).toBe(30);
    expect(report.bySource.observer?.outputTokens).toBe(1);
    expect(report.byModel["gpt-5.4-mini"]?.inputTokens).toBe(17);
    expect(report.byModel["gpt-5.4"]?.reasoningTokens).toBe(2);

    const diff = diffTokenLedger([entry("turn", "gpt-5.4-mini", 10, 2, 3, 1)], entries);
    expect(diff).toHaveLength(2);
    expect(diff[0]?.source).toBe("observer");
    expect(diff[1]?.model).toBe("gpt-5.4");
  });

  it("keeps one row per entry in input order, unmerged, and sorts the keyed sums", () => {
    const report = SessionUsageReport.fromEntries([
      entry("z", "m2", 1, 0, 0, 0),
      entry("a", "m1", 2, 0, 0, 0),
      entry("z", "m2", 3, 0, 0, 0),
    ]);
    expect(report.bySourceModel.map((row) => [row.source, row.usage.inputTokens])).toEqual([
      ["z", 1],
      ["a", 2],
      ["z", 3],
    ]);
    expect(Object.keys(report.bySource)).toEqual(["a", "z"]);
    expect(report.bySource.z?.inputTokens).toBe(4);
    expect(Object.keys(report.byModel)).toEqual(["m1", "m2"]);
  });

  it("counts cached tokens in the context total only", () => {
    const report = SessionUsageReport.fromEntries([entry("turn", "m", 0, 0, 9, 0)]);
    expect(report.usage.totalTokens).toBe(0);
    expect(report.usage.contextTotalTokens).toBe(9);
  });

  it("an empty ledger is an empty report", () => {
    const report = SessionUsageReport.fromEntries([]);
    expect(report).toEqual({
      entryCount: 0,
      usage: { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, reasoningTokens: 0, totalTokens: 0, contextTotalTokens: 0 },
      bySource: {},
      byModel: {},
      bySourceModel: [],
    });
  });

  it("a source named __proto__ is a plain key", () => {
    const report = SessionUsageReport.fromEntries([entry("__proto__", "m", 1, 0, 0, 0)]);
    expect(Object.keys(report.bySource)).toEqual(["__proto__"]);
    // biome-ignore lint/suspicious/noProto: the test reads a row keyed "__proto__", which must be plain data
    expect(report.bySource.__proto__?.inputTokens).toBe(1);
  });

  it("rejects a malformed entry with a typed error naming the field", () => {
    const bad = [
      entry("turn", "m", 1, 0, 0, 0),
      { source: "turn", model: "m", usage: { inputTokens: 1.5, outputTokens: 0, cachedInputTokens: 0 } },
    ];
    expect(() => SessionUsageReport.fromEntries(bad as TokenLedgerEntry[])).toThrow(/at `1\.usage\.inputTokens`/);
    try {
      SessionUsageReport.fromEntries("nope" as unknown as TokenLedgerEntry[]);
      expect.unreachable();
    } catch (error) {
      expect(LashError.isInstance(error) && error.code).toBe("invalid_argument");
    }
  });
});

describe("diffTokenLedger", () => {
  it("sorts by source then model in code-point order and skips unchanged pairs", () => {
    const before = [entry("turn", "b", 1, 0, 0, 0), entry("Turn", "a", 1, 0, 0, 0)];
    const after = [
      entry("turn", "b", 1, 0, 0, 0),
      entry("turn", "a", 2, 0, 0, 0),
      entry("Turn", "a", 3, 0, 0, 0),
      entry("child", "z", 0, 0, 4, 0),
    ];
    expect(diffTokenLedger(before, after)).toEqual([
      entry("Turn", "a", 2, 0, 0, 0),
      entry("child", "z", 0, 0, 4, 0),
      entry("turn", "a", 2, 0, 0, 0),
    ]);
  });

  it("keeps cached-only growth (the single empty-usage rule)", () => {
    expect(diffTokenLedger([], [entry("subagent", "m", 0, 0, 9, 0)])).toEqual([entry("subagent", "m", 0, 0, 9, 0)]);
  });

  it("takes the last of duplicate pairs, without summing", () => {
    expect(diffTokenLedger([entry("t", "m", 5, 0, 0, 0), entry("t", "m", 1, 0, 0, 0)], [entry("t", "m", 3, 0, 0, 0)])).toEqual([
      entry("t", "m", 2, 0, 0, 0),
    ]);
  });

  it("throws a typed error naming the first decreasing pair in sorted order", () => {
    const before = [entry("z", "m", 5, 0, 0, 0), entry("a", "m", 0, 0, 3, 0)];
    const after = [entry("z", "m", 4, 0, 0, 0), entry("a", "m", 0, 0, 2, 0)];
    try {
      diffTokenLedger(before, after);
      expect.unreachable();
    } catch (error) {
      expect(UsageDecreasedError.isInstance(error)).toBe(true);
      if (!UsageDecreasedError.isInstance(error)) return;
      expect(error.code).toBe("invalid_argument");
      expect(error.message).toBe("token ledger decreased for source/model (a, m)");
      expect([error.source, error.model]).toEqual(["a", "m"]);
    }
  });

  it("a pair missing from `after` counts as a decrease", () => {
    expect(() => diffTokenLedger([entry("t", "m", 1, 0, 0, 0)], [])).toThrow(/\(t, m\)/);
  });
});

describe("diffUsageReports", () => {
  it("diffs the rows of two reports and ignores the derived totals", () => {
    const before = SessionUsageReport.fromEntries([entry("turn", "m", 10, 1, 0, 0)]);
    const after = SessionUsageReport.fromEntries([entry("turn", "m", 15, 1, 2, 0), entry("child", "m", 1, 0, 0, 0)]);
    expect(diffUsageReports(before, after)).toEqual([entry("child", "m", 1, 0, 0, 0), entry("turn", "m", 5, 0, 2, 0)]);
    expect(() => diffUsageReports(after, before)).toThrow(UsageDecreasedError);
  });
});
