import type { LlmTerminalReason } from "@lash/protocol";
import { terminalReasonFromFinishReason } from "@lash/provider-utils";

/** The `stop_details` of a refusal (`message_delta.delta.stop_details`): why the model refused. */
export interface AnthropicStopDetails {
  /** The policy category (`cyber`, `bio`, ...), when the refusal maps to one. */
  readonly category: string | undefined;
  /** A human-readable explanation; the API does not promise its wording. */
  readonly explanation: string | undefined;
}

/** What the terminal reason is read from: the stop reason, its details, and the text produced. */
export interface AnthropicStop {
  readonly stopReason: string | undefined;
  readonly stopDetails?: AnthropicStopDetails | undefined;
  /** The answer text the model produced before it stopped. */
  readonly text?: string;
}

/** How many characters of the model's text a refusal diagnostic quotes (it ends up in an issue message). */
const LONGEST_QUOTED_TEXT = 2_000;

const TERMINAL_DIAGNOSTICS: Readonly<Record<string, string>> = {
  max_tokens: "The response reached max_tokens.",
  model_context_window_exceeded: "The response stopped because the context window is full.",
  // Only server tools (which lash does not map) pause a turn; the runtime cannot resume it, so the
  // shared table's `unknown` stands, and this says why.
  pause_turn: "The server paused a long-running turn (stop_reason pause_turn).",
};

function shortened(value: string, longest: number): string {
  return value.length > longest ? `${value.slice(0, longest)}…` : value;
}

/**
 * The diagnostic of a refusal: the category and explanation from `stop_details` when the API sent
 * them, and the text the model produced before the refusal (streaming classifiers stop a response
 * part way, and a model may also answer with a refusal of its own words).
 */
function refusalDiagnostic(details: AnthropicStopDetails | undefined, text: string): string {
  const category = details?.category ? ` (category ${details.category})` : "";
  const explanation = details?.explanation?.trim() ?? "";
  const said = text.trim() === "" ? "" : shortened(text.trim(), LONGEST_QUOTED_TEXT);
  if (explanation === "" && said === "") return `The model refused${category} (stop_reason refusal).`;
  if (explanation === "") return `The model refused${category}: ${said}`;
  if (said === "") return `The model refused${category}: ${explanation}`;
  return `The model refused${category}: ${explanation} Its text before the refusal: ${said}`;
}

/**
 * Maps a `stop_reason` to the terminal reason, with a diagnostic when the reason alone does not
 * explain the stop: `refusal` is `content_filter` with what the model said; a reason the shared
 * table does not know is `unknown`, naming it (the runtime does not take the text of such a
 * response as an answer); a stream without a stop reason is `unknown` too.
 */
export function terminalReasonOf(stop: AnthropicStop): { reason: LlmTerminalReason; diagnostic?: string } {
  const { stopReason } = stop;
  if (stopReason === undefined) return { reason: "unknown", diagnostic: "The stream reported no stop_reason." };
  const reason = terminalReasonFromFinishReason(stopReason);
  if (stopReason === "refusal") return { reason, diagnostic: refusalDiagnostic(stop.stopDetails, stop.text ?? "") };
  const diagnostic = Object.hasOwn(TERMINAL_DIAGNOSTICS, stopReason) ? TERMINAL_DIAGNOSTICS[stopReason] : undefined;
  if (diagnostic !== undefined) return { reason, diagnostic };
  if (reason === "unknown") {
    return {
      reason,
      diagnostic: `The provider ended the response with an unknown stop_reason ${JSON.stringify(shortened(stopReason, 64))}.`,
    };
  }
  return { reason };
}
