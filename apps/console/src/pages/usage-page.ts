import type { TenantUsageReport } from "@lash/remote-protocol";
import { request } from "../api.js";
import { h, replaceChildren } from "../dom.js";
import { count } from "../format.js";
import { renderBreakdowns, renderDailyChart, renderUsageTable } from "../usage-view.js";
import type { Page } from "./page.js";

/** The tenant's usage: totals by source and model with cost, and tokens per day. */
export const usagePage: Page = (root) => {
  replaceChildren(root, h("h1", {}, "Usage"), h("p", { class: "hint", role: "status" }, "Loading…"));
  request<TenantUsageReport>("/v1/usage?days=30").then(
    (report) =>
      replaceChildren(
        root,
        h("h1", {}, "Usage"),
        h(
          "p",
          { class: "hint" },
          `${count(report.sessionCount)} session(s)${report.truncated ? ` (the first ${report.maxSessions} only)` : ""}, subagents included in their parents.`,
        ),
        renderDailyChart(report.daily),
        renderUsageTable(report, "All sessions by source and model"),
        renderBreakdowns(report),
      ),
    (error: unknown) =>
      replaceChildren(root, h("h1", {}, "Usage"), h("p", { class: "note error" }, `Could not load usage: ${(error as Error).message}`)),
  );
  return undefined;
};
