import type { JsonValue, PluginRuntimeEvent, TokenUsage, TurnOutcome } from "@lash/protocol";

/** `1,234`. */
export function formatCount(value: number): string {
  return value.toLocaleString("en-US");
}

/** A JSON value on one line, cut to `max` characters. */
export function compactJson(value: JsonValue | unknown, max = 120): string {
  const text = JSON.stringify(value) ?? "null";
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** What a turn outcome means, in a few words. */
export function describeOutcome(outcome: TurnOutcome): string {
  if (outcome.type === "finished") return "finished";
  if (outcome.type === "handoff") return `handed off to session ${outcome.sessionId}`;
  const stop = outcome.stop;
  switch (stop.type) {
    case "cancelled":
      return "cancelled";
    case "max_turns":
      return "stopped: the model-call limit was reached (--max-model-calls)";
    case "budget_exhausted":
      return stop.budget === "tokens"
        ? "stopped: the token budget ran out (--max-tokens)"
        : stop.budget === "wall_time"
          ? "stopped: the time limit was reached (--timeout)"
          : "stopped: the tool-call budget ran out";
    case "provider_error":
      return "stopped: the model provider failed";
    case "stop_condition":
      return `stopped: stop condition ${stop.name}`;
    case "tool_error":
      return `stopped: tool ${stop.toolName} failed the turn`;
    case "awaiting_approval":
      return `waiting for approval (${stop.approvals.length} call${stop.approvals.length === 1 ? "" : "s"})`;
    default:
      return `stopped: ${stop.type.replaceAll("_", " ")}`;
  }
}

/** `280 in, 27 out (12 cached, 5 reasoning)`. */
export function describeUsage(usage: TokenUsage): string {
  const extras = [
    usage.cachedInputTokens > 0 ? `${formatCount(usage.cachedInputTokens)} cached` : undefined,
    usage.reasoningTokens > 0 ? `${formatCount(usage.reasoningTokens)} reasoning` : undefined,
  ].filter((part) => part !== undefined);
  return `${formatCount(usage.inputTokens)} in, ${formatCount(usage.outputTokens)} out${extras.length > 0 ? ` (${extras.join(", ")})` : ""}`;
}

const NAMED_ESCAPES: Readonly<Record<string, string>> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/**
 * `text` with every control character shown as an escape (`\r`, `\u001b`, ...), so text from a
 * model cannot move the cursor or erase what the terminal shows, as in a forged approval question.
 */
export function printable(text: string): string {
  return text.replace(
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this escapes
    /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g,
    (character) => NAMED_ESCAPES[character] ?? `\\u${character.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** A number field of a plugin event's payload, or undefined. */
function payloadNumber(payload: JsonValue, field: string): number | undefined {
  if (payload === null || typeof payload !== "object" || Array.isArray(payload)) return undefined;
  const value = payload[field];
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

/**
 * The progress line of a plugin event, or undefined for one the CLI does not show: a plugin's
 * status line, and the history compactions of the rolling history (which change what the model
 * sees, so a user should know they happened). Every text from a plugin is made printable.
 */
export function describePluginEvent(pluginId: string, event: PluginRuntimeEvent): string | undefined {
  if (event.kind === "status") return `${printable(pluginId)}: ${printable(event.label)}`;
  if (pluginId !== "lash.context") return undefined;
  if (event.name === "history_compacted") {
    const summarized = payloadNumber(event.payload, "summarizedMessages");
    const before = payloadNumber(event.payload, "tokensBefore");
    const after = payloadNumber(event.payload, "tokensAfter");
    const messages = summarized === undefined ? "" : ` (${formatCount(summarized)} messages summarized)`;
    const tokens = before === undefined || after === undefined ? "" : `: ~${formatCount(before)} → ~${formatCount(after)} tokens`;
    return `history compacted${tokens}${messages}`;
  }
  if (event.name === "history_compaction_failed") {
    const payload = event.payload;
    const message =
      payload !== null && typeof payload === "object" && !Array.isArray(payload) && typeof payload.message === "string"
        ? payload.message
        : "";
    return `history compaction failed${message === "" ? "" : `: ${printable(message)}`}`;
  }
  return undefined;
}
