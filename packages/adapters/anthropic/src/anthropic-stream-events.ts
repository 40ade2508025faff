import { z } from "zod";
import type { AnthropicStopDetails } from "./anthropic-terminal-reason.js";
import type { AnthropicUsageCounts } from "./anthropic-usage.js";

/*
 * The Messages stream events this adapter reads, validated field by field: the stream comes from
 * the network, so nothing is used before it has the expected type. The objects are loose because
 * the API adds fields over time; unknown event, block and delta types are recognised by their
 * `type` and skipped by the mapping (the API's own forward-compatibility rule).
 */

const tokenCount = z.number().int().nonnegative();

const usageSchema = z.looseObject({
  input_tokens: tokenCount.nullish(),
  output_tokens: tokenCount.nullish(),
  cache_creation_input_tokens: tokenCount.nullish(),
  cache_read_input_tokens: tokenCount.nullish(),
  cache_creation: z
    .looseObject({ ephemeral_5m_input_tokens: tokenCount.nullish(), ephemeral_1h_input_tokens: tokenCount.nullish() })
    .nullish(),
  output_tokens_details: z.looseObject({ thinking_tokens: tokenCount.nullish() }).nullish(),
});
type WireUsage = z.infer<typeof usageSchema>;

const blockIndex = z.number().int().nonnegative();

const eventTypeSchema = z.looseObject({ type: z.string() });

const messageStartSchema = z.looseObject({
  message: z.looseObject({
    id: z.string().optional(),
    model: z.string().optional(),
    usage: usageSchema.nullish(),
  }),
});

const contentBlockStartSchema = z.looseObject({
  index: blockIndex,
  content_block: z.looseObject({ type: z.string() }),
});

const textBlockSchema = z.looseObject({ text: z.string().default("") });
const thinkingBlockSchema = z.looseObject({ thinking: z.string().default(""), signature: z.string().nullish() });
const redactedThinkingBlockSchema = z.looseObject({ data: z.string() });
const toolUseBlockSchema = z.looseObject({ id: z.string().min(1), name: z.string().min(1), input: z.unknown().optional() });

const contentBlockDeltaSchema = z.looseObject({
  index: blockIndex,
  delta: z.looseObject({ type: z.string() }),
});
const textDeltaSchema = z.looseObject({ text: z.string() });
const inputJsonDeltaSchema = z.looseObject({ partial_json: z.string() });
const thinkingDeltaSchema = z.looseObject({ thinking: z.string() });
const signatureDeltaSchema = z.looseObject({ signature: z.string() });

const contentBlockStopSchema = z.looseObject({ index: blockIndex });

/**
 * `stop_details` only explains a stop (a refusal's category and explanation): details of an odd
 * shape are dropped rather than failing a response that is otherwise whole.
 */
const stopDetailsSchema = z.looseObject({ category: z.string().nullish(), explanation: z.string().nullish() }).nullish().catch(undefined);

const messageDeltaSchema = z.looseObject({
  delta: z
    .looseObject({ stop_reason: z.string().nullish(), stop_sequence: z.string().nullish(), stop_details: stopDetailsSchema })
    .optional(),
  usage: usageSchema.nullish(),
});

const errorEventSchema = z.looseObject({
  error: z.looseObject({ type: z.string().optional(), message: z.string().optional() }).optional(),
});

/** A content block as it starts. */
export type AnthropicBlockStart =
  | { readonly type: "text"; readonly text: string }
  | { readonly type: "thinking"; readonly thinking: string; readonly signature: string }
  | { readonly type: "redacted_thinking"; readonly data: string }
  | { readonly type: "tool_use"; readonly id: string; readonly name: string; readonly input: unknown }
  /** Server tools, results and anything newer: kept in order, never mapped. */
  | { readonly type: "other"; readonly wireType: string };

/** An increment of a content block. */
export type AnthropicBlockDelta =
  | { readonly type: "text_delta"; readonly text: string }
  | { readonly type: "input_json_delta"; readonly partialJson: string }
  | { readonly type: "thinking_delta"; readonly thinking: string }
  | { readonly type: "signature_delta"; readonly signature: string }
  | { readonly type: "other"; readonly wireType: string };

/** A validated stream event. */
export type AnthropicStreamEvent =
  | {
      readonly type: "message_start";
      readonly id: string | undefined;
      readonly model: string | undefined;
      readonly usage: AnthropicUsageCounts;
    }
  | { readonly type: "content_block_start"; readonly index: number; readonly block: AnthropicBlockStart }
  | { readonly type: "content_block_delta"; readonly index: number; readonly delta: AnthropicBlockDelta }
  | { readonly type: "content_block_stop"; readonly index: number }
  | {
      readonly type: "message_delta";
      readonly stopReason: string | undefined;
      /** Present when the API explained the stop (a refusal's `stop_details`). */
      readonly stopDetails: AnthropicStopDetails | undefined;
      readonly usage: AnthropicUsageCounts;
    }
  | { readonly type: "message_stop" }
  | { readonly type: "ping" }
  | { readonly type: "error"; readonly errorType: string | undefined; readonly message: string | undefined }
  | { readonly type: "other"; readonly wireType: string };

/** Why an event could not be read; the message names the event and the field. */
export class MalformedStreamEventError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MalformedStreamEventError";
  }
}

function parseWith<T>(schema: z.ZodType<T>, value: unknown, eventType: string): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const path = issue === undefined || issue.path.length === 0 ? "(event)" : issue.path.join(".");
  throw new MalformedStreamEventError(`malformed ${eventType} event: ${path}: ${issue?.message ?? "invalid"}`);
}

function definedCount(value: number | null | undefined): number | undefined {
  return value ?? undefined;
}

function usageCounts(usage: WireUsage | null | undefined): AnthropicUsageCounts {
  if (usage === null || usage === undefined) return {};
  const counts: AnthropicUsageCounts = {};
  const assign = (key: keyof AnthropicUsageCounts, value: number | null | undefined): void => {
    const count = definedCount(value);
    if (count !== undefined) counts[key] = count;
  };
  assign("inputTokens", usage.input_tokens);
  assign("outputTokens", usage.output_tokens);
  assign("cacheCreationInputTokens", usage.cache_creation_input_tokens);
  assign("cacheReadInputTokens", usage.cache_read_input_tokens);
  assign("cacheCreation5mInputTokens", usage.cache_creation?.ephemeral_5m_input_tokens);
  assign("cacheCreation1hInputTokens", usage.cache_creation?.ephemeral_1h_input_tokens);
  assign("thinkingTokens", usage.output_tokens_details?.thinking_tokens);
  return counts;
}

function blockStart(value: unknown): AnthropicBlockStart {
  const { content_block: block } = parseWith(contentBlockStartSchema, value, "content_block_start");
  switch (block.type) {
    case "text":
      return { type: "text", text: parseWith(textBlockSchema, block, "content_block_start (text)").text };
    case "thinking": {
      const thinking = parseWith(thinkingBlockSchema, block, "content_block_start (thinking)");
      return { type: "thinking", thinking: thinking.thinking, signature: thinking.signature ?? "" };
    }
    case "redacted_thinking":
      return {
        type: "redacted_thinking",
        data: parseWith(redactedThinkingBlockSchema, block, "content_block_start (redacted_thinking)").data,
      };
    case "tool_use": {
      const toolUse = parseWith(toolUseBlockSchema, block, "content_block_start (tool_use)");
      return { type: "tool_use", id: toolUse.id, name: toolUse.name, input: toolUse.input };
    }
    default:
      return { type: "other", wireType: block.type };
  }
}

function blockDelta(value: unknown): AnthropicBlockDelta {
  const { delta } = parseWith(contentBlockDeltaSchema, value, "content_block_delta");
  switch (delta.type) {
    case "text_delta":
      return { type: "text_delta", text: parseWith(textDeltaSchema, delta, "content_block_delta (text_delta)").text };
    case "input_json_delta":
      return {
        type: "input_json_delta",
        partialJson: parseWith(inputJsonDeltaSchema, delta, "content_block_delta (input_json_delta)").partial_json,
      };
    case "thinking_delta":
      return { type: "thinking_delta", thinking: parseWith(thinkingDeltaSchema, delta, "content_block_delta (thinking_delta)").thinking };
    case "signature_delta":
      return {
        type: "signature_delta",
        signature: parseWith(signatureDeltaSchema, delta, "content_block_delta (signature_delta)").signature,
      };
    default:
      return { type: "other", wireType: delta.type };
  }
}

/**
 * Reads one event from its JSON data. The event type is the data's `type` (the API always sends
 * it; the SSE `event:` name repeats it and is only the fallback).
 *
 * @throws MalformedStreamEventError when the data is not JSON or a field the adapter reads has the
 *   wrong type.
 */
export function parseAnthropicStreamEvent(data: string, eventName: string | undefined): AnthropicStreamEvent {
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    const preview = data.length > 120 ? `${data.slice(0, 120)}…` : data;
    throw new MalformedStreamEventError(`stream event data is not JSON: ${JSON.stringify(preview)}`);
  }
  const typed = eventTypeSchema.safeParse(value);
  const type = typed.success ? typed.data.type : eventName;
  if (type === undefined) throw new MalformedStreamEventError("stream event has no type");
  switch (type) {
    case "message_start": {
      const { message } = parseWith(messageStartSchema, value, type);
      return { type, id: message.id, model: message.model, usage: usageCounts(message.usage) };
    }
    case "content_block_start":
      return { type, index: parseWith(contentBlockStartSchema, value, type).index, block: blockStart(value) };
    case "content_block_delta":
      return { type, index: parseWith(contentBlockDeltaSchema, value, type).index, delta: blockDelta(value) };
    case "content_block_stop":
      return { type, index: parseWith(contentBlockStopSchema, value, type).index };
    case "message_delta": {
      const delta = parseWith(messageDeltaSchema, value, type);
      const details = delta.delta?.stop_details ?? undefined;
      const stopDetails =
        details === undefined ? undefined : { category: details.category ?? undefined, explanation: details.explanation ?? undefined };
      return { type, stopReason: delta.delta?.stop_reason ?? undefined, stopDetails, usage: usageCounts(delta.usage) };
    }
    case "message_stop":
      return { type };
    case "ping":
      return { type };
    case "error": {
      // An error event is reported even when its body is odd: the failure matters more than its shape.
      const parsed = errorEventSchema.safeParse(value);
      const error = parsed.success ? parsed.data.error : undefined;
      return { type, errorType: error?.type, message: error?.message };
    }
    default:
      return { type: "other", wireType: type };
  }
}
