import type { JsonValue, LlmOutputPart, LlmResponse, LlmStreamEvent, LlmTerminalReason, ProviderCallError } from "@lash/protocol";
import { classifyProviderFailure, createToolCallAccumulator } from "@lash/provider-utils";
import { failureFromStreamError, providerCallError } from "./failure-mapping.js";
import {
  type AiSdkFinishReason,
  type AiSdkGenerateResult,
  type AiSdkProviderMetadata,
  type AiSdkStreamPart,
  type AiSdkStreamPartLike,
  type AiSdkToolCall,
  type AiSdkUsage,
  readableContent,
  readableStreamPart,
} from "./model-output-types.js";
import { mergeProviderMetadata, reasoningReplayFromMetadata, toolCallReplayFromMetadata } from "./provider-metadata-replay.js";
import { rawUsageFromAiSdk, terminalReasonFromAiSdk, usageFromAiSdk } from "./usage-mapping.js";

type ToolCallPart = Extract<LlmOutputPart, { type: "tool_call" }>;

interface TextSlot {
  readonly kind: "text";
  text: string;
}

interface ReasoningSlot {
  readonly kind: "reasoning";
  text: string;
  metadata: AiSdkProviderMetadata | undefined;
}

interface ToolCallSlot {
  readonly kind: "tool_call";
  part: ToolCallPart;
}

type Slot = TextSlot | ReasoningSlot | ToolCallSlot;

interface Finish {
  readonly usage: AiSdkUsage;
  readonly finishReason: AiSdkFinishReason | string;
}

/**
 * `"v4"` models finish with `interrupted` when the provider's stream ended cleanly but without its
 * completion signal (where `"v3"` models sent no `finish` part, or `other`): the output may be cut
 * short.
 */
function isInterrupted(finishReason: AiSdkFinishReason | string): boolean {
  return (typeof finishReason === "string" ? finishReason : finishReason.unified) === "interrupted";
}

function streamIncomplete(message: string): ProviderCallError {
  return providerCallError(classifyProviderFailure({ kind: "stream", code: "stream_incomplete", message, retryable: true }));
}

/** Options of a `StreamTranslator`. */
export interface StreamTranslationOptions {
  /** See `AiSdkProviderOptions.inputUsageExcludesCachedTokens`. */
  readonly inputExcludesCached: boolean;
}

/**
 * Turns the parts of one model stream (`"v3"` or `"v4"`: the parts read here are the same in both)
 * into lash stream events, and keeps what it saw so the final `LlmResponse` is complete on its own
 * (the runtime prefers it over what streamed):
 * - `text-delta` → `delta`; `reasoning-delta` → `reasoning_delta`; each text and reasoning block
 *   becomes one output part, in the order the blocks started;
 * - at `reasoning-end`, a block that carries provider metadata is streamed once more as an empty
 *   `reasoning` part with its replay data, which the runtime attaches to the streamed text;
 * - `tool-input-*` pieces are collected; `tool-call` → a `tool_call` part (streamed and kept). A
 *   call whose input streamed but whose `tool-call` never came is completed from the pieces at the
 *   end. Calls the provider executed itself are not lash's to run and are left out;
 * - `finish` → a `usage` event, the usage and the terminal reason; a `"v4"` finish with the
 *   `interrupted` reason ends the call as cut short (see `end`);
 * - `error` → throws a classified `ProviderCallError`;
 * - `stream-start`, `response-metadata`, `raw`, `source`, `file`, `tool-result`, `text-end`,
 *   `tool-input-end` and `tool-approval-request`, and `"v4"`'s `ping`, `custom` and
 *   `reasoning-file`, carry nothing lash keeps, and are ignored.
 */
export class StreamTranslator {
  readonly #options: StreamTranslationOptions;
  readonly #slots: Slot[] = [];
  readonly #textBlocks = new Map<string, TextSlot>();
  readonly #reasoningBlocks = new Map<string, ReasoningSlot>();
  readonly #toolInputs = createToolCallAccumulator();
  readonly #toolInputEncodings = new Map<string, "json" | "text">();
  /** Ids of calls that got their `tool-call` part, or that the provider runs itself. */
  readonly #settledToolCalls = new Set<string>();
  readonly #toolCallSlots = new Map<string, ToolCallSlot>();
  #finish: Finish | undefined;

  constructor(options: StreamTranslationOptions) {
    this.#options = options;
  }

  #textBlock(id: string): TextSlot {
    let slot = this.#textBlocks.get(id);
    if (slot === undefined) {
      slot = { kind: "text", text: "" };
      this.#textBlocks.set(id, slot);
      this.#slots.push(slot);
    }
    return slot;
  }

  #reasoningBlock(id: string): ReasoningSlot {
    let slot = this.#reasoningBlocks.get(id);
    if (slot === undefined) {
      slot = { kind: "reasoning", text: "", metadata: undefined };
      this.#reasoningBlocks.set(id, slot);
      this.#slots.push(slot);
    }
    return slot;
  }

  #toolCall(part: AiSdkToolCall): LlmStreamEvent[] {
    const known = this.#toolCallSlots.get(part.toolCallId);
    this.#settledToolCalls.add(part.toolCallId);
    if (part.providerExecuted === true) return [];
    const toolCall: ToolCallPart = { type: "tool_call", callId: part.toolCallId, toolName: part.toolName, inputJson: part.input };
    const replay = toolCallReplayFromMetadata(part.providerMetadata);
    if (replay !== undefined) toolCall.replay = replay;
    if (known !== undefined) {
      // A repeated call is the provider correcting itself: the latest wins, and it was streamed already.
      known.part = toolCall;
      return [];
    }
    const slot: ToolCallSlot = { kind: "tool_call", part: toolCall };
    this.#toolCallSlots.set(part.toolCallId, slot);
    this.#slots.push(slot);
    return [{ type: "part", part: { ...toolCall } }];
  }

  /** The lash events for one stream part. @throws ProviderCallError for an `error` part. */
  translate(streamPart: AiSdkStreamPart | AiSdkStreamPartLike): LlmStreamEvent[] {
    const part = readableStreamPart(streamPart);
    switch (part?.type) {
      case undefined:
        return [];
      case "text-start":
        this.#textBlock(part.id);
        return [];
      case "text-delta": {
        if (part.delta === "") return [];
        this.#textBlock(part.id).text += part.delta;
        return [{ type: "delta", text: part.delta }];
      }
      case "reasoning-start": {
        const slot = this.#reasoningBlock(part.id);
        slot.metadata = mergeProviderMetadata(slot.metadata, part.providerMetadata);
        return [];
      }
      case "reasoning-delta": {
        const slot = this.#reasoningBlock(part.id);
        // Some providers send replay data (a signature) on a delta of their own.
        slot.metadata = mergeProviderMetadata(slot.metadata, part.providerMetadata);
        if (part.delta === "") return [];
        slot.text += part.delta;
        return [{ type: "reasoning_delta", text: part.delta }];
      }
      case "reasoning-end": {
        const slot = this.#reasoningBlock(part.id);
        slot.metadata = mergeProviderMetadata(slot.metadata, part.providerMetadata);
        const replay = reasoningReplayFromMetadata(slot.metadata);
        // Empty text: the text already streamed as deltas, this only attaches the replay data.
        return replay === undefined ? [] : [{ type: "part", part: { type: "reasoning", text: "", replay } }];
      }
      case "tool-input-start":
        if (part.providerExecuted === true) {
          this.#settledToolCalls.add(part.id);
          return [];
        }
        this.#toolInputEncodings.set(part.id, part.inputEncoding ?? "json");
        this.#toolInputs.add({ key: part.id, callId: part.id, toolName: part.toolName });
        return [];
      case "tool-input-delta":
        if (!this.#settledToolCalls.has(part.id)) this.#toolInputs.add({ key: part.id, callId: part.id, argumentsDelta: part.delta });
        return [];
      case "tool-call":
        return this.#toolCall(part);
      case "finish":
        this.#finish = { usage: part.usage, finishReason: part.finishReason };
        return [{ type: "usage", usage: usageFromAiSdk(part.usage, this.#options.inputExcludesCached) }];
      case "error":
        throw providerCallError(failureFromStreamError(part.error), part.error);
    }
  }

  /** Tool calls whose input streamed but whose `tool-call` part never came. */
  #unfinishedToolCalls(): ToolCallPart[] {
    return this.#toolInputs
      .parts()
      .filter((call) => !this.#settledToolCalls.has(call.callId))
      .map((call) => {
        const rawText = this.#toolInputEncodings.get(call.callId) === "text";
        // The specification says a tool call's input is JSON even when its pieces stream as plain text.
        const inputJson = rawText ? JSON.stringify(call.inputJson) : call.inputJson === "" ? "{}" : call.inputJson;
        return { ...call, inputJson };
      });
  }

  /**
   * Ends the stream: the events still owed (tool calls completed from their input pieces) and the
   * final response.
   *
   * @throws ProviderCallError (`stream`, `stream_incomplete`, retryable) when the stream ended
   *   without a `finish` part, or with the `interrupted` finish reason: the model's output is cut
   *   short, and another attempt may complete it.
   */
  end(): { readonly events: LlmStreamEvent[]; readonly response: LlmResponse } {
    const events: LlmStreamEvent[] = [];
    for (const toolCall of this.#unfinishedToolCalls()) {
      const slot: ToolCallSlot = { kind: "tool_call", part: toolCall };
      this.#slots.push(slot);
      events.push({ type: "part", part: { ...toolCall } });
    }
    if (this.#finish === undefined) throw streamIncomplete("the model's stream ended without a finish part");
    if (isInterrupted(this.#finish.finishReason)) {
      throw streamIncomplete("the model's stream ended without the provider's completion signal (finish reason \"interrupted\")");
    }
    return { events, response: this.#response(this.#finish) };
  }

  #parts(): LlmOutputPart[] {
    const parts: LlmOutputPart[] = [];
    for (const slot of this.#slots) {
      if (slot.kind === "text") {
        if (slot.text !== "") parts.push({ type: "text", text: slot.text });
      } else if (slot.kind === "reasoning") {
        const replay = reasoningReplayFromMetadata(slot.metadata);
        if (replay !== undefined) parts.push({ type: "reasoning", text: slot.text, replay });
        else if (slot.text !== "") parts.push({ type: "reasoning", text: slot.text });
      } else {
        parts.push({ ...slot.part });
      }
    }
    return parts;
  }

  #response(finish: Finish): LlmResponse {
    const parts = this.#parts();
    const fullText = parts.map((part) => (part.type === "text" ? part.text : "")).join("");
    const mapping = terminalReasonFromAiSdk(finish.finishReason, fullText);
    let terminalReason: LlmTerminalReason = mapping.terminalReason;
    // Some servers answer `stop` with tool calls: the calls are what the model wants. An unknown
    // reason stays unknown, calls or not: the response may have been cut off mid-call.
    if (terminalReason === "stop" && parts.some((part) => part.type === "tool_call")) terminalReason = "tool_use";
    const response: LlmResponse = {
      fullText,
      parts,
      usage: usageFromAiSdk(finish.usage, this.#options.inputExcludesCached),
      terminalReason,
    };
    if (mapping.diagnostic !== undefined && terminalReason === mapping.terminalReason) response.terminalDiagnostic = mapping.diagnostic;
    const providerUsage: JsonValue | undefined = rawUsageFromAiSdk(finish.usage);
    if (providerUsage !== undefined) response.providerUsage = providerUsage;
    return response;
  }
}

/**
 * The final response of a `doGenerate` call. The content is replayed through a `StreamTranslator`
 * as the stream parts it would have streamed, so both paths build responses the same way.
 */
export function responseFromGenerateResult(result: AiSdkGenerateResult, options: StreamTranslationOptions): LlmResponse {
  const translator = new StreamTranslator(options);
  result.content.forEach((item, index) => {
    const content = readableContent(item);
    const id = `content-${index}`;
    switch (content?.type) {
      case "text":
        translator.translate({ type: "text-start", id });
        translator.translate({ type: "text-delta", id, delta: content.text });
        break;
      case "reasoning": {
        const metadata = content.providerMetadata === undefined ? {} : { providerMetadata: content.providerMetadata };
        translator.translate({ type: "reasoning-start", id, ...metadata });
        translator.translate({ type: "reasoning-delta", id, delta: content.text });
        translator.translate({ type: "reasoning-end", id });
        break;
      }
      case "tool-call":
        translator.translate(content);
        break;
      case undefined:
        break;
    }
  });
  translator.translate({ type: "finish", usage: result.usage, finishReason: result.finishReason });
  return translator.end().response;
}
