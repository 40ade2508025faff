import type { DeleteSessionResponse, SessionListItem, SessionListResponse, UsageReport } from "@lash/remote-protocol";
import { encode, request } from "../api.js";
import { h, replaceChildren } from "../dom.js";
import { count, shortId, time, totalTokens } from "../format.js";
import { totalCost } from "../usage-view.js";
import type { Page } from "./page.js";

const PAGE_SIZE = 20;

/** Asks before a destructive step, in a modal dialog with real buttons; resolves with the answer. */
export function confirmDialog(question: string, confirmLabel: string): Promise<boolean> {
  return new Promise((resolve) => {
    const dialog = h(
      "dialog",
      { class: "confirm", "aria-label": question },
      h("p", {}, question),
      h(
        "form",
        { method: "dialog", class: "dialog-actions" },
        h("button", { value: "cancel", type: "submit", autofocus: true }, "Cancel"),
        h("button", { value: "confirm", type: "submit", class: "danger" }, confirmLabel),
      ),
    );
    dialog.addEventListener("close", () => {
      resolve(dialog.returnValue === "confirm");
      dialog.remove();
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

/** Sessions: search by title or id, a page at a time, each with its model, turns, last activity, tokens and cost. */
export const sessionsPage: Page = (root) => {
  const cursors: (string | undefined)[] = [undefined];
  let search = "";
  const input = h("input", {
    type: "search",
    id: "session-search",
    placeholder: "Search by title or id",
    "aria-label": "Search sessions by title or id",
  });
  const table = h("div", { class: "table-wrap" });
  const pager = h("div", { class: "pager" });
  const status = h("p", { class: "hint", role: "status" });
  let timer: number | undefined;
  input.addEventListener("input", () => {
    window.clearTimeout(timer);
    timer = window.setTimeout(() => {
      search = input.value.trim();
      cursors.length = 1;
      void load();
    }, 250);
  });
  replaceChildren(root, h("h1", {}, "Sessions"), h("div", { class: "toolbar" }, input), status, table, pager);

  const costCell = (id: string): HTMLElement => {
    const cell = h("td", { class: "number cost" }, "…");
    request<UsageReport>(`/v1/sessions/${encode(id)}/usage`).then(
      (report) => (cell.textContent = report.rows.length === 0 ? "–" : totalCost(report)),
      () => (cell.textContent = "–"),
    );
    return cell;
  };

  const row = (session: SessionListItem): HTMLElement => {
    const remove = h(
      "button",
      { type: "button", class: "danger small", "aria-label": `Delete session ${session.title ?? session.id}` },
      "Delete",
    );
    remove.addEventListener("click", async () => {
      if (!(await confirmDialog(`Delete session ${session.title ?? session.id}? Its history is removed from the store.`, "Delete"))) return;
      try {
        await request<DeleteSessionResponse>(`/v1/sessions/${encode(session.id)}`, { method: "DELETE" });
        await load();
      } catch (error) {
        status.textContent = `Could not delete: ${(error as Error).message}`;
      }
    });
    return h(
      "tr",
      { "data-session": session.id },
      h(
        "td",
        {},
        h("a", { href: `#/sessions/${encode(session.id)}` }, session.title ?? "(untitled)"),
        h("div", { class: "hint mono" }, shortId(session.id)),
        session.problem === undefined
          ? ""
          : h("div", { class: "note error" }, `damaged: ${session.problem.field}: ${session.problem.message}`),
      ),
      h("td", {}, session.model ?? "–"),
      h("td", { class: "number" }, count(session.turnCount)),
      h("td", {}, time(session.lastActivityAt ?? session.createdAt)),
      h("td", { class: "number" }, count(totalTokens(session.tokenUsage))),
      costCell(session.id),
      h("td", {}, remove),
    );
  };

  async function load(): Promise<void> {
    const cursor = cursors.at(-1);
    const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
    if (cursor !== undefined) query.set("cursor", cursor);
    if (search !== "") query.set("q", search);
    status.textContent = "Loading…";
    try {
      const page = await request<SessionListResponse>(`/v1/sessions?${query}`);
      status.textContent =
        page.sessions.length === 0
          ? search === ""
            ? "No sessions yet: run `pnpm demo`, or create one over the API."
            : "No session on this page matches."
          : "";
      replaceChildren(
        table,
        h(
          "table",
          { class: "sessions" },
          h("caption", { class: "visually-hidden" }, "Sessions"),
          h(
            "thead",
            {},
            h(
              "tr",
              {},
              ["title", "model", "turns", "last activity", "tokens", "cost", ""].map((name) => h("th", { scope: "col" }, name)),
            ),
          ),
          h("tbody", {}, page.sessions.map(row)),
        ),
      );
      const previous = h("button", { type: "button", disabled: cursors.length === 1 }, "Previous page");
      previous.addEventListener("click", () => {
        cursors.pop();
        void load();
      });
      const next = h("button", { type: "button", disabled: page.nextCursor === undefined }, "Next page");
      next.addEventListener("click", () => {
        cursors.push(page.nextCursor);
        void load();
      });
      replaceChildren(pager, previous, h("span", { class: "hint" }, `page ${cursors.length}`), next);
    } catch (error) {
      status.textContent = `Could not list sessions: ${(error as Error).message}`;
    }
  }
  void load();
  return () => window.clearTimeout(timer);
};
