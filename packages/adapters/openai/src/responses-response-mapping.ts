import type { LlmOutputPart, LlmResponse, LlmStreamEvent, LlmTerminalReason, ReasoningReplay, ResponseMeta } from "@lash/protocol";
import { ProviderCallError } from "@lash/protocol";
import { classifyProviderFailure, terminalReasonFromFinishReason } from "@lash/provider-utils";
import type { StreamDecoder } from "./call-runner.js";
import { failureFromBodyError, malformedStream } from "./failure-mapping.js";
import { joinTexts } from "./request-common.js";
import {
  argumentsDoneEventSchema,
  deltaEventSchema,
  errorEventSchema,
  eventTypeSchema,
  functionCallItemSchema,
  itemEventSchema,
  messageItemSchema,
  type ResponseObject,
  reasoningItemSchema,
  refusalDoneEventSchema,
  responseEventSchema,
  responseObjectSchema,
} from "./responses-wire-schemas.js";
import { emptyUsage, type MappedUsage, responsesUsage } from "./usage-mapping.js";
import { parseWire } from "./wire-parsing.js";

interface MessageState {
  readonly kind: "message";
  itemId: string | undefined;
  status: string | undefined;
  phase: ResponseMeta["phase"];
  text: string;
  /**
   * The text of the item's `refusal` content parts. A refusal is not an answer: it stays out of the
   * text, the parts and the stream, and ends the response `content_filter` with it as the diagnostic.
   */
  refusal: string;
  /** Text of this item reached the stream (then `done` adds nothing). */
  streamed: boolean;
}

interface ReasoningState {
  readonly kind: "reasoning";
  itemId: string | undefined;
  summary: string[];
  content: string;
  encryptedContent: string | undefined;
  /** Display text of this item reached the stream as `reasoning_delta`s. */
  streamed: boolean;
}

interface CallState {
  readonly kind: "function_call";
  itemId: string | undefined;
  callId: string | undefined;
  name: string | undefined;
  argumentsText: string;
}

/** An item of a kind lash has no part for (web search, image generation, ...): kept for ordering only. */
interface OtherState {
  readonly kind: "other";
}

type ItemState = MessageState | ReasoningState | CallState | OtherState;
type ItemKind = ItemState["kind"];

/** Past this many characters of arguments a call is a runaway (or hostile) stream. */
const LONGEST_ARGUMENTS = 10_000_000;

function newItem(kind: ItemKind): ItemState {
  switch (kind) {
    case "message":
      return { kind, itemId: undefined, status: undefined, phase: undefined, text: "", refusal: "", streamed: false };
    case "reasoning":
      return { kind, itemId: undefined, summary: [], content: "", encryptedContent: undefined, streamed: false };
    case "function_call":
      return { kind, itemId: undefined, callId: undefined, name: undefined, argumentsText: "" };
    case "other":
      return { kind };
  }
}

function phaseOf(value: string | null | undefined): ResponseMeta["phase"] {
  return value === "commentary" || value === "final_answer" ? value : undefined;
}

/**
 * Reads an output item by its `type`: a known kind must have fields of the right types (the error
 * names the bad one); an unknown kind becomes an `other` item.
 */
function parseOutputItem(value: unknown, what: string): ItemState {
  const { type } = parseWire(eventTypeSchema, value, what);
  switch (type) {
    case "message": {
      const item = parseWire(messageItemSchema, value, what);
      let text = "";
      let refusal = "";
      for (const content of item.content ?? []) {
        // A `refusal` part carries its text in `refusal`; a part without a type is read by its fields.
        if (content.type === "refusal") refusal += content.refusal ?? "";
        else if (typeof content.text === "string") text += content.text;
        else if (typeof content.refusal === "string") refusal += content.refusal;
      }
      return {
        kind: "message",
        itemId: item.id ?? undefined,
        status: item.status ?? undefined,
        phase: phaseOf(item.phase),
        text,
        refusal,
        streamed: false,
      };
    }
    case "reasoning": {
      const item = parseWire(reasoningItemSchema, value, what);
      return {
        kind: "reasoning",
        itemId: item.id ?? undefined,
        summary: (item.summary ?? []).map((entry) => entry.text ?? ""),
        content: (item.content ?? []).map((entry) => entry.text ?? "").join(""),
        encryptedContent: item.encrypted_content ?? undefined,
        streamed: false,
      };
    }
    case "function_call": {
      const item = parseWire(functionCallItemSchema, value, what);
      return {
        kind: "function_call",
        itemId: item.id ?? undefined,
        callId: item.call_id ?? undefined,
        name: item.name ?? undefined,
        argumentsText: item.arguments ?? "",
      };
    }
    default:
      return { kind: "other" };
  }
}

function reasoningText(item: ReasoningState): string {
  const summary = joinTexts(item.summary);
  return summary !== "" ? summary : item.content;
}

function textPart(item: MessageState, text: string): LlmOutputPart {
  const meta: ResponseMeta = {};
  if (item.itemId !== undefined) meta.id = item.itemId;
  if (item.status !== undefined) meta.status = item.status;
  if (item.phase !== undefined) meta.phase = item.phase;
  return Object.keys(meta).length === 0 ? { type: "text", text } : { type: "text", text, responseMeta: meta };
}

function reasoningPart(item: ReasoningState): LlmOutputPart {
  const replay: ReasoningReplay = { redacted: false, summary: item.summary.filter((text) => text !== "") };
  if (item.itemId !== undefined) replay.itemId = item.itemId;
  if (item.encryptedContent !== undefined) replay.encryptedContent = item.encryptedContent;
  return { type: "reasoning", text: reasoningText(item), replay };
}

function toolCallPart(item: CallState, outputIndex: number): LlmOutputPart {
  const part: LlmOutputPart = {
    type: "tool_call",
    callId: item.callId ?? item.itemId ?? `call_${outputIndex}`,
    toolName: item.name ?? "",
    inputJson: item.argumentsText,
  };
  if (item.itemId !== undefined) part.replay = { itemId: item.itemId };
  return part;
}

/** The part of a finished item (none for unknown kinds, empty text and empty reasoning). */
function partOf(item: ItemState, outputIndex: number): LlmOutputPart | undefined {
  switch (item.kind) {
    case "message":
      return item.text === "" ? undefined : textPart(item, item.text);
    case "reasoning":
      return reasoningText(item) === "" && item.encryptedContent === undefined && item.itemId === undefined
        ? undefined
        : reasoningPart(item);
    case "function_call":
      return toolCallPart(item, outputIndex);
    case "other":
      return undefined;
  }
}

/** How the response ended, from a terminal event or a whole response. */
interface Conclusion {
  readonly status: string;
  readonly incompleteReason: string | undefined;
  readonly response: ResponseObject;
}

/**
 * The state of one Responses API response: its output items by `output_index`, filled by the
 * stream's `output_item.added` / delta / `output_item.done` events (or by a whole response), and
 * how it concluded.
 */
class ResponsesState {
  readonly #items = new Map<number, ItemState>();
  readonly #indexOfItemId = new Map<string, number>();
  conclusion: Conclusion | undefined;
  usage: MappedUsage | undefined;

  /** The item an event is about: by `output_index`, else by `item_id`, else a new one. */
  #itemFor(outputIndex: number | null | undefined, itemId: string | null | undefined, kind: ItemKind): { item: ItemState; index: number } {
    let index = typeof outputIndex === "number" ? outputIndex : itemId ? this.#indexOfItemId.get(itemId) : undefined;
    if (index === undefined) index = this.#items.size === 0 ? 0 : Math.max(...this.#items.keys()) + 1;
    let item = this.#items.get(index);
    if (item === undefined || (item.kind !== kind && item.kind === "other")) {
      item = newItem(kind);
      if (itemId && item.kind !== "other") item.itemId = itemId;
      this.#set(index, item);
    }
    return { item, index };
  }

  #set(index: number, item: ItemState): void {
    this.#items.set(index, item);
    if (item.kind !== "other" && item.itemId !== undefined) this.#indexOfItemId.set(item.itemId, index);
  }

  added(outputIndex: number | null | undefined, rawItem: unknown): void {
    const item = parseOutputItem(rawItem, "response.output_item.added item");
    const index = typeof outputIndex === "number" ? outputIndex : this.#items.size;
    this.#set(index, item);
  }

  textDelta(outputIndex: number | null | undefined, itemId: string | null | undefined, delta: string): LlmStreamEvent[] {
    const { item } = this.#itemFor(outputIndex, itemId, "message");
    if (item.kind !== "message" || delta === "") return [];
    item.text += delta;
    item.streamed = true;
    // With an item id the runtime keeps each message (commentary, final answer) a block of its own.
    return item.itemId === undefined ? [{ type: "delta", text: delta }] : [{ type: "part", part: textPart(item, delta) }];
  }

  summaryDelta(
    outputIndex: number | null | undefined,
    itemId: string | null | undefined,
    summaryIndex: number,
    delta: string,
  ): LlmStreamEvent[] {
    const { item } = this.#itemFor(outputIndex, itemId, "reasoning");
    if (item.kind !== "reasoning" || delta === "") return [];
    item.streamed = true;
    while (item.summary.length <= summaryIndex) item.summary.push("");
    // The summary parts read as paragraphs; the streamed display text gets the same break.
    const separator = item.summary[summaryIndex] === "" && item.summary.slice(0, summaryIndex).some((text) => text !== "") ? "\n\n" : "";
    item.summary[summaryIndex] += delta;
    return [{ type: "reasoning_delta", text: separator + delta }];
  }

  reasoningTextDelta(outputIndex: number | null | undefined, itemId: string | null | undefined, delta: string): LlmStreamEvent[] {
    const { item } = this.#itemFor(outputIndex, itemId, "reasoning");
    if (item.kind !== "reasoning" || delta === "") return [];
    item.streamed = true;
    item.content += delta;
    return [{ type: "reasoning_delta", text: delta }];
  }

  /**
   * Refusal text of a message item: kept for the diagnostic, never streamed. `replace` takes the
   * whole text (`response.refusal.done`) instead of a piece.
   */
  refusalText(outputIndex: number | null | undefined, itemId: string | null | undefined, text: string, replace: boolean): void {
    const { item } = this.#itemFor(outputIndex, itemId, "message");
    if (item.kind !== "message") return;
    item.refusal = replace ? text : item.refusal + text;
  }

  argumentsDelta(outputIndex: number | null | undefined, itemId: string | null | undefined, delta: string, replace: boolean): void {
    const { item } = this.#itemFor(outputIndex, itemId, "function_call");
    if (item.kind !== "function_call") return;
    const length = replace ? delta.length : item.argumentsText.length + delta.length;
    if (length > LONGEST_ARGUMENTS) throw malformedStream(`the arguments of a function call grew past ${LONGEST_ARGUMENTS} characters`);
    item.argumentsText = replace ? delta : item.argumentsText + delta;
  }

  /** An item is complete: its final form replaces what streamed, and its part reaches the stream. */
  done(outputIndex: number | null | undefined, rawItem: unknown): LlmStreamEvent[] {
    const final = parseOutputItem(rawItem, "response.output_item.done item");
    const itemId = final.kind === "other" ? undefined : final.itemId;
    const { item: streamed, index } = this.#itemFor(outputIndex, itemId, final.kind);
    if (final.kind === "message" && streamed.kind === "message") {
      final.streamed = streamed.streamed;
      // A done item without content (some servers) keeps what streamed.
      if (final.text === "") final.text = streamed.text;
      if (final.refusal === "") final.refusal = streamed.refusal;
    }
    if (final.kind === "reasoning" && streamed.kind === "reasoning") {
      if (final.summary.every((text) => text === "")) final.summary = streamed.summary;
      if (final.content === "") final.content = streamed.content;
      final.streamed = streamed.streamed;
    }
    if (final.kind === "function_call" && streamed.kind === "function_call") {
      final.callId ??= streamed.callId;
      final.name ??= streamed.name;
      if (final.argumentsText === "") final.argumentsText = streamed.argumentsText;
    }
    this.#set(index, final);
    switch (final.kind) {
      case "message":
        return final.streamed || final.text === "" ? [] : [{ type: "part", part: textPart(final, final.text) }];
      case "reasoning": {
        const part = partOf(final, index);
        if (part?.type !== "reasoning") return [];
        // Text already streamed as deltas is not repeated: the part then only brings the replay data,
        // which the runtime attaches to the reasoning it accumulated.
        return [{ type: "part", part: final.streamed ? { ...part, text: "" } : part }];
      }
      case "function_call": {
        const part = partOf(final, index);
        return part === undefined ? [] : [{ type: "part", part }];
      }
      case "other":
        return [];
    }
  }

  conclude(response: ResponseObject, eventType: string): LlmStreamEvent[] {
    const status = response.status ?? (eventType === "response.incomplete" ? "incomplete" : "completed");
    this.conclusion = { status, incompleteReason: response.incomplete_details?.reason ?? undefined, response };
    // The final output fills in items the stream never showed (the ChatGPT backend sends an empty list).
    const output = response.output ?? [];
    output.forEach((rawItem, index) => {
      if (!this.#items.has(index)) this.#set(index, parseOutputItem(rawItem, `response.output.${index}`));
    });
    if (response.usage === undefined || response.usage === null) return [];
    const usage = responsesUsage(response.usage);
    if (usage === undefined) throw malformedStream("response.usage: expected an object");
    this.usage = usage;
    return [{ type: "usage", usage: usage.usage }];
  }

  parts(): LlmOutputPart[] {
    const parts: LlmOutputPart[] = [];
    for (const index of [...this.#items.keys()].sort((left, right) => left - right)) {
      const item = this.#items.get(index);
      const part = item === undefined ? undefined : partOf(item, index);
      if (part !== undefined) parts.push(part);
    }
    return parts;
  }

  /** The refusal text of every message item, in output order. */
  #refusal(): string {
    const refusals: string[] = [];
    for (const index of [...this.#items.keys()].sort((left, right) => left - right)) {
      const item = this.#items.get(index);
      if (item?.kind === "message" && item.refusal !== "") refusals.push(item.refusal);
    }
    return joinTexts(refusals);
  }

  response(): LlmResponse {
    const parts = this.parts();
    let fullText = "";
    // The text parts joined as they streamed (no separator), so the deltas add up to `fullText`.
    for (const part of parts) if (part.type === "text") fullText += part.text;
    const terminal = this.#terminal(parts);
    const response: LlmResponse = {
      fullText,
      parts,
      usage: this.usage?.usage ?? emptyUsage(),
      terminalReason: terminal.reason,
    };
    if (this.usage?.providerUsage !== undefined) response.providerUsage = this.usage.providerUsage;
    if (terminal.diagnostic !== undefined) response.terminalDiagnostic = terminal.diagnostic;
    return response;
  }

  /**
   * Why the response ended: a refusal is `content_filter` (the response itself is `completed`); an
   * `incomplete` response by its reason, `unknown` when the reason is missing, stop-like or one the
   * table does not know; a `completed` one `tool_use` with function calls, else `stop`. Any other
   * status (`in_progress`, `queued`, a new one) is `unknown`, calls or not: the output may be partial.
   */
  #terminal(parts: readonly LlmOutputPart[]): { readonly reason: LlmTerminalReason; readonly diagnostic?: string } {
    const refusal = this.#refusal();
    if (refusal !== "") return { reason: "content_filter", diagnostic: `The model refused: ${refusal}` };
    const conclusion = this.conclusion;
    if (conclusion?.status === "incomplete") {
      const incompleteReason = conclusion.incompleteReason;
      const reason = terminalReasonFromFinishReason(incompleteReason);
      if (reason !== "stop" && reason !== "unknown") return { reason, diagnostic: `The response is incomplete (${incompleteReason}).` };
      return {
        reason: "unknown",
        diagnostic:
          incompleteReason === undefined
            ? "The response is incomplete, for no reason given."
            : `The response is incomplete, for an unknown reason ${JSON.stringify(shortened(incompleteReason))}.`,
      };
    }
    if (conclusion?.status !== "completed") {
      const status = conclusion?.status;
      return {
        reason: "unknown",
        diagnostic:
          status === undefined
            ? "The provider ended the response without a status."
            : `The provider ended the response with an unknown status ${JSON.stringify(shortened(status))}.`,
      };
    }
    return { reason: parts.some((part) => part.type === "tool_call") ? "tool_use" : "stop" };
  }
}

/** A server-chosen string shown in a diagnostic, cut to a length a message can carry. */
function shortened(value: string): string {
  return value.length > 64 ? `${value.slice(0, 64)}…` : value;
}

function failedResponse(response: ResponseObject): ProviderCallError {
  if (response.error !== undefined && response.error !== null) {
    return new ProviderCallError(failureFromBodyError(response.error, "the response failed"));
  }
  return new ProviderCallError(
    classifyProviderFailure({
      kind: "unknown",
      code: "response_failed",
      message: `the response ended with status ${JSON.stringify(response.status)}`,
      retryable: false,
    }),
  );
}

const FAILED_STATUSES = new Set(["failed", "cancelled"]);

/**
 * Decodes a Responses API event stream: text deltas (as `part` events carrying the message's item
 * id and phase), reasoning summary and reasoning text deltas, reasoning items with their encrypted
 * content and function calls as `part` events once each item is done, the usage, and the final
 * response. `response.failed` and `error` events fail the call with the server's error; the
 * completion signal is `response.completed` / `response.incomplete`, and the body is not read past it.
 */
export function createResponsesStreamDecoder(): StreamDecoder {
  const state = new ResponsesState();
  return {
    completion: { name: "response.completed", isReached: () => state.conclusion !== undefined },
    // Anything after the conclusion is not part of this response.
    ended: () => state.conclusion !== undefined,
    accept(event: unknown): readonly LlmStreamEvent[] {
      const { type } = parseWire(eventTypeSchema, event, "response stream event");
      if (state.conclusion !== undefined) return [];
      switch (type) {
        case "response.output_item.added": {
          const added = parseWire(itemEventSchema, event, type);
          state.added(added.output_index, added.item);
          return [];
        }
        case "response.output_item.done": {
          const done = parseWire(itemEventSchema, event, type);
          return state.done(done.output_index, done.item);
        }
        case "response.output_text.delta": {
          const delta = parseWire(deltaEventSchema, event, type);
          return state.textDelta(delta.output_index, delta.item_id, delta.delta);
        }
        case "response.refusal.delta": {
          const delta = parseWire(deltaEventSchema, event, type);
          state.refusalText(delta.output_index, delta.item_id, delta.delta, false);
          return [];
        }
        case "response.refusal.done": {
          const done = parseWire(refusalDoneEventSchema, event, type);
          state.refusalText(done.output_index, done.item_id, done.refusal, true);
          return [];
        }
        case "response.reasoning_summary_text.delta": {
          const delta = parseWire(deltaEventSchema, event, type);
          return state.summaryDelta(delta.output_index, delta.item_id, delta.summary_index ?? 0, delta.delta);
        }
        case "response.reasoning_text.delta": {
          const delta = parseWire(deltaEventSchema, event, type);
          return state.reasoningTextDelta(delta.output_index, delta.item_id, delta.delta);
        }
        case "response.function_call_arguments.delta": {
          const delta = parseWire(deltaEventSchema, event, type);
          state.argumentsDelta(delta.output_index, delta.item_id, delta.delta, false);
          return [];
        }
        case "response.function_call_arguments.done": {
          const done = parseWire(argumentsDoneEventSchema, event, type);
          state.argumentsDelta(done.output_index, done.item_id, done.arguments, true);
          return [];
        }
        case "response.completed":
        case "response.incomplete":
          return state.conclude(parseWire(responseEventSchema, event, type).response, type);
        case "response.failed":
          throw failedResponse(parseWire(responseEventSchema, event, type).response);
        case "error": {
          const error = parseWire(errorEventSchema, event, type);
          throw new ProviderCallError(failureFromBodyError({ code: error.code, message: error.message }, "the server reported an error"));
        }
        default:
          // `response.created`, `content_part.*`, `*.done` texts, tool kinds lash does not map, ...
          return [];
      }
    },
    finish() {
      return { events: [], response: state.response() };
    },
  };
}

/** Decodes a whole (not streamed) Responses API response. */
export function decodeResponse(body: unknown): LlmResponse {
  const response = parseWire(responseObjectSchema, body, "response");
  if (FAILED_STATUSES.has(response.status ?? "") || (response.error !== undefined && response.error !== null)) {
    throw failedResponse(response);
  }
  const state = new ResponsesState();
  state.conclude(response, "response.completed");
  return state.response();
}
