import type { JsonValue, LlmOutputPart, LlmUsage, ProviderFailureInput } from "@lash/protocol";
import type { ScriptedEvent, ScriptedStep } from "./scripted-provider.js";

/** Token usage for a scripted step. */
export function usage(inputTokens: number, outputTokens: number, cachedInputTokens = 0, reasoningTokens = 0): LlmUsage {
  return { inputTokens, outputTokens, cachedInputTokens, reasoningTokens };
}

function splitText(text: string, chunks: number | readonly string[] | undefined): string[] {
  if (Array.isArray(chunks)) return [...chunks];
  const count = Math.max(1, typeof chunks === "number" ? chunks : 1);
  const size = Math.ceil(text.length / count);
  const pieces: string[] = [];
  for (let start = 0; start < text.length; start += size) pieces.push(text.slice(start, start + size));
  return pieces;
}

/**
 * A step that streams `text` as deltas (`chunks`: how many pieces, or the pieces themselves) and
 * returns it as the final response. `streamOnly` returns an empty final response instead, so the
 * runtime must rebuild it from the stream.
 */
export function textStep(
  text: string,
  options: { readonly chunks?: number | readonly string[]; readonly usage?: Partial<LlmUsage>; readonly streamOnly?: boolean } = {},
): ScriptedStep {
  const events: ScriptedEvent[] = splitText(text, options.chunks).map((piece) => ({ type: "delta", text: piece }));
  const fullUsage = { ...usage(0, 0), ...options.usage };
  if (options.streamOnly) {
    if (options.usage) events.push({ type: "usage", usage: fullUsage });
    return { events, response: {} };
  }
  return { events, response: { fullText: text, parts: [{ type: "text", text }], usage: fullUsage, terminalReason: "stop" } };
}

/** A step whose response calls tools (arguments are JSON-encoded unless given as a string). */
export function toolCallStep(
  calls: readonly { readonly callId?: string; readonly name: string; readonly args: JsonValue | string }[],
  options: { readonly text?: string; readonly usage?: Partial<LlmUsage>; readonly chunks?: number } = {},
): ScriptedStep {
  const parts: LlmOutputPart[] = [];
  const events: ScriptedEvent[] = [];
  if (options.text) {
    parts.push({ type: "text", text: options.text });
    for (const piece of splitText(options.text, options.chunks)) events.push({ type: "delta", text: piece });
  }
  calls.forEach((call, index) => {
    parts.push({
      type: "tool_call",
      callId: call.callId ?? `call-${index + 1}`,
      toolName: call.name,
      inputJson: typeof call.args === "string" ? call.args : JSON.stringify(call.args),
    });
  });
  return {
    events,
    response: { fullText: options.text ?? "", parts, usage: { ...usage(0, 0), ...options.usage }, terminalReason: "tool_use" },
  };
}

/** A step that fails with a classified provider failure. */
export function errorStep(failure: ProviderFailureInput, events: readonly ScriptedEvent[] = []): ScriptedStep {
  return { events, error: failure };
}
