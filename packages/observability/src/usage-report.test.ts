import type { TokenLedgerEntry } from "@lash/protocol";
import { LashError } from "@lash/protocol";
import { describe, expect, it } from "vitest";
import { UsageDecreasedError } from "./usage-decreased-error.js";
import { diffTokenLedger, diffUsageReports } from "./usage-diff.js";
import type { SessionUsageReportJson } from "./usage-report.js";
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
    expect(report.bySource.get("turn")?.inputTokens).toBe(30);
    expect(report.bySource.get("observer")?.outputTokens).toBe(1);
    expect(report.byModel.get("gpt-5.4-mini")?.inputTokens).toBe(17);
    expect(report.byModel.get("gpt-5.4")?.reasoningTokens).toBe(2);

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
    expect([...report.bySource.keys()]).toEqual(["a", "z"]);
    expect(report.bySource.get("z")?.inputTokens).toBe(4);
    expect([...report.byModel.keys()]).toEqual(["m1", "m2"]);
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
      bySource: new Map(),
      byModel: new Map(),
      bySourceModel: [],
    });
    expect(JSON.parse(JSON.stringify(report))).toEqual({
      entryCount: 0,
      usage: { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, reasoningTokens: 0, totalTokens: 0, contextTotalTokens: 0 },
      bySource: [],
      byModel: [],
      bySourceModel: [],
    });
  });

  describe("keeps code-point order for every key, number-like ones included", () => {
    // Deliberately shuffled, with keys an object would reorder ("9" and "10" ahead of the rest).
    const keys = ["9", "10", "b", "a", "é", "Z"];
    const codePointOrder = ["10", "9", "Z", "a", "b", "é"];
    const report = SessionUsageReport.fromEntries(keys.map((key, index) => entry(key, key, index + 1, 0, 0, 0)));

    it("iterates bySource and byModel in code-point order", () => {
      expect([...report.bySource.keys()]).toEqual(codePointOrder);
      expect([...report.byModel.keys()]).toEqual(codePointOrder);
      const visited: string[] = [];
      for (const [source, totals] of report.bySource) visited.push(`${source}=${totals.inputTokens}`);
      expect(visited).toEqual(["10=2", "9=1", "Z=6", "a=4", "b=3", "é=5"]);
      expect([...report.byModel.values()].map((totals) => totals.inputTokens)).toEqual([2, 1, 6, 4, 3, 5]);
    });

    it("writes the same order to JSON, as arrays of rows", () => {
      const text = JSON.stringify(report);
      const json = JSON.parse(text) as SessionUsageReportJson;
      expect(json.bySource.map((row) => row.source)).toEqual(codePointOrder);
      expect(json.byModel.map((row) => row.model)).toEqual(codePointOrder);
      expect(json.bySource[0]).toEqual({ source: "10", usage: report.bySource.get("10") });
      // The text itself, not only the parsed value, lists "10" before "9".
      expect(text.indexOf('"source":"10"')).toBeLessThan(text.indexOf('"source":"9"'));
      expect(json).toEqual(report.toJSON());
      // The ledger rows stay in ledger order.
      expect(json.bySourceModel.map((row) => row.source)).toEqual(keys);
    });
  });

  it("a source named __proto__ is a plain key", () => {
    const report = SessionUsageReport.fromEntries([entry("__proto__", "m", 1, 0, 0, 0)]);
    expect([...report.bySource.keys()]).toEqual(["__proto__"]);
    expect(report.bySource.get("__proto__")?.inputTokens).toBe(1);
    const json = JSON.parse(JSON.stringify(report)) as SessionUsageReportJson;
    expect(json.bySource.map((row) => [row.source, row.usage.inputTokens])).toEqual([["__proto__", 1]]);
  });

  it("keeps toJSON out of the report's own keys", () => {
    const report = SessionUsageReport.fromEntries([entry("turn", "m", 1, 0, 0, 0)]);
    expect(Object.keys(report)).toEqual(["entryCount", "usage", "bySource", "byModel", "bySourceModel"]);
    expect(typeof report.toJSON).toBe("function");
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
