import type { LlmTerminalReason } from "@lash/protocol";

/**
 * Finish reasons of the common provider APIs, lower-cased, with `-` read as `_`:
 * OpenAI Chat Completions (`stop`, `length`, `tool_calls`, `function_call`, `content_filter`),
 * OpenAI Responses `incomplete_details.reason` (`max_output_tokens`, `content_filter`),
 * Anthropic `stop_reason` (`end_turn`, `stop_sequence`, `max_tokens`, `tool_use`, `refusal`,
 * `model_context_window_exceeded`, `pause_turn`), Google `finishReason` (`STOP`, `MAX_TOKENS`,
 * `SAFETY`, `RECITATION`, `BLOCKLIST`, `PROHIBITED_CONTENT`, `SPII`, `IMAGE_SAFETY`,
 * `MALFORMED_FUNCTION_CALL`) and the AI SDK's `finishReason` (`stop`, `length`, `content-filter`,
 * `tool-calls`, `error`, `other`).
 */
const FINISH_REASONS: Readonly<Record<string, LlmTerminalReason>> = {
  stop: "stop",
  end_turn: "stop",
  stop_sequence: "stop",
  completed: "stop",
  length: "output_limit",
  max_tokens: "output_limit",
  max_output_tokens: "output_limit",
  tool_calls: "tool_use",
  function_call: "tool_use",
  tool_use: "tool_use",
  content_filter: "content_filter",
  refusal: "content_filter",
  safety: "content_filter",
  recitation: "content_filter",
  blocklist: "content_filter",
  prohibited_content: "content_filter",
  spii: "content_filter",
  image_safety: "content_filter",
  model_context_window_exceeded: "context_overflow",
  malformed_function_call: "provider_error",
  error: "provider_error",
};

/**
 * Maps a provider's finish (stop) reason to lash's terminal reason; see the list above. Anything
 * else, including `null`, `undefined`, `other` and Anthropic's `pause_turn`, is `unknown`, which
 * ends the turn `stopped` with a provider error: the response may have been cut off, so its text is
 * not taken as an answer. Adapters should give such a response a `terminalDiagnostic` naming the
 * reason. A response that carries tool calls and a stop-like reason should be `tool_use` (some
 * servers answer `stop` with tool calls); one with an unknown reason should stay `unknown`, since
 * its calls may be incomplete. The adapter decides that, not this table.
 */
export function terminalReasonFromFinishReason(reason: string | null | undefined): LlmTerminalReason {
  if (typeof reason !== "string") return "unknown";
  const key = reason.trim().toLowerCase().replaceAll("-", "_");
  return Object.hasOwn(FINISH_REASONS, key) ? (FINISH_REASONS[key] ?? "unknown") : "unknown";
}
