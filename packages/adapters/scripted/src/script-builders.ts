import type { LlmOutputPart, LlmUsage } from "@lash/protocol";
import type { ProviderFailureInput } from "@lash/provider-utils";
import { classifyProviderFailure } from "@lash/provider-utils";
import type { ScriptedEvent, ScriptedStep } from "./scripted-provider.js";

/** Token usage for a scripted step. */
export function usage(inputTokens: number, outputTokens: number, cachedInputTokens = 0, reasoningTokens = 0): LlmUsage {
  return { inputTokens, outputTokens, cachedInputTokens, reasoningTokens };
}

/** `text` cut into `chunks` pieces of (nearly) equal length, or the given pieces, which must join to `text`. */
function splitText(text: string, chunks: number | readonly string[] | undefined): string[] {
  if (typeof chunks === "object") {
    if (chunks.join("") !== text) throw new TypeError(`the chunks ${JSON.stringify(chunks)} do not join to ${JSON.stringify(text)}`);
    return [...chunks];
  }
  const count = Math.max(1, Math.floor(chunks ?? 1));
  const size = Math.ceil(text.length / count);
  const pieces: string[] = [];
  for (let start = 0; start < text.length; start += size) pieces.push(text.slice(start, start + size));
  return pieces;
}

function deltas(text: string, chunks: number | readonly string[] | undefined): ScriptedEvent[] {
  return splitText(text, chunks).map((piece) => ({ type: "delta", text: piece }));
}

export interface TextStepOptions {
  /** How many deltas to stream (default 1), or the deltas themselves (they must join to the text). */
  readonly chunks?: number | readonly string[];
  readonly usage?: Partial<LlmUsage>;
  /** Return an empty final response, so the runtime must rebuild it from the stream. */
  readonly streamOnly?: boolean;
}

/**
 * A step that streams `text` as deltas and returns it as the final response (`fullText` and one
 * text part, terminal reason `stop`). With `streamOnly` the final response is empty and the usage,
 * when given, is streamed as a `usage` event instead.
 */
export function textStep(text: string, options: TextStepOptions = {}): ScriptedStep {
  const events = deltas(text, options.chunks);
  const stepUsage = { ...usage(0, 0), ...options.usage };
  if (options.streamOnly) {
    if (options.usage) events.push({ type: "usage", usage: stepUsage });
    return { events, response: {} };
  }
  return { events, response: { fullText: text, parts: [{ type: "text", text }], usage: stepUsage, terminalReason: "stop" } };
}

export interface ScriptedToolCall {
  /** Default `call-<n>` (1-based position in this step): give ids when a turn has several tool-call steps. */
  readonly callId?: string;
  readonly name: string;
  /** JSON-encoded unless it is a string, which is sent as is (so invalid JSON can be scripted). */
  readonly args: unknown;
}

export interface ToolCallStepOptions {
  /** Prose before the calls: streamed as deltas and returned as a text part. */
  readonly text?: string;
  readonly usage?: Partial<LlmUsage>;
  /** How many deltas stream `text` (default 1), or the deltas themselves. */
  readonly chunks?: number | readonly string[];
}

/** A step whose response calls tools (terminal reason `tool_use`). */
export function toolCallStep(calls: readonly ScriptedToolCall[], options: ToolCallStepOptions = {}): ScriptedStep {
  const text = options.text ?? "";
  const parts: LlmOutputPart[] = text === "" ? [] : [{ type: "text", text }];
  calls.forEach((call, index) => {
    parts.push({
      type: "tool_call",
      callId: call.callId ?? `call-${index + 1}`,
      toolName: call.name,
      inputJson: typeof call.args === "string" ? call.args : (JSON.stringify(call.args ?? {}) ?? "{}"),
    });
  });
  return {
    events: deltas(text, options.chunks),
    response: { fullText: text, parts, usage: { ...usage(0, 0), ...options.usage }, terminalReason: "tool_use" },
  };
}

/** A step that streams `events`, then fails with `failure` classified by `classifyProviderFailure`. */
export function errorStep(failure: ProviderFailureInput, events: readonly ScriptedEvent[] = []): ScriptedStep {
  return { events, error: classifyProviderFailure(failure) };
}
