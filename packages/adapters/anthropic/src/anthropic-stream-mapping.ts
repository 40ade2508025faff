import type { LlmOutputPart, LlmResponse, LlmStreamEvent } from "@lash/protocol";
import type { AnthropicBlockDelta, AnthropicBlockStart, AnthropicStreamEvent } from "./anthropic-stream-events.js";
import { MalformedStreamEventError } from "./anthropic-stream-events.js";
import { type AnthropicStopDetails, terminalReasonOf } from "./anthropic-terminal-reason.js";
import { type AnthropicUsageCounts, llmUsageFromAnthropic, providerUsageFromAnthropic } from "./anthropic-usage.js";

/** A content block while it streams. */
type BlockState =
  | { kind: "text"; text: string; stopped: boolean }
  | { kind: "thinking"; text: string; signature: string; stopped: boolean }
  | { kind: "redacted_thinking"; data: string; stopped: boolean }
  | { kind: "tool_use"; id: string; name: string; json: string; startInput: unknown; stopped: boolean }
  | { kind: "other"; wireType: string; stopped: boolean };

/** A stream with more blocks than this is not a real response. */
const MOST_BLOCKS = 10_000;
/** Nor is one that accumulates more characters than this (the output is bounded by `max_tokens`). */
const LARGEST_RESPONSE_CHARACTERS = 64 * 1024 * 1024;

/** Why a mid-stream `error` event ended the stream. */
export interface AnthropicStreamError {
  readonly errorType: string | undefined;
  readonly message: string | undefined;
}

/** Thrown by the mapping when the server sent an `error` event. */
export class AnthropicStreamErrorEvent extends Error {
  readonly errorType: string | undefined;
  readonly apiMessage: string | undefined;

  constructor(error: AnthropicStreamError) {
    super(error.message ?? error.errorType ?? "the stream reported an error");
    this.name = "AnthropicStreamErrorEvent";
    this.errorType = error.errorType;
    this.apiMessage = error.message;
  }
}

function startState(block: AnthropicBlockStart): BlockState {
  switch (block.type) {
    case "text":
      return { kind: "text", text: block.text, stopped: false };
    case "thinking":
      return { kind: "thinking", text: block.thinking, signature: block.signature, stopped: false };
    case "redacted_thinking":
      return { kind: "redacted_thinking", data: block.data, stopped: false };
    case "tool_use":
      return { kind: "tool_use", id: block.id, name: block.name, json: "", startInput: block.input, stopped: false };
    case "other":
      return { kind: "other", wireType: block.wireType, stopped: false };
  }
}

/**
 * The arguments of a finished tool call, exactly as streamed. Without any `input_json_delta` the
 * input is the one the block started with (`{}` for a tool without parameters).
 */
function toolInputJson(state: Extract<BlockState, { kind: "tool_use" }>): string {
  if (state.json !== "") return state.json;
  if (typeof state.startInput === "object" && state.startInput !== null) return JSON.stringify(state.startInput);
  return "{}";
}

function toolCallPart(state: Extract<BlockState, { kind: "tool_use" }>): LlmOutputPart {
  return { type: "tool_call", callId: state.id, toolName: state.name, inputJson: toolInputJson(state) };
}

/** The final part of a block; `undefined` for blocks lash has no part for. */
function finalPart(state: BlockState): LlmOutputPart | undefined {
  switch (state.kind) {
    case "text":
      return state.text === "" ? undefined : { type: "text", text: state.text };
    case "thinking":
      // Without its signature a thinking block cannot be sent back: it is display-only then.
      return state.signature === ""
        ? { type: "reasoning", text: state.text }
        : { type: "reasoning", text: state.text, replay: { signature: state.signature, redacted: false, summary: [] } };
    case "redacted_thinking":
      return { type: "reasoning", text: "", replay: { encryptedContent: state.data, redacted: true, summary: [] } };
    case "tool_use":
      return toolCallPart(state);
    case "other":
      return undefined;
  }
}

function malformed(message: string): MalformedStreamEventError {
  return new MalformedStreamEventError(message);
}

/**
 * Turns the events of one Messages stream into lash stream events and, at the end, the final
 * `LlmResponse`. It enforces the protocol's order (`message_start` first, each block started once
 * before its deltas, deltas that fit their block) and throws `MalformedStreamEventError` naming the
 * problem otherwise; an `error` event throws `AnthropicStreamErrorEvent`.
 *
 * Streamed: text as `delta`, thinking as `reasoning_delta`, each finished tool call as a `part`,
 * and the usage (cumulative, so each `usage` event replaces the last). The final response holds
 * every block as a part, in block order, with the thinking signature and redacted data as replay.
 */
export class AnthropicStreamMapping {
  readonly #blocks = new Map<number, BlockState>();
  #started = false;
  #finished = false;
  #messageId: string | undefined;
  #usage: AnthropicUsageCounts = {};
  #stopReason: string | undefined;
  #stopDetails: AnthropicStopDetails | undefined;
  #characters = 0;

  /** True once `message_stop` arrived: the rest of the body is not read. */
  get finished(): boolean {
    return this.#finished;
  }

  /** The id the server gave the message, once known. */
  get messageId(): string | undefined {
    return this.#messageId;
  }

  /** Applies one event; returns the lash events it produces, in order. */
  accept(event: AnthropicStreamEvent): LlmStreamEvent[] {
    if (event.type === "error") throw new AnthropicStreamErrorEvent(event);
    if (event.type === "ping" || event.type === "other" || this.#finished) return [];
    if (event.type === "message_start") {
      if (this.#started) throw malformed("a second message_start arrived");
      this.#started = true;
      this.#messageId = event.id;
      this.#usage = { ...event.usage };
      return [this.#usageEvent()];
    }
    if (!this.#started) throw malformed(`${event.type} arrived before message_start`);
    switch (event.type) {
      case "content_block_start":
        return this.#startBlock(event.index, event.block);
      case "content_block_delta":
        return this.#applyDelta(event.index, event.delta);
      case "content_block_stop":
        return this.#stopBlock(event.index);
      case "message_delta":
        if (event.stopReason !== undefined) this.#stopReason = event.stopReason;
        if (event.stopDetails !== undefined) this.#stopDetails = event.stopDetails;
        // Counts are cumulative: a count present here replaces the earlier one.
        this.#usage = { ...this.#usage, ...event.usage };
        return [this.#usageEvent()];
      case "message_stop":
        this.#finished = true;
        return [];
    }
  }

  /** The final response. Call it after `message_stop`. */
  response(): LlmResponse {
    const parts: LlmOutputPart[] = [];
    for (const index of [...this.#blocks.keys()].sort((left, right) => left - right)) {
      const state = this.#blocks.get(index);
      const part = state === undefined ? undefined : finalPart(state);
      if (part !== undefined) parts.push(part);
    }
    let fullText = "";
    // Text blocks are pieces of one answer (citations split it): they join without separators.
    for (const part of parts) if (part.type === "text") fullText += part.text;
    // Text a refused response produced stays the answer text it streamed as; the diagnostic quotes it too.
    const terminal = terminalReasonOf({ stopReason: this.#stopReason, stopDetails: this.#stopDetails, text: fullText });
    const response: LlmResponse = {
      fullText,
      parts,
      usage: llmUsageFromAnthropic(this.#usage),
      terminalReason: terminal.reason,
      providerUsage: providerUsageFromAnthropic(this.#usage),
    };
    if (terminal.diagnostic !== undefined) response.terminalDiagnostic = terminal.diagnostic;
    return response;
  }

  #usageEvent(): LlmStreamEvent {
    return { type: "usage", usage: llmUsageFromAnthropic(this.#usage) };
  }

  #count(text: string): void {
    this.#characters += text.length;
    if (this.#characters > LARGEST_RESPONSE_CHARACTERS)
      throw malformed(`the response is larger than ${LARGEST_RESPONSE_CHARACTERS} characters`);
  }

  #startBlock(index: number, block: AnthropicBlockStart): LlmStreamEvent[] {
    if (this.#blocks.has(index)) throw malformed(`content block ${index} started twice`);
    if (this.#blocks.size >= MOST_BLOCKS) throw malformed(`the response has more than ${MOST_BLOCKS} content blocks`);
    const state = startState(block);
    this.#blocks.set(index, state);
    // A block may start with content of its own (the API usually sends it empty).
    if (state.kind === "text" && state.text !== "") {
      this.#count(state.text);
      return [{ type: "delta", text: state.text }];
    }
    if (state.kind === "thinking" && state.text !== "") {
      this.#count(state.text);
      return [{ type: "reasoning_delta", text: state.text }];
    }
    if (state.kind === "redacted_thinking") this.#count(state.data);
    if (state.kind === "tool_use") this.#count(state.id + state.name);
    return [];
  }

  #openBlock(index: number, eventType: string): BlockState {
    const state = this.#blocks.get(index);
    if (state === undefined) throw malformed(`${eventType} for content block ${index}, which never started`);
    if (state.stopped) throw malformed(`${eventType} for content block ${index}, which already stopped`);
    return state;
  }

  #applyDelta(index: number, delta: AnthropicBlockDelta): LlmStreamEvent[] {
    const state = this.#openBlock(index, "content_block_delta");
    // Server-tool blocks and newer delta types (citations) carry nothing lash maps.
    if (state.kind === "other" || delta.type === "other") return [];
    const mismatch = (): MalformedStreamEventError => malformed(`${delta.type} for content block ${index}, a ${state.kind} block`);
    switch (delta.type) {
      case "text_delta":
        if (state.kind !== "text") throw mismatch();
        this.#count(delta.text);
        state.text += delta.text;
        return delta.text === "" ? [] : [{ type: "delta", text: delta.text }];
      case "thinking_delta":
        if (state.kind !== "thinking") throw mismatch();
        this.#count(delta.thinking);
        state.text += delta.thinking;
        return delta.thinking === "" ? [] : [{ type: "reasoning_delta", text: delta.thinking }];
      case "signature_delta":
        if (state.kind !== "thinking") throw mismatch();
        this.#count(delta.signature);
        state.signature += delta.signature;
        return [];
      case "input_json_delta":
        if (state.kind !== "tool_use") throw mismatch();
        this.#count(delta.partialJson);
        // Fragments are raw JSON text: joined, they are the arguments (possibly invalid JSON with
        // fine-grained tool streaming; the runtime reports that to the model).
        state.json += delta.partialJson;
        return [];
    }
  }

  #stopBlock(index: number): LlmStreamEvent[] {
    const state = this.#openBlock(index, "content_block_stop");
    state.stopped = true;
    return state.kind === "tool_use" ? [{ type: "part", part: toolCallPart(state) }] : [];
  }
}
