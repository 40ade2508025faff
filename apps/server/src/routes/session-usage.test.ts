import { DEFAULT_PRICE_TABLE, SessionUsageReport, withModelPrices } from "@lash/observability";
import { usageReportSchema } from "@lash/remote-protocol";
import { describe, expect, it } from "vitest";
import { sessionUsageReport } from "./session-usage.js";

const ledger = [
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

  it("reprices the same ledger after a price change: the basis is the report's time, not the turns'", () => {
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
    const report = sessionUsageReport(SessionUsageReport.fromEntries(ledger), later);
    expect(report.cost).toMatchObject({ priceBasis: "report_time", priceTableDate: "2099-01-01", totalMicroUsd: 4_050_000 });
    expect(report.rows[0]?.cost).toMatchObject({ priceTableDate: "2099-01-01" });
  });
});
