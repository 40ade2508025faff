import type { JsonValue, TokenUsage, TurnOutcome } from "@lash/protocol";

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
