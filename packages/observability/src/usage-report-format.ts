import type { CostReport, CostReportRow, PriceBasis } from "./cost-report.js";
import { formatMicroUsd } from "./cost-report.js";
import type { SessionUsageReport, UsageReportModelRow, UsageReportSourceRow, UsageTotals } from "./usage-report.js";
import { modelRowsOf, sourceRowsOf } from "./usage-report.js";

export interface UsageTableOptions {
  /** Adds a cost column and a cost footer (build it from the same report or ledger). */
  readonly cost?: CostReport;
  /** ANSI bold header and dim footer, for terminals that show colour. */
  readonly color?: boolean;
}

const bold = (text: string): string => `\u001b[1m${text}\u001b[22m`;
const dim = (text: string): string => `\u001b[2m${text}\u001b[22m`;

function costCell(row: CostReportRow | undefined): string {
  if (!row) return "";
  return row.priced ? `$${formatMicroUsd(row.microUsd)}` : "unpriced";
}

function countCells(usage: UsageTotals): string[] {
  return [
    usage.inputTokens,
    usage.cachedInputTokens,
    usage.outputTokens,
    usage.reasoningTokens,
    usage.totalTokens,
    usage.contextTotalTokens,
  ].map(String);
}

/**
 * Renders a report as a plain-text table for terminals: one line per ledger row, then the total.
 * Columns: source, model, input, cached, output, reasoning, total (input + output + reasoning),
 * context (total + cached), and cost when `options.cost` is given. Numbers are right-aligned.
 */
export function formatUsageReportTable(report: SessionUsageReport, options: UsageTableOptions = {}): string {
  const { cost } = options;
  const header = ["source", "model", "input", "cached", "output", "reasoning", "total", "context"];
  if (cost) header.push("cost");
  const body = report.bySourceModel.map((row, index) => {
    const cells = [row.source, row.model, ...countCells(row.usage)];
    if (cost) cells.push(costCell(cost.rows[index]));
    return cells;
  });
  const totalLine = ["TOTAL", "", ...countCells(report.usage)];
  // With nothing priced the total is unknown, not zero: say so instead of printing $0.
  if (cost) totalLine.push(cost.rows.some((row) => row.priced) ? `$${formatMicroUsd(cost.totalMicroUsd)}` : "unpriced");
  const lines = [header, ...body, totalLine];
  const widths = header.map((_, column) => Math.max(...lines.map((cells) => (cells[column] ?? "").length)));
  const render = (cells: readonly string[]): string =>
    cells
      .map((cell, column) => (column < 2 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0)))
      .join("  ")
      .trimEnd();
  const rule = widths.map((width) => "-".repeat(width)).join("  ");
  const out = [options.color ? bold(render(header)) : render(header), rule, ...body.map(render), rule, render(totalLine)];
  if (cost) {
    const basis =
      cost.priceBasis === "report_time"
        ? `as of ${cost.priceTableDate}`
        : cost.priceBasis === "recorded"
          ? "as in force when each row's tokens were spent"
          : `as in force when each row's tokens were spent (as of ${cost.priceTableDate} where no date was recorded)`;
    const note = `prices in USD ${basis}${cost.unpricedModels.length > 0 ? `; unpriced models (not in the total): ${cost.unpricedModels.join(", ")}` : ""}`;
    out.push(options.color ? dim(note) : note);
  }
  return `${out.join("\n")}\n`;
}

/** The JSON form of a usage report (see `usageReportToJson`). */
export interface UsageReportJson {
  readonly entryCount: number;
  readonly usage: UsageTotals;
  /** The sum per source, in code-point order of the source (an array, as JSON objects lose that order). */
  readonly bySource: readonly UsageReportSourceRow[];
  /** The sum per model, in code-point order of the model. */
  readonly byModel: readonly UsageReportModelRow[];
  /** The ledger rows in ledger order; `cost` present only when a cost report was given. */
  readonly rows: readonly {
    readonly source: string;
    readonly model: string;
    readonly usage: UsageTotals;
    /** The date of the price table recorded with the row's usage, when one was. */
    readonly priceTableDate?: string;
    readonly cost?: {
      readonly priced: boolean;
      readonly microUsd?: number;
      readonly usd?: string;
      /** The date of the table that priced the row. */
      readonly priceTableDate?: string;
    };
  }[];
  readonly cost?: {
    readonly currency: "USD";
    /** The newest table's date: what rows without a recorded date were priced at. */
    readonly priceTableDate: string;
    /** Which prices were used (see `PriceBasis`). */
    readonly priceBasis: PriceBasis;
    readonly totalMicroUsd: number;
    /** `totalMicroUsd` as an exact decimal string with six places. */
    readonly totalUsd: string;
    readonly unpricedModels: readonly string[];
  };
}

/**
 * A plain JSON-able object: the report's totals, per-source and per-model sums (arrays of rows in
 * code-point order of their key), its rows and, when `cost` is given, each row's cost and the total
 * (integer micro-dollars plus an exact dollar string). `JSON.stringify` of it is stable for equal
 * inputs.
 */
export function usageReportToJson(report: SessionUsageReport, cost?: CostReport): UsageReportJson {
  const rows = report.bySourceModel.map((row, index) => {
    const base = {
      source: row.source,
      model: row.model,
      ...(row.priceTableDate === undefined ? {} : { priceTableDate: row.priceTableDate }),
      usage: { ...row.usage },
    };
    if (!cost) return base;
    const priced = cost.rows[index];
    return {
      ...base,
      cost: priced?.priced
        ? { priced: true, microUsd: priced.microUsd, usd: formatMicroUsd(priced.microUsd), priceTableDate: priced.priceTableDate }
        : { priced: false },
    };
  });
  return {
    entryCount: report.entryCount,
    usage: { ...report.usage },
    bySource: sourceRowsOf(report.bySource),
    byModel: modelRowsOf(report.byModel),
    rows,
    ...(cost
      ? {
          cost: {
            currency: cost.currency,
            priceTableDate: cost.priceTableDate,
            priceBasis: cost.priceBasis,
            totalMicroUsd: cost.totalMicroUsd,
            totalUsd: formatMicroUsd(cost.totalMicroUsd),
            unpricedModels: [...cost.unpricedModels],
          },
        }
      : {}),
  };
}
