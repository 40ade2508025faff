import type { TenantUsageReport, UsageReport } from "@lash/remote-protocol";
import { h, svg } from "./dom.js";
import { count, usd } from "./format.js";

/** The total cost, or `unpriced` when no row has a price (a total of $0 would say they were free). */
export function totalCost(report: UsageReport): string {
  if (report.cost === undefined) return "–";
  return report.rows.length > 0 && report.rows.every((row) => row.cost?.priced !== true) ? "unpriced" : usd(report.cost.totalUsd);
}

/** The usage rows per (source, model), with their cost, and the total. */
export function renderUsageTable(report: UsageReport, caption: string): HTMLElement {
  const unpriced = report.cost?.unpricedModels ?? [];
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: "usage-table" },
      h("caption", {}, caption),
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          ["source", "model", "prices of", "input", "cached", "output", "reasoning", "total", "cost"].map((name) =>
            h("th", { scope: "col" }, name),
          ),
        ),
      ),
      h(
        "tbody",
        {},
        report.rows.map((row) =>
          h(
            "tr",
            {},
            h("td", {}, row.source),
            h("td", {}, row.model),
            h("td", {}, row.priceTableDate ?? "–"),
            h("td", { class: "number" }, count(row.usage.inputTokens)),
            h("td", { class: "number" }, count(row.usage.cachedInputTokens)),
            h("td", { class: "number" }, count(row.usage.outputTokens)),
            h("td", { class: "number" }, count(row.usage.reasoningTokens)),
            h("td", { class: "number" }, count(row.usage.totalTokens)),
            h("td", { class: "number" }, row.cost?.priced === true ? usd(row.cost.usd) : "unpriced"),
          ),
        ),
      ),
      h(
        "tfoot",
        {},
        h(
          "tr",
          {},
          h("th", { scope: "row", colspan: 3 }, "total"),
          h("td", { class: "number" }, count(report.usage.inputTokens)),
          h("td", { class: "number" }, count(report.usage.cachedInputTokens)),
          h("td", { class: "number" }, count(report.usage.outputTokens)),
          h("td", { class: "number" }, count(report.usage.reasoningTokens)),
          h("td", { class: "number" }, count(report.usage.totalTokens)),
          h("td", { class: "number" }, totalCost(report)),
        ),
      ),
    ),
    report.cost === undefined
      ? ""
      : h(
          "p",
          { class: "hint" },
          `Prices in USD as of ${report.cost.priceTableDate} (${report.cost.priceBasis.replace("_", " ")})`,
          unpriced.length === 0 ? "." : `; unpriced models, not in the total: ${unpriced.join(", ")}.`,
        ),
  );
}

/** Totals per source and per model side by side. */
export function renderBreakdowns(report: UsageReport): HTMLElement {
  const list = (title: string, rows: readonly { name: string; total: number }[]): HTMLElement =>
    h(
      "div",
      { class: "breakdown" },
      h("h3", {}, title),
      h(
        "dl",
        {},
        rows.map((row) => [h("dt", {}, row.name), h("dd", {}, `${count(row.total)} tokens`)]),
      ),
    );
  return h(
    "div",
    { class: "breakdowns" },
    list(
      "By source",
      report.bySource.map((row) => ({ name: row.source, total: row.usage.totalTokens })),
    ),
    list(
      "By model",
      report.byModel.map((row) => ({ name: row.model, total: row.usage.totalTokens })),
    ),
  );
}

/** Tokens per day as bars, drawn as SVG by hand (no chart library in the bundle). */
export function renderDailyChart(daily: TenantUsageReport["daily"]): HTMLElement {
  const width = 720;
  const height = 200;
  const left = 56;
  const bottom = 28;
  const top = 12;
  const most = Math.max(1, ...daily.map((day) => day.totalTokens));
  const slot = (width - left) / Math.max(1, daily.length);
  const scale = (value: number): number => ((height - bottom - top) * value) / most;
  const chart = svg(
    "svg",
    { viewBox: `0 0 ${width} ${height}`, class: "chart", role: "img", "aria-label": `Tokens per day over the last ${daily.length} days` },
    svg("title", {}, `Tokens per day, most ${count(most)}`),
    svg("line", { x1: left, y1: height - bottom, x2: width, y2: height - bottom, class: "axis" }),
    svg("text", { x: left - 6, y: top + 4, class: "tick", "text-anchor": "end" }, count(most)),
    svg("text", { x: left - 6, y: height - bottom, class: "tick", "text-anchor": "end" }, "0"),
    daily.map((day, index) => {
      const barHeight = scale(day.totalTokens);
      const x = left + index * slot + slot * 0.15;
      return svg(
        "g",
        {},
        svg(
          "rect",
          {
            x,
            y: height - bottom - barHeight,
            width: Math.max(1, slot * 0.7),
            height: Math.max(day.totalTokens > 0 ? 1 : 0, barHeight),
            class: "bar",
          },
          svg("title", {}, `${day.date}: ${count(day.totalTokens)} tokens, ${day.sessions} session(s)`),
        ),
        index % Math.ceil(daily.length / 8) === (daily.length - 1) % Math.ceil(daily.length / 8)
          ? svg("text", { x: x + slot * 0.35, y: height - 8, class: "tick", "text-anchor": "middle" }, day.date.slice(5))
          : "",
      );
    }),
  );
  return h(
    "figure",
    { class: "chart-figure" },
    chart,
    h("figcaption", {}, "Tokens per day (UTC); a session counts on the day of its last activity."),
  );
}
