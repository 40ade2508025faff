import type { TokenLedgerEntry } from "@lash/protocol";
import { compareCodePoints } from "@lash/protocol";
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

/** The cost of one ledger row; `priced: false` when the table has no price for its model. */
export type CostReportRow =
  | { readonly source: string; readonly model: string; readonly priced: true; readonly microUsd: number; readonly breakdown: CostBreakdown }
  | { readonly source: string; readonly model: string; readonly priced: false };

/**
 * The cost of a ledger: one row per ledger row (same order), the total of the priced rows in
 * integer micro-dollars, and the models that had no price (sorted, each once).
 */
export interface CostReport {
  readonly currency: "USD";
  /** The price table's `effectiveDate`. */
  readonly priceTableDate: string;
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
 * Prices a ledger (or a report's rows) with `table` (the default table when omitted). Each kind of
 * token is priced separately and rounded half up to a whole micro-dollar; when the provider counts
 * cached tokens inside input, only `input - cached` is billed at the input price. Models without a
 * price are listed in `unpricedModels` and add nothing to the total.
 */
export function computeCostReport(
  input: readonly TokenLedgerEntry[] | SessionUsageReport,
  table: PriceTable = DEFAULT_PRICE_TABLE,
): CostReport {
  const rows: CostReportRow[] = [];
  const unpriced = new Set<string>();
  let total = 0;
  for (const entry of ledgerOf(input)) {
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
    rows.push({ source: entry.source, model: entry.model, priced: true, microUsd, breakdown });
  }
  return {
    currency: "USD",
    priceTableDate: table.effectiveDate,
    rows,
    totalMicroUsd: total,
    unpricedModels: [...unpriced].sort(compareCodePoints),
  };
}

/** Micro-dollars as a dollar string with six decimals (`1234567` -> `"1.234567"`), exact. */
export function formatMicroUsd(microUsd: number): string {
  const negative = microUsd < 0;
  const digits = String(Math.abs(Math.trunc(microUsd))).padStart(7, "0");
  return `${negative ? "-" : ""}${digits.slice(0, -6)}.${digits.slice(-6)}`;
}
