import type { TokenLedgerEntry } from "@lash/protocol";
import { compareCodePoints, LashError } from "@lash/protocol";
import { DEFAULT_PRICE_TABLE } from "./default-price-table.js";
import { lookupModelPrice, type PriceTable } from "./price-table.js";
import { entriesOfReport } from "./usage-diff.js";
import { parseLedger, type SessionUsageReport } from "./usage-report.js";

/** The cost of each billed kind of token, in integer micro-dollars. */
export interface CostBreakdown {
  readonly input: number;
  readonly cachedInput: number;
  readonly output: number;
  readonly reasoning: number;
}

/**
 * The cost of one ledger row; `priced: false` when the table has no price for its model.
 * `priceTableDate` is the `effectiveDate` of the table that priced the row.
 */
export type CostReportRow =
  | {
      readonly source: string;
      readonly model: string;
      readonly priced: true;
      readonly microUsd: number;
      readonly breakdown: CostBreakdown;
      readonly priceTableDate: string;
    }
  | { readonly source: string; readonly model: string; readonly priced: false };

/**
 * Which prices a cost report used:
 * - `report_time`: every row at the newest table given (no row recorded the table in force when its
 *   tokens were spent);
 * - `recorded`: every row at the table recorded with its usage (`TokenLedgerEntry.priceTableDate`),
 *   so a later price change does not rewrite the cost of past turns;
 * - `mixed`: some rows recorded their table and some did not.
 */
export type PriceBasis = "report_time" | "recorded" | "mixed";

/**
 * The cost of a ledger: one row per ledger row (same order), the total of the priced rows in
 * integer micro-dollars, and the models that had no price (sorted, each once).
 */
export interface CostReport {
  readonly currency: "USD";
  /** The `effectiveDate` of the newest table given: what rows without a recorded date are priced at. */
  readonly priceTableDate: string;
  /** Which prices were used (see `PriceBasis`); an empty ledger is `report_time`. */
  readonly priceBasis: PriceBasis;
  readonly rows: readonly CostReportRow[];
  readonly totalMicroUsd: number;
  readonly unpricedModels: readonly string[];
}

const million = 1_000_000n;

/** `tokens * rate / 1e6`, rounded half up, computed exactly. */
function componentCost(tokens: number, microUsdPerMillion: number): number {
  const product = BigInt(Math.max(0, tokens)) * BigInt(microUsdPerMillion);
  return Number((product + million / 2n) / million);
}

function ledgerOf(input: readonly TokenLedgerEntry[] | SessionUsageReport): TokenLedgerEntry[] {
  if (Array.isArray(input)) return parseLedger(input, "computeCostReport");
  return entriesOfReport(input as SessionUsageReport, "computeCostReport's input (a token ledger or a SessionUsageReport)");
}

/**
 * The table that priced tokens spent under the table dated `date`: the table with that date, else the
 * newest one that took effect on or before it; `undefined` when every table is newer.
 */
function tableInForce(tables: readonly PriceTable[], date: string): PriceTable | undefined {
  let best: PriceTable | undefined;
  for (const table of tables) {
    if (table.effectiveDate > date) continue;
    if (!best || table.effectiveDate > best.effectiveDate) best = table;
  }
  return best;
}

function newestTable(tables: readonly PriceTable[]): PriceTable {
  const first = tables[0];
  if (!first) throw new LashError("invalid_argument", "computeCostReport needs at least one price table");
  return tables.reduce((newest, table) => (table.effectiveDate > newest.effectiveDate ? table : newest), first);
}

/**
 * Prices a ledger (or a report's rows). `prices` is one table (the default table when omitted) or a
 * price history (several dated tables). A row that recorded the date of the table in force when its
 * tokens were spent (`priceTableDate`) is priced with the table of that date (or the newest one that
 * took effect before it); every other row, and a row whose date is older than every table, is priced
 * with the newest table. Each kind of token is priced separately and rounded half up to a whole
 * micro-dollar; when the provider counts cached tokens inside input, only `input - cached` is billed
 * at the input price. Models without a price are listed in `unpricedModels` and add nothing to the
 * total.
 */
export function computeCostReport(
  input: readonly TokenLedgerEntry[] | SessionUsageReport,
  prices: PriceTable | readonly PriceTable[] = DEFAULT_PRICE_TABLE,
): CostReport {
  const tables: readonly PriceTable[] = isPriceHistory(prices) ? prices : [prices];
  const current = newestTable(tables);
  const rows: CostReportRow[] = [];
  const unpriced = new Set<string>();
  let total = 0;
  let recordedRows = 0;
  let reportTimeRows = 0;
  for (const entry of ledgerOf(input)) {
    const recorded = entry.priceTableDate === undefined ? undefined : tableInForce(tables, entry.priceTableDate);
    if (recorded) recordedRows += 1;
    else reportTimeRows += 1;
    const table = recorded ?? current;
    const price = lookupModelPrice(table, entry.model);
    if (!price) {
      unpriced.add(entry.model);
      rows.push({ source: entry.source, model: entry.model, priced: false });
      continue;
    }
    const { usage } = entry;
    const rates = price.microUsdPerMillionTokens;
    const uncachedInput = price.inputIncludesCachedTokens ? usage.inputTokens - usage.cachedInputTokens : usage.inputTokens;
    const breakdown: CostBreakdown = {
      input: componentCost(uncachedInput, rates.input),
      cachedInput: componentCost(usage.cachedInputTokens, rates.cachedInput),
      output: componentCost(usage.outputTokens, rates.output),
      reasoning: componentCost(usage.reasoningTokens, rates.reasoning),
    };
    const microUsd = breakdown.input + breakdown.cachedInput + breakdown.output + breakdown.reasoning;
    total += microUsd;
    rows.push({ source: entry.source, model: entry.model, priced: true, microUsd, breakdown, priceTableDate: table.effectiveDate });
  }
  return {
    currency: "USD",
    priceTableDate: current.effectiveDate,
    priceBasis: recordedRows === 0 ? "report_time" : reportTimeRows === 0 ? "recorded" : "mixed",
    rows,
    totalMicroUsd: total,
    unpricedModels: [...unpriced].sort(compareCodePoints),
  };
}

function isPriceHistory(prices: PriceTable | readonly PriceTable[]): prices is readonly PriceTable[] {
  return Array.isArray(prices);
}

/** Micro-dollars as a dollar string with six decimals (`1234567` -> `"1.234567"`), exact. */
export function formatMicroUsd(microUsd: number): string {
  const negative = microUsd < 0;
  const digits = String(Math.abs(Math.trunc(microUsd))).padStart(7, "0");
  return `${negative ? "-" : ""}${digits.slice(0, -6)}.${digits.slice(-6)}`;
}
