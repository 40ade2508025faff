import {
  computeCostReport,
  DEFAULT_PRICE_TABLE,
  type PriceTable,
  type SessionUsageReport,
  type UsageTotals,
  usageReportToJson,
} from "@lash/observability";
import type { UsageReport } from "@lash/remote-protocol";

function totals(usage: UsageTotals): UsageTotals {
  return { ...usage };
}

/**
 * The wire form of a session's usage report with its cost. `prices` is the server's price history
 * (the default table of `@lash/observability` plus the tables in its config file): the server records
 * the newest table's date with every usage it commits, so each row is priced at the table that was in
 * force when its tokens were spent (`priceBasis: "recorded"`) and a later price change does not
 * rewrite history; rows committed before dates were recorded are priced at the newest table
 * (`report_time`, or `mixed` when both kinds are present).
 */
export function sessionUsageReport(usage: SessionUsageReport, prices: readonly PriceTable[] = [DEFAULT_PRICE_TABLE]): UsageReport {
  const cost = computeCostReport(usage, prices);
  const json = usageReportToJson(usage, cost);
  return {
    usage: totals(json.usage),
    entryCount: json.entryCount,
    rows: json.rows.map((row) => ({
      source: row.source,
      model: row.model,
      ...(row.priceTableDate === undefined ? {} : { priceTableDate: row.priceTableDate }),
      usage: totals(row.usage),
      ...(row.cost === undefined ? {} : { cost: { ...row.cost } }),
    })),
    bySource: json.bySource.map((row) => ({ source: row.source, usage: totals(row.usage) })),
    byModel: json.byModel.map((row) => ({ model: row.model, usage: totals(row.usage) })),
    ...(json.cost === undefined
      ? {}
      : {
          cost: {
            currency: json.cost.currency,
            priceBasis: json.cost.priceBasis,
            priceTableDate: json.cost.priceTableDate,
            totalMicroUsd: json.cost.totalMicroUsd,
            totalUsd: json.cost.totalUsd,
            unpricedModels: [...json.cost.unpricedModels],
          },
        }),
  };
}
