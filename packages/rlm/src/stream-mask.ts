import type { AssistantStreamTransform, LashPlugin } from "@lash/core";
import type { LlmOutputPart, LlmResponse } from "@lash/protocol";

/** The id of the mask plugin (its events carry it). */
export const RLM_STREAM_MASK_ID = "rlm_stream_mask";

/** What the mask knows of one session's model call in flight. */
interface CallState {
  /** Everything the model streamed, unmasked (spliced back into the response). */
  raw: string;
  /** Text not yet classified (it may be the start of a fence). */
  held: string;
  /** Prose shown as reasoning. */
  masked: string;
  /** Set inside the cell: the length of its opening fence. */
  fence: number | undefined;
  done: boolean;
}

const OPENER = /(`{3,})[ \t]*([A-Za-z0-9_+.-]*)[^\n`]*\n/g;

/**
 * The RLM stream mask: while a reply streams, its prose is shown as reasoning (it is the model
 * thinking aloud; the turn's answer is the submitted value), the cell's source is not streamed
 * (a `custom` plugin event `rlm_fence_start` marks where it starts), and the call ends as soon as
 * the cell's closing fence arrives, since nothing after it would run. At the end of the call the
 * response gets the whole text back, so the driver finds the cell in it.
 */
export function createRlmStreamMask(languageTags: readonly string[]): LashPlugin {
  const tags = new Set(languageTags.map((tag) => tag.toLowerCase()));
  const calls = new Map<string, CallState>();

  function classify(state: CallState): AssistantStreamTransform {
    const reasoning: string[] = [];
    const events: NonNullable<AssistantStreamTransform["events"]>[number][] = [];
    let abortStream = false;
    for (;;) {
      if (state.fence === undefined) {
        const match = [...state.held.matchAll(OPENER)].find((candidate) => tags.has((candidate[2] ?? "").toLowerCase()));
        if (match !== undefined) {
          const prose = state.held.slice(0, match.index);
          if (prose !== "") reasoning.push(prose);
          state.masked += prose;
          state.fence = (match[1] ?? "```").length;
          state.held = state.held.slice(match.index + match[0].length);
          events.push({ kind: "custom", name: "rlm_fence_start", payload: { tag: match[2] ?? "" } });
          continue;
        }
        // Keep back the last line while it could still open a fence; the rest is prose.
        const lastNewline = state.held.lastIndexOf("\n");
        const tail = lastNewline === -1 ? state.held : state.held.slice(lastNewline + 1);
        const keep = tail.includes("`") ? tail.length : 0;
        const prose = state.held.slice(0, state.held.length - keep);
        if (prose !== "") reasoning.push(prose);
        state.masked += prose;
        state.held = state.held.slice(state.held.length - keep);
        break;
      }
      // Inside the cell: nothing is shown; a complete closing fence line ends the call.
      if (new RegExp(`(^|\\n)[ \\t]*\`{${state.fence},}[ \\t]*\\n`).test(state.held)) {
        state.done = true;
        abortStream = true;
        state.held = "";
      }
      break;
    }
    return { text: "", reasoningDeltas: reasoning, abortStream, events };
  }

  return {
    id: RLM_STREAM_MASK_ID,
    transformAssistantStream(chunk): AssistantStreamTransform {
      let state = calls.get(chunk.sessionId);
      if (state === undefined) {
        state = { raw: "", held: "", masked: "", fence: undefined, done: false };
        calls.set(chunk.sessionId, state);
      }
      if (state.done) return { text: "" };
      state.raw += chunk.text;
      state.held += chunk.text;
      return classify(state);
    },
    transformAssistantResponse(response: LlmResponse, context): LlmResponse {
      const state = calls.get(context.sessionId);
      calls.delete(context.sessionId);
      if (state === undefined || state.raw === "") return response;
      // The masked prose came back as reasoning parts: drop those, keep the provider's own.
      const parts: LlmOutputPart[] = response.parts.filter(
        (part) => part.type === "tool_call" || (part.type === "reasoning" && !(part.text !== "" && state.masked.includes(part.text))),
      );
      parts.push({ type: "text", text: state.raw });
      return { ...response, fullText: state.raw, parts };
    },
  };
}
