import type { TokenLedgerEntry, TokenUsage } from "@lash/protocol";
import { compareCodePoints, isEmptyTokenUsage, LashError } from "@lash/protocol";
import { UsageDecreasedError } from "./usage-decreased-error.js";
import { parseLedger, type SessionUsageReport } from "./usage-report.js";

const zero: TokenUsage = { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, reasoningTokens: 0 };

function keyOf(entry: TokenLedgerEntry): string {
  // JSON of the triple: no separator character can make two different keys collide.
  return JSON.stringify([entry.source, entry.model, entry.priceTableDate ?? null]);
}

function index(entries: readonly TokenLedgerEntry[]): Map<string, TokenLedgerEntry> {
  const byKey = new Map<string, TokenLedgerEntry>();
  // Duplicate pairs: the last entry wins (no summing). Each entry is a running total of its pair,
  // so a later duplicate supersedes an earlier one; adding them would count the same tokens twice.
  for (const entry of entries) byKey.set(keyOf(entry), entry);
  return byKey;
}

/**
 * What was spent between two snapshots of a ledger: one entry per `(source, model, priceTableDate)`
 * whose counts grew, sorted by source, model, then date (code-point order), each with `after - before` (a pair missing
 * on one side counts as zeros). Pairs with no change are left out; duplicate pairs on one side take
 * the last entry.
 *
 * @throws UsageDecreasedError when a count went down (the first such pair in sorted order).
 */
export function diffTokenLedger(before: readonly TokenLedgerEntry[], after: readonly TokenLedgerEntry[]): TokenLedgerEntry[] {
  const beforeByKey = index(parseLedger(before, "diffTokenLedger `before`"));
  const afterByKey = index(parseLedger(after, "diffTokenLedger `after`"));
  const pairs = new Map<string, TokenLedgerEntry>();
  for (const entry of [...beforeByKey.values(), ...afterByKey.values()]) pairs.set(keyOf(entry), entry);
  const sorted = [...pairs.entries()].sort(
    ([, left], [, right]) =>
      compareCodePoints(left.source, right.source) ||
      compareCodePoints(left.model, right.model) ||
      compareCodePoints(left.priceTableDate ?? "", right.priceTableDate ?? ""),
  );
  const result: TokenLedgerEntry[] = [];
  for (const [key, { source, model, priceTableDate }] of sorted) {
    const old = beforeByKey.get(key)?.usage ?? zero;
    const now = afterByKey.get(key)?.usage ?? zero;
    const usage: TokenUsage = {
      inputTokens: now.inputTokens - old.inputTokens,
      outputTokens: now.outputTokens - old.outputTokens,
      cachedInputTokens: now.cachedInputTokens - old.cachedInputTokens,
      reasoningTokens: now.reasoningTokens - old.reasoningTokens,
    };
    if (usage.inputTokens < 0 || usage.outputTokens < 0 || usage.cachedInputTokens < 0 || usage.reasoningTokens < 0) {
      throw new UsageDecreasedError(source, model);
    }
    if (isEmptyTokenUsage(usage)) continue;
    result.push({ source, model, usage, ...(priceTableDate === undefined ? {} : { priceTableDate }) });
  }
  return result;
}

/** The ledger entries behind a report's rows; `what` names the argument in the error for a non-report. */
export function entriesOfReport(report: SessionUsageReport, what: string): TokenLedgerEntry[] {
  if (typeof report !== "object" || report === null || !Array.isArray(report.bySourceModel)) {
    throw new LashError("invalid_argument", `${what} must be a SessionUsageReport`);
  }
  return report.bySourceModel.map((row) => ({
    source: row.source,
    model: row.model,
    ...(row.priceTableDate === undefined ? {} : { priceTableDate: row.priceTableDate }),
    usage: {
      inputTokens: row.usage.inputTokens,
      outputTokens: row.usage.outputTokens,
      cachedInputTokens: row.usage.cachedInputTokens,
      reasoningTokens: row.usage.reasoningTokens,
    },
  }));
}

/**
 * `diffTokenLedger` over the rows of two reports (their derived totals are ignored; duplicate rows
 * take the last one).
 *
 * @throws UsageDecreasedError when a count went down.
 */
export function diffUsageReports(before: SessionUsageReport, after: SessionUsageReport): TokenLedgerEntry[] {
  return diffTokenLedger(entriesOfReport(before, "diffUsageReports `before`"), entriesOfReport(after, "diffUsageReports `after`"));
}
