import type { SessionGraphResponse, SessionState, TurnTraceListResponse, TurnTraceResponse, UsageReport } from "@lash/remote-protocol";
import { ApiError, encode, request } from "../api.js";
import { AttachmentImages } from "../attachment-images.js";
import { h, replaceChildren } from "../dom.js";
import { count, shortId, time } from "../format.js";
import { LiveTurnPanel } from "../live-turn.js";
import { renderWaterfall } from "../trace-waterfall.js";
import { branchesOf, renderTranscript } from "../transcript.js";
import { renderUsageTable } from "../usage-view.js";
import type { Page } from "./page.js";

function href(sessionId: string, parameters: Record<string, string | undefined>): string {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(parameters)) if (value !== undefined) query.set(name, value);
  const text = query.toString();
  return `#/sessions/${encode(sessionId)}${text === "" ? "" : `?${text}`}`;
}

/** One session: its transcript (any branch), the live turn, its usage, the traces of its turns, its subagents. */
export const sessionPage: Page = (root, parameters, path) => {
  const sessionId = decodeURIComponent(path[1] ?? "");
  const branchParameter = parameters.get("branch") ?? undefined;
  const traceParameter = parameters.get("trace") ?? undefined;
  const head = h("header", { class: "session-head" });
  const branchesSection = h("section", { class: "branches", "aria-label": "Branches" });
  const transcriptSection = h("section", { class: "transcript-section", "aria-label": "Transcript" });
  const usageSection = h("section", { class: "usage-section", "aria-label": "Usage" });
  const traceSection = h("section", { class: "trace-section", "aria-label": "Traces" });
  const childrenSection = h("section", { class: "children", "aria-label": "Subagent sessions" });
  let viewingActive = true;
  const live = new LiveTurnPanel(sessionId, () => void refresh());
  const images = new AttachmentImages(sessionId);
  replaceChildren(root, head, childrenSection, branchesSection, transcriptSection, live.element, usageSection, traceSection);

  async function renderTraces(): Promise<void> {
    const list = await request<TurnTraceListResponse>(`/v1/sessions/${encode(sessionId)}/traces`);
    if (list.turns.length === 0) {
      replaceChildren(
        traceSection,
        h("h2", {}, "Trace"),
        h("p", { class: "hint" }, "No trace kept: this server keeps the traces of the turns it ran since it started."),
      );
      return;
    }
    const chosen = list.turns.find((turn) => turn.turnId === traceParameter) ?? list.turns[0];
    if (chosen === undefined) return;
    const trace = await request<TurnTraceResponse>(`/v1/sessions/${encode(sessionId)}/turns/${encode(chosen.turnId)}/trace`);
    replaceChildren(
      traceSection,
      h("h2", {}, "Trace"),
      h(
        "nav",
        { class: "trace-turns", "aria-label": "Traced turns" },
        list.turns.map((turn) =>
          h(
            "a",
            {
              href: href(sessionId, { branch: branchParameter, trace: turn.turnId }),
              "aria-current": turn.turnId === chosen.turnId ? "true" : undefined,
            },
            `turn ${turn.turnIndex ?? "?"}${turn.complete ? "" : " (running)"}`,
          ),
        ),
      ),
      renderWaterfall(trace),
    );
  }

  async function refresh(): Promise<void> {
    try {
      const [state, graph, usage] = await Promise.all([
        request<SessionState>(`/v1/sessions/${encode(sessionId)}`),
        request<SessionGraphResponse>(`/v1/sessions/${encode(sessionId)}/graph`),
        request<UsageReport>(`/v1/sessions/${encode(sessionId)}/usage`),
      ]);
      const title = graph.title ?? state.metadata.title;
      replaceChildren(
        head,
        h("p", { class: "crumbs" }, h("a", { href: "#/sessions" }, "Sessions"), " / ", shortId(sessionId)),
        h("h1", {}, title ?? `Session ${shortId(sessionId)}`),
        h(
          "dl",
          { class: "facts" },
          h("dt", {}, "id"),
          h("dd", { class: "mono" }, sessionId),
          h("dt", {}, "model"),
          h("dd", {}, state.model),
          h("dt", {}, "profile"),
          h("dd", {}, state.profile),
          h("dt", {}, "turns"),
          h("dd", {}, count(state.turnIndex)),
          h("dt", {}, "created"),
          h("dd", {}, time(state.createdAt ?? graph.createdAt)),
          h("dt", {}, "tokens"),
          h("dd", {}, count(usage.usage.totalTokens)),
        ),
        state.awaitingApproval
          ? h("p", { class: "note" }, "A turn waits for approval decisions (POST /v1/sessions/{id}/approvals/{approvalId}).")
          : "",
      );
      replaceChildren(
        childrenSection,
        graph.children.length === 0
          ? ""
          : [
              h("h2", {}, "Subagent sessions"),
              h(
                "ul",
                { class: "child-list" },
                graph.children.map((child) =>
                  h(
                    "li",
                    {},
                    h("a", { href: `#/sessions/${encode(child.id)}` }, child.title ?? shortId(child.id)),
                    h("span", { class: "hint" }, ` · ${child.relation} · ${child.model ?? ""} · ${time(child.createdAt)}`),
                  ),
                ),
              ),
            ],
      );
      const branches = branchesOf(graph);
      const shown =
        branches.find((branch) => branch.leafNodeId === branchParameter) ?? branches.find((branch) => branch.active) ?? branches[0];
      viewingActive = shown === undefined || shown.active;
      replaceChildren(
        branchesSection,
        branches.length <= 1
          ? ""
          : [
              h("h2", {}, `Branches (${branches.length})`),
              h(
                "ul",
                { class: "branch-list" },
                branches.map((branch, index) =>
                  h(
                    "li",
                    {},
                    h(
                      "a",
                      {
                        href: href(sessionId, { branch: branch.active ? undefined : branch.leafNodeId }),
                        "aria-current": branch === shown ? "true" : undefined,
                        class: branch.active ? "active-branch" : "",
                      },
                      branch.active ? "active branch" : `branch ${index}`,
                    ),
                    h(
                      "span",
                      { class: "hint" },
                      ` · ${branch.path.length} nodes · ${time(branch.lastTimestamp)}${branch.label === "" ? "" : ` · “${branch.label.slice(0, 60)}”`}`,
                    ),
                  ),
                ),
              ),
            ],
      );
      replaceChildren(
        transcriptSection,
        h("h2", {}, "Transcript"),
        viewingActive
          ? ""
          : h(
              "p",
              { class: "note read-only", role: "note" },
              "You are viewing another branch, read-only: turns continue the active branch. ",
              h("a", { href: href(sessionId, {}) }, "Back to the active branch"),
            ),
        renderTranscript(shown?.path ?? [], images),
      );
      live.element.hidden = !viewingActive;
      replaceChildren(usageSection, h("h2", {}, "Usage"), renderUsageTable(usage, "This session's usage by source and model"));
      await renderTraces();
      if (state.runningTurnId !== undefined && !live.element.classList.contains("running")) void live.reattach(state.runningTurnId);
    } catch (error) {
      const missing = error instanceof ApiError && error.status === 404;
      replaceChildren(
        root,
        h("h1", {}, missing ? "No such session" : "Could not load the session"),
        h("p", {}, (error as Error).message),
        h("p", {}, h("a", { href: "#/sessions" }, "All sessions")),
      );
    }
  }
  void refresh();
  return () => {
    live.detach();
    images.revokeAll();
  };
};
