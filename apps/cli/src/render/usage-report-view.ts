import type { UsageReportJson } from "@lash/observability";
import { computeCostReport, formatUsageReportTable, SessionUsageReport, usageReportToJson } from "@lash/observability";
import type { TokenLedgerEntry } from "@lash/protocol";
import type { TerminalStyle } from "./terminal-style.js";

/**
 * The usage table of a ledger with its cost at list prices (observability's default price table);
 * models the table does not know (a scripted model, a local one) are shown as unpriced.
 */
export function renderUsageReport(ledger: readonly TokenLedgerEntry[], style: TerminalStyle): string {
  if (ledger.length === 0) return style.dim("no usage recorded");
  const report = SessionUsageReport.fromEntries(ledger);
  const cost = computeCostReport(report);
  return formatUsageReportTable(report, { cost, color: style.enabled }).trimEnd();
}

/** The usage report and its cost as JSON. */
export function usageReportJson(ledger: readonly TokenLedgerEntry[]): UsageReportJson {
  const report = SessionUsageReport.fromEntries(ledger);
  return usageReportToJson(report, computeCostReport(report));
}
