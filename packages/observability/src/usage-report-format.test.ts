import type { TokenLedgerEntry } from "@lash/protocol";
import { describe, expect, it } from "vitest";
import { computeCostReport } from "./cost-report.js";
import { definePriceTable } from "./price-table.js";
import { SessionUsageReport } from "./usage-report.js";
import type { UsageReportJson } from "./usage-report-format.js";
import { formatUsageReportTable, usageReportToJson } from "./usage-report-format.js";

function entry(source: string, model: string, input: number, output: number, cached: number, reasoning: number): TokenLedgerEntry {
  return { source, model, usage: { inputTokens: input, outputTokens: output, cachedInputTokens: cached, reasoningTokens: reasoning } };
}

const table = definePriceTable({
  currency: "USD",
  effectiveDate: "2026-01-01",
  models: {
    priced: {
      microUsdPerMillionTokens: { input: 2_000_000, cachedInput: 0, output: 8_000_000, reasoning: 8_000_000 },
      inputIncludesCachedTokens: true,
    },
  },
});
const ledger = [entry("turn", "priced", 1200, 300, 0, 0), entry("observer", "unknown-model", 7, 1, 2, 0)];
const report = SessionUsageReport.fromEntries(ledger);
const cost = computeCostReport(report, table);

describe("formatUsageReportTable", () => {
  it("renders rows, the total and aligned number columns", () => {
    expect(formatUsageReportTable(report)).toBe(
      [
        "source    model          input  cached  output  reasoning  total  context",
        "--------  -------------  -----  ------  ------  ---------  -----  -------",
        "turn      priced          1200       0     300          0   1500     1500",
        "observer  unknown-model      7       2       1          0      8       10",
        "--------  -------------  -----  ------  ------  ---------  -----  -------",
        "TOTAL                     1207       2     301          0   1508     1510",
        "",
      ].join("\n"),
    );
  });

  it("adds the cost column and a footer naming the date and the unpriced models", () => {
    const text = formatUsageReportTable(report, { cost });
    const lines = text.trimEnd().split("\n");
    expect(lines[0]?.endsWith("cost")).toBe(true);
    expect(lines[2]?.endsWith("$0.004800")).toBe(true);
    expect(lines[3]?.endsWith("unpriced")).toBe(true);
    expect(lines[5]?.endsWith("$0.004800")).toBe(true);
    expect(lines[6]).toBe("prices in USD as of 2026-01-01; unpriced models (not in the total): unknown-model");
  });

  it("says the total is unpriced, not $0, when no model of the report has a price", () => {
    const unpricedOnly = SessionUsageReport.fromEntries([entry("turn", "scripted-model", 10, 2, 0, 0)]);
    const lines = formatUsageReportTable(unpricedOnly, { cost: computeCostReport(unpricedOnly, table) })
      .trimEnd()
      .split("\n");
    expect(lines[2]?.endsWith("unpriced")).toBe(true);
    expect(lines[4]?.startsWith("TOTAL")).toBe(true);
    expect(lines[4]?.endsWith("unpriced")).toBe(true);
    expect(lines[4]).not.toContain("$");
  });

  it("uses ANSI styles only when asked", () => {
    expect(formatUsageReportTable(report, { cost })).not.toContain("\u001b[");
    const colored = formatUsageReportTable(report, { cost, color: true });
    expect(colored.startsWith("\u001b[1msource")).toBe(true);
    expect(colored).toContain("\u001b[2mprices in USD");
  });
});

describe("usageReportToJson", () => {
  it("is plain JSON with the totals, the keyed sums and the rows", () => {
    const json = usageReportToJson(report);
    expect(JSON.parse(JSON.stringify(json))).toEqual(json);
    expect(json.cost).toBeUndefined();
    expect(json.rows.map((row) => [row.source, row.usage.totalTokens, row.cost])).toEqual([
      ["turn", 1500, undefined],
      ["observer", 8, undefined],
    ]);
    expect(json.bySource.map((row) => row.source)).toEqual(["observer", "turn"]);
    expect(json.byModel.map((row) => [row.model, row.usage.totalTokens])).toEqual([
      ["priced", 1500],
      ["unknown-model", 8],
    ]);
  });

  it("lists the keyed sums in code-point order, number-like keys included", () => {
    const keys = ["9", "10", "b", "a", "é", "Z"];
    const codePointOrder = ["10", "9", "Z", "a", "b", "é"];
    const json = usageReportToJson(SessionUsageReport.fromEntries(keys.map((key) => entry(key, key, 1, 0, 0, 0))));
    expect(json.bySource.map((row) => row.source)).toEqual(codePointOrder);
    expect(json.byModel.map((row) => row.model)).toEqual(codePointOrder);
    const parsed = JSON.parse(JSON.stringify(json)) as UsageReportJson;
    expect(parsed.bySource.map((row) => row.source)).toEqual(codePointOrder);
    expect(parsed.byModel.map((row) => row.model)).toEqual(codePointOrder);
    expect(parsed.rows.map((row) => row.source)).toEqual(keys);
  });

  it("carries each row's cost and the exact total when given a cost report", () => {
    const json = usageReportToJson(report, cost);
    expect(json.rows.map((row) => row.cost)).toEqual([
      { priced: true, microUsd: 4800, usd: "0.004800", priceTableDate: "2026-01-01" },
      { priced: false },
    ]);
    expect(json.cost).toEqual({
      currency: "USD",
      priceTableDate: "2026-01-01",
      priceBasis: "report_time",
      totalMicroUsd: 4800,
      totalUsd: "0.004800",
      unpricedModels: ["unknown-model"],
    });
  });
});
