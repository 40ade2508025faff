import type { JsonValue, LlmBlock, LlmMessage, LlmRequest } from "@lash/protocol";
import type OpenAI from "openai";
import { imageDataUrl, joinTexts, modelOf } from "./request-common.js";

type ChatMessage = OpenAI.Chat.ChatCompletionMessageParam;
type ChatContentPart = OpenAI.Chat.ChatCompletionContentPart;
type ChatBody = OpenAI.Chat.ChatCompletionCreateParams;

/** What the Chat Completions request mapping needs from the provider's options. */
export interface ChatRequestSettings {
  readonly providerId: string;
  readonly defaultModel: string | undefined;
  readonly maxOutputTokens: number | undefined;
  /** `max_completion_tokens` (OpenAI's current name) or `max_tokens` (older compatible servers). */
  readonly maxOutputTokensField: "max_completion_tokens" | "max_tokens";
  readonly stream: boolean;
  /** Ask for a final usage chunk (`stream_options.include_usage`). */
  readonly streamUsage: boolean;
  readonly extraBody: Readonly<Record<string, JsonValue>>;
}

function textsOf(blocks: readonly LlmBlock[]): string[] {
  const texts: string[] = [];
  for (const block of blocks) if (block.type === "text") texts.push(block.text);
  return texts;
}

/**
 * A user message becomes the `tool` messages of its tool results (they must directly follow the
 * assistant message that made the calls), then one user message with its text and images. Text
 * alone is sent as a string, which every compatible server accepts; images need content parts.
 */
function userMessages(message: LlmMessage, request: LlmRequest): ChatMessage[] {
  const toolMessages: ChatMessage[] = [];
  const parts: ChatContentPart[] = [];
  let hasImage = false;
  for (const block of message.blocks) {
    switch (block.type) {
      case "tool_result":
        toolMessages.push({ role: "tool", tool_call_id: block.callId, content: block.content });
        break;
      case "text":
        parts.push({ type: "text", text: block.text });
        break;
      case "image":
        hasImage = true;
        parts.push({ type: "image_url", image_url: { url: imageDataUrl(request, block.attachmentIndex) } });
        break;
      case "tool_call":
      case "reasoning":
        // Only the model produces these; a user message carrying one has nothing to send.
        break;
    }
  }
  const messages = toolMessages;
  if (hasImage) {
    messages.push({ role: "user", content: parts });
  } else {
    const text = joinTexts(textsOf(message.blocks));
    if (text !== "") messages.push({ role: "user", content: text });
  }
  return messages;
}

/**
 * An assistant message: its text and its tool calls. Reasoning is dropped: Chat Completions has no
 * way to send it back.
 */
function assistantMessage(message: LlmMessage): ChatMessage | undefined {
  const toolCalls: OpenAI.Chat.ChatCompletionMessageFunctionToolCall[] = [];
  for (const block of message.blocks) {
    if (block.type === "tool_call") {
      toolCalls.push({ id: block.callId, type: "function", function: { name: block.toolName, arguments: block.inputJson } });
    }
  }
  const text = joinTexts(textsOf(message.blocks));
  if (text === "" && toolCalls.length === 0) return undefined;
  if (toolCalls.length === 0) return { role: "assistant", content: text };
  return { role: "assistant", content: text === "" ? null : text, tool_calls: toolCalls };
}

/** The conversation in Chat Completions messages. */
export function chatMessages(request: LlmRequest): ChatMessage[] {
  const messages: ChatMessage[] = [];
  for (const message of request.messages) {
    switch (message.role) {
      case "system": {
        const text = joinTexts(textsOf(message.blocks));
        if (text !== "") messages.push({ role: "system", content: text });
        break;
      }
      case "user":
        messages.push(...userMessages(message, request));
        break;
      case "assistant": {
        const assistant = assistantMessage(message);
        if (assistant !== undefined) messages.push(assistant);
        break;
      }
    }
  }
  return messages;
}

function responseFormat(request: LlmRequest): OpenAI.Chat.ChatCompletionCreateParams["response_format"] {
  const spec = request.outputSpec;
  if (spec === undefined) return undefined;
  if (spec.type === "json_object") return { type: "json_object" };
  return { type: "json_schema", json_schema: { name: spec.name, schema: spec.schema, strict: spec.strict } };
}

/**
 * The Chat Completions body of a request: messages, function tools with their JSON Schema,
 * `tool_choice` (only with tools: OpenAI rejects it alone), `response_format` from `outputSpec`,
 * the output limit, `reasoning_effort` from `modelVariant`, and the streaming switches.
 */
export function chatRequestBody(request: LlmRequest, settings: ChatRequestSettings): ChatBody {
  const body: Omit<OpenAI.Chat.ChatCompletionCreateParamsNonStreaming, "stream"> = {
    ...settings.extraBody,
    model: modelOf(request, settings.defaultModel, settings.providerId),
    messages: chatMessages(request),
  };
  if (request.tools.length > 0) {
    body.tools = request.tools.map((tool) => ({
      type: "function",
      function: { name: tool.name, description: tool.description, parameters: tool.inputSchema },
    }));
    body.tool_choice = request.toolChoice;
  }
  const format = responseFormat(request);
  if (format !== undefined) body.response_format = format;
  if (settings.maxOutputTokens !== undefined) body[settings.maxOutputTokensField] = settings.maxOutputTokens;
  if (request.modelVariant !== undefined) {
    // Free text in lash; the server rejects an effort it does not know.
    body.reasoning_effort = request.modelVariant as OpenAI.ReasoningEffort;
  }
  if (!settings.stream) return { ...body, stream: false };
  return settings.streamUsage ? { ...body, stream: true, stream_options: { include_usage: true } } : { ...body, stream: true };
}
