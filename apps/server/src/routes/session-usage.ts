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
 * The wire form of a session's usage report with its cost at `table`'s list prices (the default
 * table of `@lash/observability`, as `lash sessions usage` prints it).
 *
 * Which prices: the session's token ledger holds one accumulated row per (source, model) and does
 * not record which price table was in force when its tokens were spent, so every row is priced with
 * the table in force now, and the report says so (`priceBasis: "report_time"`, with that table's
 * date on the report and on each priced row). A row that carried its own table's date would be
 * priced with that table instead (`recorded`); the ledger cannot carry it yet.
 */
export function sessionUsageReport(usage: SessionUsageReport, table: PriceTable = DEFAULT_PRICE_TABLE): UsageReport {
  const cost = computeCostReport(usage, table);
  const json = usageReportToJson(usage, cost);
  return {
    usage: totals(json.usage),
    entryCount: json.entryCount,
    rows: json.rows.map((row) => ({
      source: row.source,
      model: row.model,
      usage: totals(row.usage),
      ...(row.cost === undefined ? {} : { cost: { ...row.cost, ...(row.cost.priced ? { priceTableDate: cost.priceTableDate } : {}) } }),
    })),
    bySource: json.bySource.map((row) => ({ source: row.source, usage: totals(row.usage) })),
    byModel: json.byModel.map((row) => ({ model: row.model, usage: totals(row.usage) })),
    ...(json.cost === undefined
      ? {}
      : {
          cost: {
            currency: json.cost.currency,
            priceBasis: "report_time",
            priceTableDate: json.cost.priceTableDate,
            totalMicroUsd: json.cost.totalMicroUsd,
            totalUsd: json.cost.totalUsd,
            unpricedModels: [...json.cost.unpricedModels],
          },
        }),
  };
}
