import { DEFAULT_PRICE_TABLE, type PriceTable } from "@lash/observability";
import { LashError } from "@lash/protocol";

/**
 * The server's price history: the built-in table plus the configured ones, oldest first. A configured
 * table dated like the built-in one replaces it; two configured tables with one date are a
 * configuration error (which of them priced a turn would be ambiguous).
 */
export function priceHistory(configured: readonly PriceTable[]): PriceTable[] {
  const byDate = new Map<string, PriceTable>([[DEFAULT_PRICE_TABLE.effectiveDate, DEFAULT_PRICE_TABLE]]);
  const seen = new Set<string>();
  for (const table of configured) {
    if (seen.has(table.effectiveDate)) {
      throw new LashError("invalid_configuration", `two price tables have the effectiveDate ${table.effectiveDate}: keep one per date`);
    }
    seen.add(table.effectiveDate);
    byDate.set(table.effectiveDate, table);
  }
  return [...byDate.values()].sort((left, right) => (left.effectiveDate < right.effectiveDate ? -1 : 1));
}

/** The table in force now: the newest of a history `priceHistory` built (never empty). */
export function newestPriceTable(history: readonly PriceTable[]): PriceTable {
  return history.at(-1) ?? DEFAULT_PRICE_TABLE;
}
