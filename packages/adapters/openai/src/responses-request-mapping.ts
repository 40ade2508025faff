import type { JsonValue, LlmBlock, LlmMessage, LlmRequest } from "@lash/protocol";
import type OpenAI from "openai";
import { imageDataUrl, joinTexts, modelOf } from "./request-common.js";

type InputItem = OpenAI.Responses.ResponseInputItem;
type InputContent = OpenAI.Responses.ResponseInputContent;
type ResponsesBody = OpenAI.Responses.ResponseCreateParams;

/** What the Responses request mapping needs from the provider's options. */
export interface ResponsesRequestSettings {
  readonly providerId: string;
  readonly defaultModel: string | undefined;
  readonly maxOutputTokens: number | undefined;
  readonly stream: boolean;
  /** `store` of every request; `false` keeps nothing on the server (reasoning then travels encrypted). */
  readonly store: boolean;
  /** Reasoning effort when the request names no `modelVariant`; none sent when both are absent. */
  readonly reasoningEffort: string | undefined;
  /** `reasoning.summary` (`auto`, `concise`, `detailed`); none sent when absent. */
  readonly reasoningSummary: "auto" | "concise" | "detailed" | undefined;
  /** Send the session id as `prompt_cache_key`, so the calls of one session share a cache. */
  readonly sessionCacheKey: boolean;
  readonly extraBody: Readonly<Record<string, JsonValue>>;
}

function textsOf(blocks: readonly LlmBlock[]): string[] {
  const texts: string[] = [];
  for (const block of blocks) if (block.type === "text") texts.push(block.text);
  return texts;
}

/** Tool results become `function_call_output` items; text and images one user message after them. */
function userItems(message: LlmMessage, request: LlmRequest): InputItem[] {
  const outputs: InputItem[] = [];
  const content: InputContent[] = [];
  for (const block of message.blocks) {
    switch (block.type) {
      case "tool_result":
        outputs.push({ type: "function_call_output", call_id: block.callId, output: block.content });
        break;
      case "text":
        if (block.text !== "") content.push({ type: "input_text", text: block.text });
        break;
      case "image":
        content.push({ type: "input_image", image_url: imageDataUrl(request, block.attachmentIndex), detail: "auto" });
        break;
      case "tool_call":
      case "reasoning":
        // Only the model produces these; a user message carrying one has nothing to send.
        break;
    }
  }
  if (content.length > 0) outputs.push({ type: "message", role: "user", content });
  return outputs;
}

/**
 * An assistant message, block by block in its order: reasoning items that can be replayed (their
 * encrypted content, with `store: false` the only way the server sees them again), text as assistant
 * messages keeping their `phase`, tool calls as `function_call` items. Item ids of messages and
 * calls are left out: with `store: false` the server holds nothing they could refer to.
 */
function assistantItems(message: LlmMessage): InputItem[] {
  const items: InputItem[] = [];
  for (const block of message.blocks) {
    switch (block.type) {
      case "reasoning": {
        const replay = block.replay;
        if (replay?.encryptedContent === undefined || replay.itemId === undefined) break;
        const summary = replay.summary.length > 0 ? replay.summary : block.text === "" ? [] : [block.text];
        items.push({
          type: "reasoning",
          id: replay.itemId,
          summary: summary.map((text) => ({ type: "summary_text", text })),
          encrypted_content: replay.encryptedContent,
        });
        break;
      }
      case "text":
        if (block.text === "") break;
        items.push(
          block.responseMeta?.phase === undefined
            ? { type: "message", role: "assistant", content: block.text }
            : { type: "message", role: "assistant", content: block.text, phase: block.responseMeta.phase },
        );
        break;
      case "tool_call":
        items.push({ type: "function_call", call_id: block.callId, name: block.toolName, arguments: block.inputJson });
        break;
      case "image":
      case "tool_result":
        break;
    }
  }
  return items;
}

/** The instructions (the leading system messages) and the input items of a request. */
export function responsesInput(request: LlmRequest): { instructions: string | undefined; input: InputItem[] } {
  const instructions: string[] = [];
  const input: InputItem[] = [];
  let leading = true;
  for (const message of request.messages) {
    if (message.role === "system") {
      const text = joinTexts(textsOf(message.blocks));
      if (text === "") continue;
      // The system prompt goes in `instructions` (the ChatGPT backend requires it); a runtime note
      // later in the conversation stays where it was said.
      if (leading) instructions.push(text);
      else input.push({ type: "message", role: "system", content: text });
      continue;
    }
    leading = false;
    if (message.role === "user") input.push(...userItems(message, request));
    else input.push(...assistantItems(message));
  }
  const joined = joinTexts(instructions);
  return { instructions: joined === "" ? undefined : joined, input };
}

function textFormat(request: LlmRequest): OpenAI.Responses.ResponseFormatTextConfig | undefined {
  const spec = request.outputSpec;
  if (spec === undefined) return undefined;
  if (spec.type === "json_object") return { type: "json_object" };
  return { type: "json_schema", name: spec.name, schema: spec.schema, strict: spec.strict };
}

/**
 * The Responses body of a request: instructions and input items, function tools, `tool_choice`
 * (only with tools), `text.format` from `outputSpec`, the output limit, reasoning settings, and
 * `store` with `include: ["reasoning.encrypted_content"]`, so that reasoning can be replayed on the
 * next call without `previous_response_id`.
 */
export function responsesRequestBody(request: LlmRequest, settings: ResponsesRequestSettings): ResponsesBody {
  const { instructions, input } = responsesInput(request);
  const body: Omit<OpenAI.Responses.ResponseCreateParamsNonStreaming, "stream"> = {
    ...settings.extraBody,
    model: modelOf(request, settings.defaultModel, settings.providerId),
    input,
    store: settings.store,
    include: ["reasoning.encrypted_content"],
  };
  if (instructions !== undefined) body.instructions = instructions;
  if (request.tools.length > 0) {
    body.tools = request.tools.map((tool) => ({
      type: "function",
      name: tool.name,
      description: tool.description,
      parameters: tool.inputSchema,
      // Strict mode rewrites what a schema may say (every property required, no extras): opt-in only.
      strict: false,
    }));
    body.tool_choice = request.toolChoice;
  }
  const format = textFormat(request);
  if (format !== undefined) body.text = { format };
  if (settings.maxOutputTokens !== undefined) body.max_output_tokens = settings.maxOutputTokens;
  const effort = request.modelVariant ?? settings.reasoningEffort;
  if (effort !== undefined || settings.reasoningSummary !== undefined) {
    body.reasoning = {
      // Free text in lash; the server rejects an effort it does not know.
      ...(effort === undefined ? {} : { effort: effort as OpenAI.ReasoningEffort }),
      ...(settings.reasoningSummary === undefined ? {} : { summary: settings.reasoningSummary }),
    };
  }
  if (settings.sessionCacheKey && request.sessionId !== undefined && request.sessionId !== "") {
    body.prompt_cache_key = request.sessionId;
  }
  return settings.stream ? { ...body, stream: true } : { ...body, stream: false };
}
