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
  /** The date of the price table in force when the row's tokens were spent, when one was recorded. */
  readonly priceTableDate?: string;
}

/** The sum of one source in the JSON form of a report. */
export interface UsageReportSourceRow {
  readonly source: string;
  readonly usage: UsageTotals;
}

/** The sum of one model in the JSON form of a report. */
export interface UsageReportModelRow {
  readonly model: string;
  readonly usage: UsageTotals;
}

/**
 * What `JSON.stringify(report)` writes: the keyed sums become arrays of rows in code-point order of
 * their key, because a JSON object read back into JavaScript puts integer-like keys ("9", "10")
 * first whatever order the text had.
 */
export interface SessionUsageReportJson {
  readonly entryCount: number;
  readonly usage: UsageTotals;
  readonly bySource: readonly UsageReportSourceRow[];
  readonly byModel: readonly UsageReportModelRow[];
  readonly bySourceModel: readonly UsageReportRow[];
}

/**
 * A session's usage: the sum of its ledger, the sums per source and per model (maps that iterate in
 * code-point order of their keys), and one row per ledger entry in ledger order (rows are not
 * merged).
 */
export interface SessionUsageReport {
  readonly entryCount: number;
  readonly usage: UsageTotals;
  /** The sum per source, iterated in code-point order of the source. */
  readonly bySource: ReadonlyMap<string, UsageTotals>;
  /** The sum per model, iterated in code-point order of the model. */
  readonly byModel: ReadonlyMap<string, UsageTotals>;
  readonly bySourceModel: readonly UsageReportRow[];
  /** The plain form `JSON.stringify` uses (a `Map` would otherwise be written as `{}`). */
  toJSON(): SessionUsageReportJson;
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

function sortedTotals(sums: Map<string, TokenUsage>): ReadonlyMap<string, UsageTotals> {
  // A Map iterates in insertion order whatever its keys look like (an object would move "9" and "10"
  // ahead of "a"), so inserting the keys sorted is what keeps code-point order.
  const keys = [...sums.keys()].sort(compareCodePoints);
  return new Map(keys.map((key) => [key, usageTotalsOf(sums.get(key) ?? zero())]));
}

/** The per-source sums as JSON rows, in the map's (code-point) order. */
export function sourceRowsOf(bySource: ReadonlyMap<string, UsageTotals>): UsageReportSourceRow[] {
  return [...bySource].map(([source, usage]) => ({ source, usage: { ...usage } }));
}

/** The per-model sums as JSON rows, in the map's (code-point) order. */
export function modelRowsOf(byModel: ReadonlyMap<string, UsageTotals>): UsageReportModelRow[] {
  return [...byModel].map(([model, usage]) => ({ model, usage: { ...usage } }));
}

/** The plain form of a report; every array and totals object is a copy. */
function jsonOf(report: SessionUsageReport): SessionUsageReportJson {
  return {
    entryCount: report.entryCount,
    usage: { ...report.usage },
    bySource: sourceRowsOf(report.bySource),
    byModel: modelRowsOf(report.byModel),
    bySourceModel: report.bySourceModel.map((row) => ({ ...row, usage: { ...row.usage } })),
  };
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
    rows.push({
      source: entry.source,
      model: entry.model,
      usage: usageTotalsOf(entry.usage),
      ...(entry.priceTableDate === undefined ? {} : { priceTableDate: entry.priceTableDate }),
    });
  }
  const report: SessionUsageReport = {
    entryCount: ledger.length,
    usage: usageTotalsOf(total),
    bySource: sortedTotals(bySource),
    byModel: sortedTotals(byModel),
    bySourceModel: rows,
    toJSON: () => jsonOf(report),
  };
  // Not enumerable, so the report's own keys stay its data: spreading it, `toEqual` and
  // `Object.keys` see only the fields above.
  Object.defineProperty(report, "toJSON", { enumerable: false });
  return report;
}

/** Builds reports; `SessionUsageReport.fromEntries(runtime.tokenLedger())` is `runtime.usageReport()`. */
export const SessionUsageReport = { fromEntries } as const;
