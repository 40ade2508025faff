import type { LlmOutputPart, LlmResponse, LlmStreamEvent, LlmTerminalReason } from "@lash/protocol";
import { ProviderCallError } from "@lash/protocol";
import type { ToolCallAccumulator } from "@lash/provider-utils";
import { createToolCallAccumulator, terminalReasonFromFinishReason } from "@lash/provider-utils";
import { z } from "zod";
import type { StreamDecoder } from "./call-runner.js";
import { failureFromBodyError, malformedStream } from "./failure-mapping.js";
import { chatUsage, emptyUsage, type MappedUsage } from "./usage-mapping.js";
import { parseWire } from "./wire-parsing.js";

/**
 * Tool-call arguments: a string as OpenAI sends them; some servers send the JSON object itself,
 * which is turned back into its text.
 */
const toolArgumentsSchema = z.union([z.string(), z.record(z.string(), z.unknown()).transform((value) => JSON.stringify(value))]);

const toolCallFragmentSchema = z.looseObject({
  index: z.number().int().nonnegative().nullish(),
  id: z.string().nullish(),
  function: z.looseObject({ name: z.string().nullish(), arguments: toolArgumentsSchema.nullish() }).nullish(),
});

/**
 * The fields of a delta (or of a whole message) the adapter reads. `reasoning_content` (DeepSeek,
 * vLLM, llama.cpp) and `reasoning` (OpenRouter, Ollama) carry reasoning text on compatible servers.
 */
const chatDeltaSchema = z.looseObject({
  content: z.string().nullish(),
  reasoning_content: z.string().nullish(),
  reasoning: z.string().nullish(),
  refusal: z.string().nullish(),
  tool_calls: z.array(toolCallFragmentSchema).nullish(),
});

const choiceIndexSchema = z.number().int().nonnegative().nullish();

const chatChunkSchema = z.looseObject({
  choices: z
    .array(z.looseObject({ index: choiceIndexSchema, delta: chatDeltaSchema.nullish(), finish_reason: z.string().nullish() }))
    .nullish(),
  usage: z.unknown().optional(),
});

/** Message content: a string, or (some servers) a list of text parts. */
const messageContentSchema = z.union([
  z.string(),
  z.array(z.looseObject({ text: z.string().nullish() })).transform((parts) => parts.map((part) => part.text ?? "").join("")),
]);

const chatCompletionSchema = z.looseObject({
  error: z.unknown().optional(),
  choices: z
    .array(
      z.looseObject({
        index: choiceIndexSchema,
        message: chatDeltaSchema.extend({ content: messageContentSchema.nullish() }).nullish(),
        finish_reason: z.string().nullish(),
      }),
    )
    .nullish(),
  usage: z.unknown().optional(),
});

type ChatDelta = z.output<typeof chatDeltaSchema>;
type ToolCallFragment = z.output<typeof toolCallFragmentSchema>;

/** A slot of the final response, in the order its first piece arrived. */
type PartSlot = { readonly kind: "reasoning" } | { readonly kind: "text" } | { readonly kind: "tool"; readonly key: string };

/**
 * The state of one Chat Completions response: text, reasoning and tool calls as they arrive (only
 * choice 0: the adapter never asks for more), the finish reason and the usage.
 */
class ChatResponseState {
  text = "";
  reasoning = "";
  refusal = "";
  finishReason: string | undefined;
  usage: MappedUsage | undefined;
  readonly toolCalls: ToolCallAccumulator = createToolCallAccumulator();
  readonly #slots: PartSlot[] = [];
  #hasText = false;
  #hasReasoning = false;
  /** The key currently receiving each `index`: a new call id at a used index starts a new call. */
  readonly #keyOfIndex = new Map<number, { key: string; callId: string | undefined }>();
  #lastToolKey: string | undefined;
  #toolCallCount = 0;

  /**
   * Applies one delta; returns the stream events it produces. A refusal is not an answer: its text
   * is kept apart (no `delta` event, not in `fullText` or the parts) and reported only as the
   * terminal diagnostic of a `content_filter` response, so a host never shows or parses it as the
   * model's output (a structured-output turn would otherwise try to read it as JSON).
   */
  applyDelta(delta: ChatDelta): LlmStreamEvent[] {
    const events: LlmStreamEvent[] = [];
    // Servers that send both fields repeat the same text in them: take one.
    const reasoning = delta.reasoning_content || delta.reasoning || "";
    if (reasoning !== "") {
      this.#markReasoning();
      this.reasoning += reasoning;
      events.push({ type: "reasoning_delta", text: reasoning });
    }
    const text = delta.content ?? "";
    if (text !== "") {
      this.#markText();
      this.text += text;
      events.push({ type: "delta", text });
    }
    if (delta.refusal) this.refusal += delta.refusal;
    for (const fragment of delta.tool_calls ?? []) this.#applyToolFragment(fragment);
    return events;
  }

  recordFinish(reason: string | null | undefined): void {
    if (this.finishReason === undefined && typeof reason === "string" && reason !== "") this.finishReason = reason;
  }

  #markText(): void {
    if (this.#hasText) return;
    this.#hasText = true;
    this.#slots.push({ kind: "text" });
  }

  #markReasoning(): void {
    if (this.#hasReasoning) return;
    this.#hasReasoning = true;
    this.#slots.push({ kind: "reasoning" });
  }

  #keyFor(fragment: ToolCallFragment): string {
    const callId = fragment.id ?? undefined;
    if (typeof fragment.index === "number") {
      const current = this.#keyOfIndex.get(fragment.index);
      // Some servers number every call 0 and tell them apart only by their ids.
      if (current !== undefined && (callId === undefined || callId === "" || current.callId === undefined || current.callId === callId)) {
        if (current.callId === undefined && callId) current.callId = callId;
        return current.key;
      }
      const key = this.#newToolKey();
      this.#keyOfIndex.set(fragment.index, { key, callId: callId || undefined });
      return key;
    }
    // No index: a fragment with a new id starts a call, one without continues the last call.
    if (!callId && this.#lastToolKey !== undefined) return this.#lastToolKey;
    return this.#newToolKey();
  }

  #newToolKey(): string {
    const key = String(this.#toolCallCount);
    this.#toolCallCount += 1;
    this.#slots.push({ kind: "tool", key });
    return key;
  }

  #applyToolFragment(fragment: ToolCallFragment): void {
    const key = this.#keyFor(fragment);
    this.#lastToolKey = key;
    this.toolCalls.add({
      key,
      callId: fragment.id,
      toolName: fragment.function?.name,
      argumentsDelta: fragment.function?.arguments,
    });
  }

  /** The parts, in the order their first piece arrived. */
  parts(): LlmOutputPart[] {
    // Keys are "0", "1", ... in the order the calls began, which is the accumulator's order too.
    const toolParts = new Map(this.toolCalls.parts().map((part, position) => [String(position), part]));
    const parts: LlmOutputPart[] = [];
    for (const slot of this.#slots) {
      if (slot.kind === "text") parts.push({ type: "text", text: this.text });
      else if (slot.kind === "reasoning") parts.push({ type: "reasoning", text: this.reasoning });
      else {
        const part = toolParts.get(slot.key);
        if (part !== undefined) parts.push(part);
      }
    }
    return parts;
  }

  /**
   * Why the response ended. A refusal is `content_filter` whatever the finish reason says (OpenAI
   * sends `stop` with it). Tool calls make a stop-like reason `tool_use`: some servers (Ollama among
   * them) answer `stop` when the model called tools. A reason the table does not know stays
   * `unknown` even with tool calls: the response may have been cut off (`network_error`), and its
   * calls may be incomplete.
   */
  terminal(): { readonly reason: LlmTerminalReason; readonly diagnostic?: string } {
    if (this.refusal !== "") return { reason: "content_filter", diagnostic: `The model refused: ${this.refusal}` };
    const reason = terminalReasonFromFinishReason(this.finishReason);
    if (reason === "stop" && this.toolCalls.size > 0) return { reason: "tool_use" };
    if (reason === "content_filter") {
      return {
        reason,
        diagnostic: `The provider's content filter stopped the response (finish_reason ${JSON.stringify(this.finishReason)}).`,
      };
    }
    if (reason === "unknown") {
      return {
        reason,
        diagnostic:
          this.finishReason === undefined
            ? "The provider ended the response without a finish reason."
            : `The provider ended the response with an unknown finish reason ${JSON.stringify(shortened(this.finishReason))}.`,
      };
    }
    return { reason };
  }

  response(): LlmResponse {
    const terminal = this.terminal();
    const response: LlmResponse = {
      fullText: this.text,
      parts: this.parts(),
      usage: this.usage?.usage ?? emptyUsage(),
      terminalReason: terminal.reason,
    };
    if (this.usage?.providerUsage !== undefined) response.providerUsage = this.usage.providerUsage;
    if (terminal.diagnostic !== undefined) response.terminalDiagnostic = terminal.diagnostic;
    return response;
  }
}

/** A server-chosen string shown in a diagnostic, cut to a length a message can carry. */
function shortened(value: string): string {
  return value.length > 64 ? `${value.slice(0, 64)}…` : value;
}

/** Choice 0 (a server that omits `index` sends only one choice). */
function firstChoice<Choice extends { index?: number | null | undefined }>(
  choices: readonly Choice[] | null | undefined,
): Choice | undefined {
  return choices?.find((choice) => (choice.index ?? 0) === 0);
}

/**
 * Decodes a Chat Completions event stream: text and reasoning deltas as they arrive, tool calls
 * assembled from their argument fragments (emitted as `part` events when the stream ends, once
 * whole), the final usage chunk, and the response. Its completion signal is the `finish_reason`:
 * a stream that ends without one was cut short.
 */
export function createChatStreamDecoder(): StreamDecoder {
  const state = new ChatResponseState();
  return {
    completion: { name: "a finish_reason", isReached: () => state.finishReason !== undefined },
    // The usage chunk follows the finish reason: the stream ends at `[DONE]` or with the body.
    ended: () => false,
    accept(event: unknown): readonly LlmStreamEvent[] {
      const chunk = parseWire(chatChunkSchema, event, "chat completion chunk");
      const events: LlmStreamEvent[] = [];
      if (chunk.usage !== undefined && chunk.usage !== null) {
        const usage = chatUsage(chunk.usage);
        if (usage === undefined) throw malformedStream("chat completion chunk at usage: expected an object");
        state.usage = usage;
        events.push({ type: "usage", usage: usage.usage });
      }
      const choice = firstChoice(chunk.choices);
      if (choice === undefined) return events;
      if (choice.delta) events.push(...state.applyDelta(choice.delta));
      state.recordFinish(choice.finish_reason);
      return events;
    },
    finish() {
      const response = state.response();
      const events: LlmStreamEvent[] = [];
      for (const part of response.parts) if (part.type === "tool_call") events.push({ type: "part", part });
      return { events, response };
    },
  };
}

/** Decodes a whole (not streamed) Chat Completions response. */
export function decodeChatCompletion(body: unknown): LlmResponse {
  const completion = parseWire(chatCompletionSchema, body, "chat completion");
  const choice = firstChoice(completion.choices);
  if (choice === undefined) {
    if (completion.error !== undefined && completion.error !== null) {
      throw new ProviderCallError(failureFromBodyError(completion.error, "the server answered with an error"));
    }
    throw malformedStream("chat completion has no choice 0");
  }
  const state = new ChatResponseState();
  if (choice.message) {
    const message = choice.message;
    // A whole message is one big delta; its tool calls have no `index`, their position is one.
    state.applyDelta({
      ...message,
      content: message.content ?? null,
      tool_calls: message.tool_calls?.map((call, position) => ({ ...call, index: call.index ?? position })),
    });
  }
  state.recordFinish(choice.finish_reason);
  if (completion.usage !== undefined && completion.usage !== null) state.usage = chatUsage(completion.usage);
  return state.response();
}
