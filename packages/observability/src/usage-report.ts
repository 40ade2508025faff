import type { TokenLedgerEntry, TokenUsage } from "@lash/protocol";
import { compareCodePoints, LashError, tokenLedgerEntrySchema } from "@lash/protocol";

/**
 * Token counts with the two derived totals. `totalTokens = input + output + reasoning` (cached input
 * excluded); `contextTotalTokens = totalTokens + cachedInputTokens`.
 */
export interface UsageTotals {
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly cachedInputTokens: number;
  readonly reasoningTokens: number;
  readonly totalTokens: number;
  readonly contextTotalTokens: number;
}

/** One ledger entry of a report, with its totals. */
export interface UsageReportRow {
  readonly source: string;
  readonly model: string;
  readonly usage: UsageTotals;
}

/**
 * A session's usage: the sum of its ledger, the sums per source and per model (keys in code-point
 * order), and one row per ledger entry in ledger order (rows are not merged).
 */
export interface SessionUsageReport {
  readonly entryCount: number;
  readonly usage: UsageTotals;
  readonly bySource: Readonly<Record<string, UsageTotals>>;
  readonly byModel: Readonly<Record<string, UsageTotals>>;
  readonly bySourceModel: readonly UsageReportRow[];
}

/** The totals of one usage. */
export function usageTotalsOf(usage: TokenUsage): UsageTotals {
  const totalTokens = usage.inputTokens + usage.outputTokens + usage.reasoningTokens;
  return {
    inputTokens: usage.inputTokens,
    outputTokens: usage.outputTokens,
    cachedInputTokens: usage.cachedInputTokens,
    reasoningTokens: usage.reasoningTokens,
    totalTokens,
    contextTotalTokens: totalTokens + usage.cachedInputTokens,
  };
}

function addInto(target: TokenUsage, usage: TokenUsage): void {
  target.inputTokens += usage.inputTokens;
  target.outputTokens += usage.outputTokens;
  target.cachedInputTokens += usage.cachedInputTokens;
  target.reasoningTokens += usage.reasoningTokens;
}

function zero(): TokenUsage {
  return { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, reasoningTokens: 0 };
}

function sortedTotals(sums: Map<string, TokenUsage>): Record<string, UsageTotals> {
  const keys = [...sums.keys()].sort(compareCodePoints);
  // `Object.fromEntries` defines own properties, so a source named `__proto__` stays a plain key.
  return Object.fromEntries(keys.map((key) => [key, usageTotalsOf(sums.get(key) ?? zero())]));
}

/** Validates hostile input: every entry must be a `TokenLedgerEntry` with integer counts. */
export function parseLedger(entries: unknown, what: string): TokenLedgerEntry[] {
  if (!Array.isArray(entries)) throw new LashError("invalid_argument", `${what} must be an array of token ledger entries`);
  return entries.map((entry, index) => {
    const parsed = tokenLedgerEntrySchema.safeParse(entry);
    if (parsed.success) return parsed.data;
    const issue = parsed.error.issues[0];
    const path = [index, ...(issue?.path ?? [])].map(String).join(".");
    throw new LashError("invalid_argument", `invalid token ledger entry in ${what} at \`${path}\`: ${issue?.message ?? "invalid"}`);
  });
}

/** Builds the report of a ledger. */
function fromEntries(entries: readonly TokenLedgerEntry[]): SessionUsageReport {
  const ledger = parseLedger(entries, "SessionUsageReport.fromEntries");
  const total = zero();
  const bySource = new Map<string, TokenUsage>();
  const byModel = new Map<string, TokenUsage>();
  const rows: UsageReportRow[] = [];
  for (const entry of ledger) {
    addInto(total, entry.usage);
    for (const [map, key] of [
      [bySource, entry.source],
      [byModel, entry.model],
    ] as const) {
      let sum = map.get(key);
      if (!sum) {
        sum = zero();
        map.set(key, sum);
      }
      addInto(sum, entry.usage);
    }
    rows.push({ source: entry.source, model: entry.model, usage: usageTotalsOf(entry.usage) });
  }
  return {
    entryCount: ledger.length,
    usage: usageTotalsOf(total),
    bySource: sortedTotals(bySource),
    byModel: sortedTotals(byModel),
    bySourceModel: rows,
  };
}

/** Builds reports; `SessionUsageReport.fromEntries(runtime.tokenLedger())` is `runtime.usageReport()`. */
export const SessionUsageReport = { fromEntries } as const;
