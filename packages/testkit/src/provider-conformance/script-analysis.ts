import type { LlmUsage } from "@lash/protocol";
import { type WireScript, type WireScriptEvent, wireScriptSchema } from "../wire-script/wire-script-schema.js";

/** What a script makes the server do, which decides what the suite checks. */
export type ScriptCategory =
  /** A complete response (streamed or buffered). */
  | "success"
  /** An HTTP error status. */
  | "http_error"
  /** The socket is destroyed mid-response. */
  | "disconnect"
  /** Nothing is ever sent: the adapter's request (response start) timeout must fire. */
  | "response_start_timeout"
  /** The response starts, then nothing more: the adapter's chunk timeout must fire. */
  | "chunk_timeout";

function isStarted(event: WireScriptEvent): boolean {
  return event.event === "response_start" || event.event === "sse" || event.event === "chunk" || event.event === "body";
}

/** The category of a script, from its last event. */
export function scriptCategory(script: WireScript): ScriptCategory {
  const last = script.timeline.at(-1);
  switch (last?.event) {
    case "http_error":
      return "http_error";
    case "disconnect":
      return "disconnect";
    case "timeout":
      return script.timeline.some(isStarted) ? "chunk_timeout" : "response_start_timeout";
    default:
      return "success";
  }
}

/** True when the script streams its body in pieces (`sse` or `chunk` events). */
export function isStreamed(script: WireScript): boolean {
  return script.timeline.some((event) => event.event === "sse" || event.event === "chunk");
}

/** The JSON payloads a client receives: the `data:` lines of the SSE stream, and a buffered body. */
export function scriptPayloads(script: WireScript): unknown[] {
  const decoder = new TextDecoder();
  let stream = "";
  const payloads: unknown[] = [];
  const parse = (text: string): void => {
    try {
      payloads.push(JSON.parse(text));
    } catch {
      // `[DONE]` and other non-JSON data carry no usage.
    }
  };
  for (const event of script.timeline) {
    if (event.event === "sse") stream += `data: ${event.data}\n\n`;
    else if (event.event === "chunk")
      stream += event.bytes === undefined ? (event.data ?? "") : decoder.decode(Uint8Array.from(event.bytes), { stream: true });
    else if (event.event === "body") parse(event.data);
  }
  for (const line of stream.split(/\r?\n/)) {
    if (line.startsWith("data:")) parse(line.slice(5).trim());
  }
  return payloads;
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function count(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

/**
 * The usage a script reports, mapped the way every adapter must map it (ADR 0016: each token once):
 * output without the reasoning tokens, which `reasoningTokens` carries alone.
 */
export interface ExpectedUsage {
  readonly inputTokens: number;
  /** The output counts an adapter may map it to (one, since ADR 0016 fixes the rule). */
  readonly outputTokens: readonly number[];
  readonly cachedInputTokens: number;
  readonly reasoningTokens: number;
}

const ZERO_USAGE: ExpectedUsage = { inputTokens: 0, outputTokens: [0], cachedInputTokens: 0, reasoningTokens: 0 };

function chatCompletionsUsage(payloads: readonly unknown[]): ExpectedUsage | undefined {
  let found: ExpectedUsage | undefined;
  for (const payload of payloads) {
    const usage = record(record(payload)?.usage);
    if (usage === undefined) continue;
    const reasoningTokens = count(record(usage.completion_tokens_details)?.reasoning_tokens) ?? 0;
    found = {
      inputTokens: count(usage.prompt_tokens) ?? 0,
      outputTokens: [Math.max(0, (count(usage.completion_tokens) ?? 0) - reasoningTokens)],
      cachedInputTokens: count(record(usage.prompt_tokens_details)?.cached_tokens) ?? 0,
      reasoningTokens,
    };
  }
  return found;
}

function responsesUsage(payloads: readonly unknown[]): ExpectedUsage | undefined {
  let found: ExpectedUsage | undefined;
  for (const payload of payloads) {
    const event = record(payload);
    if (event?.type !== "response.completed" && event?.type !== "response.incomplete") continue;
    const usage = record(record(event.response)?.usage);
    if (usage === undefined) continue;
    const reasoningTokens = count(record(usage.output_tokens_details)?.reasoning_tokens) ?? 0;
    found = {
      inputTokens: count(usage.input_tokens) ?? 0,
      outputTokens: [Math.max(0, (count(usage.output_tokens) ?? 0) - reasoningTokens)],
      cachedInputTokens: count(record(usage.input_tokens_details)?.cached_tokens) ?? 0,
      reasoningTokens,
    };
  }
  return found;
}

function anthropicUsage(payloads: readonly unknown[]): ExpectedUsage | undefined {
  let input: number | undefined;
  let cached = 0;
  let output = 0;
  for (const payload of payloads) {
    const event = record(payload);
    if (event?.type === "message_start") {
      const usage = record(record(event.message)?.usage);
      // Anthropic's input excludes cache reads (reported as cached) but not cache writes, which are input.
      input = (count(usage?.input_tokens) ?? 0) + (count(usage?.cache_creation_input_tokens) ?? 0);
      cached = count(usage?.cache_read_input_tokens) ?? 0;
      output = count(usage?.output_tokens) ?? output;
    } else if (event?.type === "message_delta") {
      output = count(record(event.usage)?.output_tokens) ?? output;
    }
  }
  return input === undefined ? undefined : { inputTokens: input, outputTokens: [output], cachedInputTokens: cached, reasoningTokens: 0 };
}

function googleUsage(payloads: readonly unknown[]): ExpectedUsage | undefined {
  let found: ExpectedUsage | undefined;
  for (const payload of payloads) {
    const root = record(payload);
    const metadata = record(root?.usageMetadata) ?? record(record(root?.response)?.usageMetadata);
    if (metadata === undefined) continue;
    const candidates = count(metadata.candidatesTokenCount) ?? 0;
    const thoughts = count(metadata.thoughtsTokenCount) ?? 0;
    found = {
      inputTokens: count(metadata.promptTokenCount) ?? 0,
      // Gemini's candidate count already excludes the thoughts.
      outputTokens: [candidates],
      cachedInputTokens: count(metadata.cachedContentTokenCount) ?? 0,
      reasoningTokens: thoughts,
    };
  }
  return found;
}

/**
 * The usage a successful script reports, read from its payloads by provider kind (Chat Completions
 * `usage`, Responses `response.completed`, Anthropic `message_start` / `message_delta`, Google
 * `usageMetadata`); all zero when it reports none.
 */
export function expectedUsage(script: WireScript): ExpectedUsage {
  const payloads = scriptPayloads(script);
  const usage =
    script.provider_kind === "anthropic"
      ? anthropicUsage(payloads)
      : script.provider_kind === "openai" || script.provider_kind === "codex"
        ? responsesUsage(payloads)
        : script.provider_kind.startsWith("google")
          ? googleUsage(payloads)
          : chatCompletionsUsage(payloads);
  return usage ?? ZERO_USAGE;
}

/** The usage the runtime would keep: the final response's, unless all zero, then the last streamed one. */
export function effectiveUsage(responseUsage: LlmUsage | undefined, streamed: readonly LlmUsage[]): LlmUsage {
  const zero: LlmUsage = { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, reasoningTokens: 0 };
  const response = responseUsage ?? zero;
  const allZero = Object.values(response).every((value) => value === 0);
  return allZero ? (streamed.at(-1) ?? response) : response;
}

/**
 * A copy of a streamed success script cut after its first body piece and then held open (a
 * `timeout` event): the abort test aborts while the server waits, mid-stream.
 */
export function heldOpenScript(script: WireScript): WireScript {
  const firstPiece = script.timeline.findIndex((event) => event.event === "sse" || event.event === "chunk");
  if (firstPiece < 0) throw new Error(`script ${script.name} has no streamed piece to hold after`);
  const kept = script.timeline.slice(0, firstPiece + 1);
  const at = kept.at(-1)?.at ?? 0;
  return wireScriptSchema.parse({ ...script, name: `${script.name}.held-open`, timeline: [...kept, { at, event: "timeout" }] });
}
