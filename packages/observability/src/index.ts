export { SessionUsageReport, usageTotalsOf } from "./usage-report.js";
export type { UsageReportRow, UsageTotals } from "./usage-report.js";
export { diffTokenLedger, diffUsageReports } from "./usage-diff.js";
export { UsageDecreasedError } from "./usage-decreased-error.js";

export { definePriceTable, lookupModelPrice, modelPriceSchema, priceTableSchema, withModelPrices } from "./price-table.js";
export type { ModelPrice, PriceTable } from "./price-table.js";
export { DEFAULT_PRICE_TABLE } from "./default-price-table.js";
export { computeCostReport, formatMicroUsd } from "./cost-report.js";
export type { CostBreakdown, CostReport, CostReportRow } from "./cost-report.js";

export { formatUsageReportTable, usageReportToJson } from "./usage-report-format.js";
export type { UsageReportJson, UsageTableOptions } from "./usage-report-format.js";

export { createInMemoryTraceSink, InMemoryTraceSink } from "./in-memory-trace-sink.js";
export { createJsonlTraceSink } from "./jsonl-trace-sink.js";
export type { JsonlTraceSink, JsonlTraceSinkOptions } from "./jsonl-trace-sink.js";
export type { TraceLevel, TraceRecord, TraceSink } from "@lash/protocol";

export { runningUsageTotals, timeToFirstToken, toolCallDurations } from "./turn-activity-operators.js";
export type { TimeToFirstToken, TimeToFirstTokenOptions, ToolCallDuration } from "./turn-activity-operators.js";
