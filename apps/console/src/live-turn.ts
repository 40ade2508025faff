import type { TurnResult } from "@lash/remote-protocol";
import { encode, request, requestStream } from "./api.js";
import { h, replaceChildren } from "./dom.js";
import { readEvents } from "./event-stream.js";
import { count } from "./format.js";
import { stopReason, truncatedText } from "./transcript.js";

interface LiveTool {
  readonly key: string;
  readonly name: string;
  readonly args: string;
  output?: string;
  failed?: boolean;
  durationMs?: number;
}

/** What the panel shows of a running turn; kept in session storage so a reload picks it up where it was. */
interface LiveTurnState {
  turnId?: string;
  lastEventId?: number;
  text: string;
  reasoning: string;
  tools: LiveTool[];
  inputTokens: number;
  outputTokens: number;
  ended?: string;
}

function storageKey(sessionId: string): string {
  return `lash.console.turn.${sessionId}`;
}

function saved(sessionId: string, turnId: string): LiveTurnState | undefined {
  try {
    const state = JSON.parse(sessionStorage.getItem(storageKey(sessionId)) ?? "null") as LiveTurnState | null;
    return state?.turnId === turnId ? state : undefined;
  } catch {
    return undefined;
  }
}

function json(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** What the turn's result says about how it ended, in words. */
function ending(result: TurnResult): string {
  const outcome = result.outcome as { type: string; stop?: { type: string } };
  return outcome.type === "stopped" && outcome.stop !== undefined ? `stopped: ${stopReason(outcome.stop)}` : outcome.type;
}

/**
 * The prompt box and the turn it runs: the events stream in (text, reasoning, tool calls, usage); Stop
 * cancels; a turn that runs when the page loads is reattached after the last event this tab saw.
 */
export class LiveTurnPanel {
  readonly element: HTMLElement;
  readonly #sessionId: string;
  readonly #onEnded: () => void;
  readonly #output = h("div", { class: "live-output", "aria-live": "polite" });
  readonly #status = h("span", { class: "live-status", role: "status" });
  readonly #prompt = h("textarea", { id: "prompt", rows: 3, placeholder: "Ask something; Ctrl+Enter runs it", "aria-label": "Prompt" });
  readonly #run = h("button", { type: "submit", class: "primary" }, "Run turn");
  readonly #stop = h("button", { type: "button", class: "danger", disabled: true }, "Stop");
  #state: LiveTurnState = { text: "", reasoning: "", tools: [], inputTokens: 0, outputTokens: 0 };
  #controller: AbortController | undefined;

  constructor(sessionId: string, onEnded: () => void) {
    this.#sessionId = sessionId;
    this.#onEnded = onEnded;
    this.#stop.addEventListener("click", () => void this.stop());
    this.#prompt.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
    const form = h(
      "form",
      {
        class: "prompt-form",
        onsubmit: (event: Event) => {
          event.preventDefault();
          const input = this.#prompt.value.trim();
          if (input !== "") void this.run(input);
        },
      },
      h("label", { for: "prompt", class: "visually-hidden" }, "Prompt"),
      this.#prompt,
      h("div", { class: "prompt-actions" }, this.#run, this.#stop, this.#status),
    );
    this.element = h("section", { class: "live-turn", "aria-label": "Run a turn" }, h("h2", {}, "Live turn"), form, this.#output);
  }

  /** Leaves the stream (the turn goes on on the server). */
  detach(): void {
    this.#controller?.abort();
  }

  async run(input: string): Promise<void> {
    this.#begin({ text: "", reasoning: "", tools: [], inputTokens: 0, outputTokens: 0 });
    this.#prompt.value = "";
    try {
      const response = await requestStream(`/v1/sessions/${encode(this.#sessionId)}/turns`, {
        method: "POST",
        body: { input },
        signal: this.#signal(),
      });
      await this.#follow(response);
    } catch (error) {
      this.#fail(error);
    }
  }

  /** Follows a turn that runs now, after the last event this tab saw of it (all of them when none). */
  async reattach(turnId: string): Promise<void> {
    const state = saved(this.#sessionId, turnId) ?? { turnId, text: "", reasoning: "", tools: [], inputTokens: 0, outputTokens: 0 };
    this.#begin(state);
    this.#status.textContent = "reattached to the running turn";
    try {
      const response = await requestStream(`/v1/sessions/${encode(this.#sessionId)}/turns/${encode(turnId)}/events`, {
        method: "GET",
        ...(state.lastEventId === undefined ? {} : { lastEventId: state.lastEventId }),
        signal: this.#signal(),
      });
      await this.#follow(response);
    } catch (error) {
      this.#fail(error);
    }
  }

  async stop(): Promise<void> {
    const turnId = this.#state.turnId;
    if (turnId === undefined) return;
    this.#stop.disabled = true;
    this.#status.textContent = "stopping…";
    try {
      await request<TurnResult>(`/v1/sessions/${encode(this.#sessionId)}/turns/${encode(turnId)}/cancel`, { method: "POST" });
    } catch (error) {
      this.#fail(error);
    }
  }

  #signal(): AbortSignal {
    this.#controller?.abort();
    this.#controller = new AbortController();
    return this.#controller.signal;
  }

  #begin(state: LiveTurnState): void {
    this.#state = state;
    this.#run.disabled = true;
    this.#stop.disabled = state.turnId === undefined;
    this.#status.textContent = "running…";
    this.element.classList.add("running");
    this.#render();
  }

  async #follow(response: Response): Promise<void> {
    for await (const event of readEvents(response)) {
      if (event.id !== undefined) this.#state.lastEventId = event.id;
      const data = JSON.parse(event.data) as Record<string, unknown>;
      if (event.event === "turn") {
        this.#state.turnId = String(data.turnId);
        this.#stop.disabled = false;
      } else if (event.event === "activity") {
        this.#activity(data);
      } else if (event.event === "result") {
        this.#state.ended = ending(data as unknown as TurnResult);
      } else if (event.event === "error") {
        this.#state.ended = `failed: ${String((data.error as { message?: string } | undefined)?.message ?? "error")}`;
      }
      this.#save();
      this.#render();
    }
    this.#finish();
  }

  #activity(activity: Record<string, unknown>): void {
    const state = this.#state;
    switch (activity.type) {
      case "text_delta":
        state.text += String(activity.text);
        break;
      case "reasoning_delta":
        state.reasoning += String(activity.text);
        break;
      case "tool_call_started":
        state.tools.push({ key: String(activity.callId ?? state.tools.length), name: String(activity.name), args: json(activity.args) });
        break;
      case "tool_call_completed": {
        const key = String(activity.callId ?? "");
        const tool =
          state.tools.find((candidate) => candidate.key === key && candidate.output === undefined) ??
          state.tools.find((candidate) => candidate.output === undefined);
        const output = activity.output as { outcome?: { type?: string } } | undefined;
        if (tool !== undefined) {
          tool.output = json(output?.outcome ?? output);
          tool.failed = output?.outcome?.type !== undefined && output.outcome.type !== "success";
          tool.durationMs = Number(activity.durationMs ?? 0);
        }
        break;
      }
      case "usage": {
        const cumulative = activity.cumulative as { inputTokens: number; outputTokens: number };
        state.inputTokens = cumulative.inputTokens;
        state.outputTokens = cumulative.outputTokens;
        break;
      }
      case "model_request_started":
        // A new model call: its prose follows the previous call's.
        if (state.text !== "" && !state.text.endsWith("\n\n")) state.text += "\n\n";
        break;
      default:
        break;
    }
  }

  #save(): void {
    sessionStorage.setItem(storageKey(this.#sessionId), JSON.stringify(this.#state));
  }

  #render(): void {
    const state = this.#state;
    replaceChildren(
      this.#output,
      state.reasoning === "" ? "" : h("details", { class: "reasoning" }, h("summary", {}, "reasoning"), h("pre", {}, state.reasoning)),
      h("div", { class: "live-text" }, state.text),
      state.tools.length === 0
        ? ""
        : h(
            "ul",
            { class: "live-tools" },
            state.tools.map((tool) =>
              h(
                "li",
                { class: tool.output === undefined ? "running" : tool.failed === true ? "failed" : "done" },
                h("code", {}, tool.name),
                " ",
                h("code", { class: "args" }, tool.args.length > 200 ? `${tool.args.slice(0, 200)}…` : tool.args),
                tool.output === undefined ? " …" : [` · ${tool.durationMs ?? 0} ms`, truncatedText(tool.output)],
              ),
            ),
          ),
      h("div", { class: "live-usage" }, `tokens so far: ${count(state.inputTokens)} in, ${count(state.outputTokens)} out`),
      state.ended === undefined ? "" : h("div", { class: "live-ended", "data-ended": state.ended }, `Turn ${state.ended}`),
    );
  }

  #finish(): void {
    this.#run.disabled = false;
    this.#stop.disabled = true;
    this.element.classList.remove("running");
    this.#status.textContent = this.#state.ended === undefined ? "the stream ended" : `turn ${this.#state.ended}`;
    sessionStorage.removeItem(storageKey(this.#sessionId));
    this.#onEnded();
  }

  #fail(error: unknown): void {
    if ((error as { name?: string }).name === "AbortError") return;
    this.#run.disabled = false;
    this.#stop.disabled = true;
    this.element.classList.remove("running");
    this.#status.textContent = `failed: ${(error as Error).message}`;
  }
}
