import { DEFAULT_PRICE_TABLE, SessionUsageReport, withModelPrices } from "@lash/observability";
import type { TokenLedgerEntry } from "@lash/protocol";
import { usageReportSchema } from "@lash/remote-protocol";
import { describe, expect, it } from "vitest";
import { sessionUsageReport } from "./session-usage.js";

const ledger: TokenLedgerEntry[] = [
  {
    source: "turn",
    model: "gpt-5",
    usage: { inputTokens: 1_000_000, outputTokens: 100_000, cachedInputTokens: 200_000, reasoningTokens: 0 },
  },
  { source: "turn", model: "scripted-model", usage: { inputTokens: 10, outputTokens: 2, cachedInputTokens: 0, reasoningTokens: 0 } },
];

describe("the usage report of GET /v1/sessions/{id}/usage", () => {
  it("prices each row with the table in force at report time, says so, and lists models it has no price for", () => {
    const report = usageReportSchema.parse(sessionUsageReport(SessionUsageReport.fromEntries(ledger)));
    // gpt-5: 800k uncached input at $1.25/M, 200k cached at $0.125/M, 100k output at $10/M.
    expect(report.rows).toEqual([
      expect.objectContaining({
        model: "gpt-5",
        cost: { priced: true, microUsd: 2_025_000, usd: "2.025000", priceTableDate: DEFAULT_PRICE_TABLE.effectiveDate },
      }),
      expect.objectContaining({ model: "scripted-model", cost: { priced: false } }),
    ]);
    expect(report.cost).toEqual({
      currency: "USD",
      priceBasis: "report_time",
      priceTableDate: DEFAULT_PRICE_TABLE.effectiveDate,
      totalMicroUsd: 2_025_000,
      totalUsd: "2.025000",
      unpricedModels: ["scripted-model"],
    });
    expect(report.usage).toMatchObject({ inputTokens: 1_000_010, outputTokens: 100_002, totalTokens: 1_100_012 });
  });

  const later = withModelPrices(
    DEFAULT_PRICE_TABLE,
    {
      "gpt-5": {
        microUsdPerMillionTokens: { input: 2_500_000, cachedInput: 250_000, output: 20_000_000, reasoning: 20_000_000 },
        inputIncludesCachedTokens: true,
      },
    },
    "2099-01-01",
  );

  it("prices each row at the table recorded with its usage, so a later price change does not rewrite past turns", () => {
    const [gpt5] = ledger;
    if (gpt5 === undefined) throw new Error("the ledger fixture has a gpt-5 row");
    const dated: TokenLedgerEntry[] = [
      { ...gpt5, priceTableDate: DEFAULT_PRICE_TABLE.effectiveDate },
      { ...gpt5, priceTableDate: "2099-01-01" },
    ];
    const report = usageReportSchema.parse(sessionUsageReport(SessionUsageReport.fromEntries(dated), [DEFAULT_PRICE_TABLE, later]));
    expect(report.rows.map((row) => [row.priceTableDate, row.cost?.microUsd, row.cost?.priceTableDate])).toEqual([
      [DEFAULT_PRICE_TABLE.effectiveDate, 2_025_000, DEFAULT_PRICE_TABLE.effectiveDate],
      ["2099-01-01", 4_050_000, "2099-01-01"],
    ]);
    expect(report.cost).toMatchObject({ priceBasis: "recorded", priceTableDate: "2099-01-01", totalMicroUsd: 6_075_000 });
  });

  it("prices rows that recorded no date at the newest table, and says the basis is the report's time", () => {
    const report = sessionUsageReport(SessionUsageReport.fromEntries(ledger), [DEFAULT_PRICE_TABLE, later]);
    expect(report.cost).toMatchObject({ priceBasis: "report_time", priceTableDate: "2099-01-01", totalMicroUsd: 4_050_000 });
    expect(report.rows[0]?.cost).toMatchObject({ priceTableDate: "2099-01-01" });
  });
});
