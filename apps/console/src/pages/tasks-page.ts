import type { TaskListResponse, TaskResource } from "@lash/remote-protocol";
import { encode, request } from "../api.js";
import { h, replaceChildren } from "../dom.js";
import { shortId } from "../format.js";
import type { Page } from "./page.js";

const ENDED = new Set(["completed", "failed", "cancelled"]);

/** Background tasks (subagents, monitors): state, kind, parent session, cancel. */
export const tasksPage: Page = (root, parameters) => {
  const all = parameters.get("state") === "all";
  const status = h("p", { class: "hint", role: "status" });
  const table = h("div", { class: "table-wrap" });
  replaceChildren(
    root,
    h("h1", {}, "Background tasks"),
    h(
      "nav",
      { class: "toolbar", "aria-label": "Which tasks" },
      h("a", { href: "#/tasks", "aria-current": all ? undefined : "true" }, "Live"),
      h("a", { href: "#/tasks?state=all", "aria-current": all ? "true" : undefined }, "All"),
    ),
    status,
    table,
  );
  const row = (task: TaskResource): HTMLElement => {
    const record = task;
    const cancel = h("button", { type: "button", class: "danger small", disabled: ENDED.has(record.state) }, "Cancel");
    cancel.addEventListener("click", async () => {
      cancel.disabled = true;
      try {
        await request<TaskResource>(`/v1/tasks/${encode(task.id)}/cancel`, { method: "POST" });
        await load();
      } catch (error) {
        status.textContent = `Could not cancel: ${(error as Error).message}`;
      }
    });
    const parent = record.scope.sessionId;
    return h(
      "tr",
      {},
      h("td", { class: "mono" }, shortId(task.id)),
      h("td", {}, record.kind),
      h("td", {}, h("span", { class: `state ${record.state}` }, record.state.replaceAll("_", " "))),
      h("td", {}, parent === undefined ? "–" : h("a", { href: `#/sessions/${encode(parent)}` }, shortId(parent))),
      h(
        "td",
        {},
        record.childSessionId === undefined
          ? "–"
          : h("a", { href: `#/sessions/${encode(record.childSessionId)}` }, shortId(record.childSessionId)),
      ),
      h("td", {}, new Date(record.createdAt).toISOString().slice(0, 19).replace("T", " ")),
      h("td", {}, cancel),
    );
  };
  async function load(): Promise<void> {
    try {
      const page = await request<TaskListResponse>(`/v1/tasks?state=${all ? "all" : "live"}&limit=100`);
      status.textContent = page.tasks.length === 0 ? (all ? "No background tasks." : "No live background tasks.") : "";
      replaceChildren(
        table,
        h(
          "table",
          {},
          h("caption", { class: "visually-hidden" }, "Background tasks"),
          h(
            "thead",
            {},
            h(
              "tr",
              {},
              ["task", "kind", "state", "parent session", "child session", "created (UTC)", ""].map((name) =>
                h("th", { scope: "col" }, name),
              ),
            ),
          ),
          h("tbody", {}, page.tasks.map(row)),
        ),
      );
    } catch (error) {
      status.textContent = `Could not list tasks: ${(error as Error).message}`;
    }
  }
  void load();
  return undefined;
};
